// A small fork-join pool: persistent workers that spin briefly on a generation counter (a training
// step launches thousands of short regions: an LSTM time step is a few microseconds of work), then
// sleep on a condition variable. Chunks are claimed with an atomic counter.
#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax() { _mm_pause(); }
#elif defined(__aarch64__)
static inline void cpu_relax() { asm volatile("yield" ::: "memory"); }
#else
static inline void cpu_relax() {}
#endif

namespace pb {
namespace cpu {
namespace {

thread_local bool tl_in_parallel = false;

struct Pool {
  std::mutex busy;                       // one parallel region at a time (others run serially)
  std::mutex m;
  std::condition_variable wake;
  std::vector<std::thread> workers;
  std::atomic<uint64_t> generation{0};
  std::atomic<bool> stop{false};
  int threads = 0;                       // caller + workers; 0 = not configured yet

  // the current region
  void (*invoke)(void*, int64_t) = nullptr;
  void* ctx = nullptr;
  int64_t nchunks = 0;
  static constexpr int64_t kClosed = INT64_MAX / 2;
  std::atomic<int64_t> next{kClosed};
  std::atomic<int64_t> done{0};
  std::atomic<int> active{0};            // workers inside the current region
  std::exception_ptr error;
  std::mutex error_m;

  ~Pool() { resize_workers(0); }

  void work() {
    tl_in_parallel = true;
    for (;;) {
      const int64_t c = next.fetch_add(1, std::memory_order_acq_rel);
      if (c >= nchunks) break;
      try {
        invoke(ctx, c);
      } catch (...) {
        std::lock_guard<std::mutex> g(error_m);
        if (!error) error = std::current_exception();
      }
      done.fetch_add(1, std::memory_order_release);
    }
    tl_in_parallel = false;
  }

  void worker_loop() {
    uint64_t seen = generation.load(std::memory_order_acquire);
    for (;;) {
      // spin ~50 µs for the next region, then sleep
      uint64_t g = generation.load(std::memory_order_acquire);
      for (int spin = 0; g == seen && spin < 20000 && !stop.load(std::memory_order_relaxed); spin++) {
        cpu_relax();
        g = generation.load(std::memory_order_acquire);
      }
      if (g == seen) {
        std::unique_lock<std::mutex> lk(m);
        wake.wait(lk, [&] { return stop.load() || generation.load(std::memory_order_acquire) != seen; });
        g = generation.load(std::memory_order_acquire);
      }
      if (stop.load()) return;
      seen = g;
      active.fetch_add(1, std::memory_order_acq_rel);
      work();
      active.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  void resize_workers(int n_workers) {
    if (static_cast<int>(workers.size()) == n_workers) return;
    {
      std::lock_guard<std::mutex> lk(m);
      stop = true;
    }
    wake.notify_all();
    for (auto& t : workers) t.join();
    workers.clear();
    stop = false;
    for (int i = 0; i < n_workers; i++) workers.emplace_back([this] { worker_loop(); });
  }

  void run(int64_t n, void (*fn)(void*, int64_t), void* c) {
    std::unique_lock<std::mutex> own(busy, std::try_to_lock);
    if (!own.owns_lock()) {   // another thread's region is running: do this one serially
      for (int64_t i = 0; i < n; i++) fn(c, i);
      return;
    }
    resize_workers(threads - 1);
    // Publish the region's fields before `next` opens it: a worker that claims a chunk (acquire
    // on `next`) sees them, even one still waking up from the previous region.
    invoke = fn;
    ctx = c;
    nchunks = n;
    error = nullptr;
    done.store(0, std::memory_order_relaxed);
    next.store(0, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lk(m);
      generation.fetch_add(1, std::memory_order_acq_rel);
    }
    wake.notify_all();
    work();
    while (done.load(std::memory_order_acquire) < nchunks) cpu_relax();
    // every chunk is done; wait until no worker still reads this region's fields
    next.store(kClosed, std::memory_order_release);   // late wakers claim nothing
    while (active.load(std::memory_order_acquire) != 0) cpu_relax();
    if (error) {
      std::exception_ptr e = error;
      error = nullptr;
      std::rethrow_exception(e);
    }
  }
};

Pool& pool() {
  static Pool* p = new Pool();   // leaked on purpose: no joins in static destructors at exit
  return *p;
}

}  // namespace

int hardware_threads() {
  unsigned h = std::thread::hardware_concurrency();
  return h == 0 ? 1 : static_cast<int>(h);
}

int num_threads() {
  Pool& p = pool();
  if (p.threads == 0) p.threads = hardware_threads();
  return p.threads;
}

void set_num_threads(int n) {
  Pool& p = pool();
  std::lock_guard<std::mutex> own(p.busy);
  p.threads = std::max(1, std::min(n, 256));
  p.resize_workers(p.threads - 1);
}

bool in_parallel() { return tl_in_parallel; }

void run_chunks(int64_t nchunks, void (*invoke)(void*, int64_t), void* ctx) {
  Pool& p = pool();
  if (p.threads == 0) p.threads = hardware_threads();
  p.run(nchunks, invoke, ctx);
}

}  // namespace cpu
}  // namespace pb
