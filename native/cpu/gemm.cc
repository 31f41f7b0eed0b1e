// SGEMM front end: argument handling, instruction-set dispatch, the split over threads, and the
// scratch memory of the packing buffers. The blocked algorithm itself is gemm_kernel.h, compiled
// once per instruction set (gemm_avx512.cc, gemm_avx2.cc, gemm_generic.cc).
//
// Threads: a product large enough to pay for a fork-join is cut into one sub-product per thread,
// along N when A is the smaller operand (each thread packs all of A — M·K copies — and only its
// columns of B) or along M otherwise, on whole micro-tiles. The sub-products are independent
// (own packing buffers, disjoint parts of C), so the pool's single fork-join is the only sync.
#include "gemm.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "gemm_kernel.h"
#include "parallel.h"

namespace pb {
namespace cpu {
namespace gemm_detail {

namespace {

/** Per-thread packing buffers, grown on demand, freed when the thread exits. */
struct Scratch {
  float* p[2] = {nullptr, nullptr};
  size_t cap[2] = {0, 0};
  ~Scratch() {
    for (float* q : p) std::free(q);
  }
};
thread_local Scratch tl_scratch;

}  // namespace

float* scratch(int slot, size_t floats) {
  Scratch& s = tl_scratch;
  if (floats > s.cap[slot]) {
    std::free(s.p[slot]);
    s.p[slot] = nullptr;
    s.cap[slot] = 0;
    const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;   // aligned_alloc wants a multiple
    void* q = std::aligned_alloc(64, bytes);
    if (!q) throw std::bad_alloc();
    s.p[slot] = static_cast<float*>(q);
    s.cap[slot] = floats;
  }
  return s.p[slot];
}

namespace {

struct Isa {
  const char* name;
  void (*run)(const Problem&);
  const IsaInfo* info;
  bool (*supported)();
};

bool always() { return true; }
#if defined(PB_CPU_X86)
// __builtin_cpu_supports also checks that the OS saves the wider registers (XCR0)
bool has_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
bool has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
#endif

// best first
const Isa kIsas[] = {
#if defined(PB_CPU_X86)
    {"avx512", isa_avx512::run, &isa_avx512::info, has_avx512},
    {"avx2+fma", isa_avx2::run, &isa_avx2::info, has_avx2},
#endif
    {"generic", isa_generic::run, &isa_generic::info, always},
};
constexpr int kNumIsas = sizeof(kIsas) / sizeof(kIsas[0]);

int best_isa() {
  for (int i = 0; i < kNumIsas; i++)
    if (kIsas[i].supported()) return i;
  return kNumIsas - 1;
}

std::atomic<int>& active_isa() {
  static std::atomic<int> isa{best_isa()};   // chosen once, at the first use
  return isa;
}

/** C = beta·C over M×N (beta = 0 writes zeros without reading C). */
void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  if (beta == 1.f) return;
  for (int64_t i = 0; i < M; i++) {
    float* c = C + i * ldc;
    if (beta == 0.f) std::memset(c, 0, static_cast<size_t>(N) * sizeof(float));
    else for (int64_t j = 0; j < N; j++) c[j] *= beta;
  }
}

/** Columns [j0, j1) of the product: the same A, B and C shifted to column j0. */
Problem columns(const Problem& p, int64_t j0, int64_t j1) {
  Problem q = p;
  q.N = j1 - j0;
  q.B = p.transB ? p.B + j0 * p.ldb : p.B + j0;
  q.C = p.C + j0;
  return q;
}

/** Rows [i0, i1) of the product. */
Problem rows(const Problem& p, int64_t i0, int64_t i1) {
  Problem q = p;
  q.M = i1 - i0;
  q.A = p.transA ? p.A + i0 : p.A + i0 * p.lda;
  q.C = p.C + i0 * p.ldc;
  return q;
}

// Below this many multiply-adds a product runs on one thread: ~64³ at ~100 GFLOP/s is ~5 µs, the
// order of a fork-join's wake-up and join on the pool.
constexpr int64_t kParallelMinMacs = int64_t{64} * 64 * 64;
// The grid of tasks a large product is cut into (see sgemm).
constexpr int64_t kTasksPerThread = 2, kMinCols = 256, kMinRows = 128;

}  // namespace
}  // namespace gemm_detail

void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
           int64_t ldc) {
  using namespace gemm_detail;
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.f) {   // no product to add (BLAS semantics: A and B are not read)
    scale_c(M, N, beta, C, ldc);
    return;
  }
  const Isa& isa = kIsas[active_isa().load(std::memory_order_relaxed)];
  const Problem p{transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc};
  const int64_t threads = num_threads();
  if (threads <= 1 || in_parallel() || M * N * K < kParallelMinMacs) {
    isa.run(p);
    return;
  }
  const IsaInfo& t = *isa.info;
  // A grid of nr × nc sub-products over C, about kTasksPerThread per thread, taken dynamically: on
  // a shared machine a thread that loses its core for a while then delays the end by at most one
  // task. Each task packs its own operands, so A is packed once per column chunk and B once per
  // row chunk: pick the grid that repeats the least packing (a transposing pack costs ~3× a copy),
  // with chunks at least kMinCols wide and kMinRows high.
  const int64_t want = threads * kTasksPerThread;
  const int64_t cost_a = transA ? 1 : 3, cost_b = transB ? 3 : 1;
  int64_t nr = 0, nc = 0, best = 0;
  for (int64_t c = 1; c <= want; c++) {
    const int64_t r = (want + c - 1) / c;
    if ((c > 1 && N / c < kMinCols) || (r > 1 && M / r < kMinRows)) continue;
    const int64_t cost = c * M * K * cost_a + r * K * N * cost_b;
    if (nr == 0 || cost < best) nr = r, nc = c, best = cost;
  }
  if (nr * nc >= threads) {
    const int64_t cw = ((N + nc - 1) / nc + t.nr - 1) / t.nr * t.nr, rh = ((M + nr - 1) / nr + t.mr - 1) / t.mr * t.mr;
    nc = (N + cw - 1) / cw;
    nr = (M + rh - 1) / rh;
    parallel_tasks(nr * nc, [&](int64_t task) {
      const int64_t i0 = task / nc * rh, j0 = task % nc * cw;
      isa.run(columns(rows(p, i0, i0 + rh < M ? i0 + rh : M), j0, j0 + cw < N ? j0 + cw : N));
    });
    return;
  }
  // Too small for that grid: one sub-product per thread, along N when A is the smaller operand
  // (it is what every thread packs in full) or when M is too small for the row split to balance.
  const int64_t col_tiles = (N + t.nr - 1) / t.nr, row_tiles = (M + t.mr - 1) / t.mr;
  const bool by_cols = col_tiles >= threads && (M <= N || row_tiles < threads || M <= t.small_m);
  if (by_cols) {
    parallel_for(col_tiles, 1, [&](int64_t t0, int64_t t1) { isa.run(columns(p, t0 * t.nr, t1 * t.nr < N ? t1 * t.nr : N)); });
  } else if (row_tiles >= 2) {
    parallel_for(row_tiles, 1, [&](int64_t t0, int64_t t1) { isa.run(rows(p, t0 * t.mr, t1 * t.mr < M ? t1 * t.mr : M)); });
  } else {
    isa.run(p);
  }
}

const char* gemm_isa() { return gemm_detail::kIsas[gemm_detail::active_isa().load()].name; }

bool gemm_set_isa(const char* isa) {
  using namespace gemm_detail;
  if (!isa) return false;
  for (int i = 0; i < kNumIsas; i++) {
    if (std::strcmp(kIsas[i].name, isa) == 0) {
      if (!kIsas[i].supported()) return false;
      active_isa().store(i);
      return true;
    }
  }
  return false;
}

}  // namespace cpu
}  // namespace pb
