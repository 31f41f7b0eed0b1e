// The CPU library's thread pool: fork-join over the cores, for kernels that split their work.
//
//   parallel_for(n, grain, fn)   fn(begin, end) over [0, n) in contiguous ranges, one per thread
//                                (fewer when n / grain is small); returns when all are done.
//   parallel_tasks(n, fn)        fn(task) for task ∈ [0, n), taken dynamically (uneven work).
//
// The calling thread works too. A parallel call made from inside a parallel region, or while
// another thread holds the pool (a second N-API environment), runs serially on its caller: the
// pool never deadlocks and kernels stay reentrant (no global state beyond the pool itself).
// An exception thrown by fn on any thread is rethrown on the caller.
#pragma once
#include <cstdint>
#include <utility>

namespace pb {
namespace cpu {

/** Threads a parallel region uses (the caller included); 1 = serial. */
int num_threads();
/** Sets the number of threads (clamped to [1, 256]); workers are started or stopped lazily. */
void set_num_threads(int n);
/** std::thread::hardware_concurrency() (≥ 1). */
int hardware_threads();
/** True inside a parallel region (nested calls run serially). */
bool in_parallel();

/** Runs invoke(ctx, chunk) for chunk ∈ [0, nchunks) on the pool; the type-erased core. */
void run_chunks(int64_t nchunks, void (*invoke)(void*, int64_t), void* ctx);

template <class F>
void parallel_tasks(int64_t ntasks, F&& fn) {
  if (ntasks <= 0) return;
  if (ntasks == 1 || num_threads() == 1 || in_parallel()) {
    for (int64_t t = 0; t < ntasks; t++) fn(t);
    return;
  }
  using Fn = std::remove_reference_t<F>;
  run_chunks(ntasks, [](void* ctx, int64_t t) { (*static_cast<Fn*>(ctx))(t); }, const_cast<void*>(static_cast<const void*>(&fn)));
}

template <class F>
void parallel_for(int64_t n, int64_t grain, F&& fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  int64_t chunks = (n + grain - 1) / grain;
  const int64_t threads = num_threads();
  if (chunks > threads) chunks = threads;
  if (chunks <= 1 || in_parallel()) {
    fn(int64_t{0}, n);
    return;
  }
  const int64_t per = n / chunks, extra = n % chunks;   // the first `extra` chunks get one more
  auto body = [&](int64_t c) {
    const int64_t begin = c * per + (c < extra ? c : extra);
    fn(begin, begin + per + (c < extra ? 1 : 0));
  };
  parallel_tasks(chunks, body);
}

}  // namespace cpu
}  // namespace pb
