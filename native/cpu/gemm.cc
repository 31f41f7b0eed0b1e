// SGEMM front end: argument handling, instruction-set dispatch, the split over threads, and the
// scratch memory of the packing buffers. The blocked algorithm itself is gemm_kernel.h, compiled
// once per instruction set (gemm_avx512.cc, gemm_avx2.cc, gemm_generic.cc).
//
// Threads: a product large enough to pay for a fork-join (≥ 1 M multiply-adds per thread) is cut
// into a grid of tasks, or, too small for that, into one sub-product per thread along N or M on
// whole micro-tiles, whichever balances the threads better (see sgemm). The sub-products are
// independent (own packing buffers, disjoint parts of C), so the pool's single fork-join is the
// only sync.
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

// Below this many multiply-adds per thread a product runs on one thread: 1 M multiply-adds are
// ~20 µs at ~100 GFLOP/s, several times a fork-join's wake-up and join on the pool plus the packing
// a split repeats. Measured on 2 cores (GFLOP/s, 1 → 2 threads): 32×64×1024 (2 M) 85 → 135,
// 64×256×256 (4 M) 102 → 175; an LSTM step's 32×64×256 (0.5 M) stays serial (95; 2 threads gave
// 148 on an idle machine but 36-92 on a busy one, where the fork-join waits for a descheduled
// worker).
constexpr int64_t kParallelMinMacsPerThread = int64_t{1} << 20;
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
  // as many threads as get kParallelMinMacsPerThread each, at most the pool's
  const int64_t work_threads = M * N * K / kParallelMinMacsPerThread, pool_threads = num_threads();
  const int64_t threads = work_threads < pool_threads ? work_threads : pool_threads;
  if (threads <= 1 || in_parallel()) {
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
  // Too small for that grid: one sub-product per thread, along N or along M on whole micro-tiles,
  // whichever balances the threads better: the time of a piece is about its rows × its vectors
  // (a partial tile costs its rows, a partial vector a whole one), so 81 columns (32 + 32 + 17)
  // over 2 threads cut by column tiles would leave one thread 64 columns and the other 17 that
  // cost as much as 32; then the rows are cut instead. On a tie, the split that repeats the
  // cheaper packing (A along N, B along M) wins, as for the grid above.
  const int64_t col_tiles = (N + t.nr - 1) / t.nr, row_tiles = (M + t.mr - 1) / t.mr;
  const int64_t vl = t.vl;
  auto vecs = [&](int64_t j0, int64_t j1) {   // vectors the kernel runs over columns [j0, j1)
    int64_t v = 0;
    for (int64_t j = j0; j < j1; j += t.nr) v += ((j + t.nr < j1 ? t.nr : j1 - j) + vl - 1) / vl;
    return v;
  };
  // the costliest piece parallel_for makes of the column or row tiles
  // parallel_for(tiles, grain) makes ceil(tiles / grain) near-equal pieces: ≤ threads of them
  const int64_t grain_c = (col_tiles + threads - 1) / threads, grain_r = (row_tiles + threads - 1) / threads;
  const int64_t parts_c = (col_tiles + grain_c - 1) / grain_c, parts_r = (row_tiles + grain_r - 1) / grain_r;
  int64_t cost_cols = -1, cost_rows = -1;
  if (parts_c >= 2) {
    const int64_t per = col_tiles / parts_c, extra = col_tiles % parts_c;
    for (int64_t c = 0, t0 = 0; c < parts_c; c++) {
      const int64_t t1 = t0 + per + (c < extra ? 1 : 0);
      const int64_t cost = M * vecs(t0 * t.nr, t1 * t.nr < N ? t1 * t.nr : N);
      if (cost > cost_cols) cost_cols = cost;
      t0 = t1;
    }
  }
  if (parts_r >= 2) {
    const int64_t per = row_tiles / parts_r, extra = row_tiles % parts_r;
    const int64_t rows0 = (per + (extra > 0 ? 1 : 0)) * t.mr;   // the first piece is the largest
    cost_rows = (rows0 < M ? rows0 : M) * vecs(0, N);
  }
  if (cost_cols < 0 && cost_rows < 0) {
    isa.run(p);
  } else if (cost_rows < 0 || (cost_cols >= 0 && (cost_cols < cost_rows || (cost_cols == cost_rows && M * K * cost_a <= K * N * cost_b)))) {
    parallel_for(col_tiles, grain_c, [&](int64_t t0, int64_t t1) { isa.run(columns(p, t0 * t.nr, t1 * t.nr < N ? t1 * t.nr : N)); });
  } else {
    parallel_for(row_tiles, grain_r, [&](int64_t t0, int64_t t1) { isa.run(rows(p, t0 * t.mr, t1 * t.mr < M ? t1 * t.mr : M)); });
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
