// The SGEMM driver shared by the per-ISA files (gemm_avx512.cc, gemm_avx2.cc, gemm_generic.cc).
//
// Two parts:
//  1. the interface between gemm.cc (dispatch, threads, scratch memory) and the ISA files: always;
//  2. the serial blocked driver: only where PB_GEMM_NS names the including ISA file's namespace.
//     That file first defines, in  pb::cpu::PB_GEMM_NS::<anonymous>,
//       kMR, kVL, kNV            micro-tile: kMR rows × kNV vectors of kVL floats (kNR = kNV·kVL columns)
//       kKC, kNC                 K and N block sizes of the large-M path
//       kKCs, kSmallM            K block and M limit of the small-M path
//       kDirectN                 N limit under which A is read in place (not packed)
//       micro<R, V, RowA>(...)   the register-tiled micro-kernel for R ≤ kMR rows, V ≤ kNV vectors
//     and then includes this header, so that everything below is compiled with that file's
//     instruction set and gets internal linkage (anonymous namespace): nothing compiled with
//     -mavx512f can be merged by the linker into code that runs on an older CPU (ODR safety).
//     For the same reason no std:: template is instantiated here (no std::min, no std::vector).
//
// ------------------------------------------------------------------------------------------------
// Blocking (row-major C[M×N] += op(A)[M×K] · op(B)[K×N]; the micro-kernel keeps an MR×NR tile of
// C in vector registers: NR = kNV vectors across a row of C, one broadcast of A per row and k):
//
//  large-M path (M > kSmallM), GotoBLAS/BLIS order with the B block resident in L2:
//    for jc in N step NC                          B block KC×NC packed once, stays in L2
//      for pc in K step KC                          (KC·NC·4 bytes ≈ half of L2)
//        pack op(B)[pc:+KC, jc:+NC] → NR-wide panels, k-major: Bp[panel][k][0..NR)
//        for ir in M step MR                    A micro-panel MR×KC packed just before use: it
//          pack op(A)[ir:+MR, pc:+KC] → Ap[k][0..MR)     stays in L1 for the whole jr sweep
//          for jr in NC step NR                 each call streams one KC×NR B panel from L2
//            micro-kernel: C[ir:+MR, jc+jr:+NR] = alpha·Ap·Bp[jr] + beta'·C   (beta' = 1 after pc = 0)
//    So MC = MR here: packing A panel by panel costs the same as packing an MC×KC block (each
//    element of A is packed once per (jc, pc)), and the panel is hot when the kernel reads it.
//
//  small path (M ≤ kSmallM: the LSTM's batch rows, attention blocks, a Linear layer's dW = Xᵀ·dY
//  with its long K):
//    for pc in K step KCs
//      pack all of op(A)[0:M, pc:+KCs]          ≤ kSmallM·KCs floats: stays in L2
//      for jr in N step NR                      B panel KCs×NR read straight from B when it is
//        for ir in M step MR                    row-major and full width and either M ≤ 4·MR or
//          micro-kernel                         B's rows short (≤ 4·NR), else packed into one
//                                               panel
//    Each element of B is read from memory once; the ≤ kSmallM/MR reuses hit L1/L2.
//  direct path (N ≤ kDirectN, any M): each element of A feeds ≤ 2 vector FMAs per panel, so
//  packing A would cost about as much as the product: the micro-kernel reads A in place.
//    for pc in K step KC
//      pack the (≤ 2) B panels (a full row-major one is read in place)
//      for each group of strips (~512 KiB of A): for each B panel: for each strip: micro-kernel
//
//  Both drivers that sweep M in strips prefetch the next strip's C tile into L2 (prefetch_c).
//  Every path uses the same K blocks (even_block(K, 256, 4) on every ISA: KC = KCs = 256), so an
//  output element's summation order does not depend on the path, hence not on how the threads
//  split the product.
//
// Edges: the last row panel runs micro<mr, ·> (fewer broadcasts, same packed stride), the last
// column panel micro<·, ceil(nr/VL)> with a masked last vector, so no work is spent on padding
// beyond one vector; packed B panels are zero-padded to NR so loads never leave the buffer.
// ------------------------------------------------------------------------------------------------
#ifndef PB_CPU_GEMM_KERNEL_INTERFACE
#define PB_CPU_GEMM_KERNEL_INTERFACE
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace pb {
namespace cpu {
namespace gemm_detail {

/** One (sub-)product: C[M×N] = alpha·op(A)·op(B) + beta·C, as sgemm's arguments (M, N, K ≥ 1). */
struct Problem {
  bool transA, transB;
  int64_t M, N, K;
  float alpha;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float beta;
  float* C;
  int64_t ldc;
};

/** What gemm.cc needs to know about an ISA's tiling (to split work on whole micro-tiles). */
struct IsaInfo {
  const char* name;
  int mr, nr, small_m, vl;   // vl: floats per vector
};

/** Thread-local scratch (slot 0: packed A, slot 1: packed B), 64-byte aligned, at least `floats`
 *  long, contents undefined; defined in gemm.cc (baseline code). Valid until the next call with
 *  the same slot on this thread. */
float* scratch(int slot, size_t floats);

#define PB_GEMM_DECLARE_ISA(ns)             \
  namespace ns {                            \
  void run(const Problem& p);               \
  extern const IsaInfo info;                \
  }
PB_GEMM_DECLARE_ISA(isa_generic)
#if defined(PB_CPU_X86)
PB_GEMM_DECLARE_ISA(isa_avx2)
PB_GEMM_DECLARE_ISA(isa_avx512)
#endif
#undef PB_GEMM_DECLARE_ISA

}  // namespace gemm_detail
}  // namespace cpu
}  // namespace pb
#endif  // PB_CPU_GEMM_KERNEL_INTERFACE

// ---- part 2: the serial driver, compiled once per ISA ------------------------------------------
#if defined(PB_GEMM_NS) && !defined(PB_GEMM_DRIVER_DONE)
#define PB_GEMM_DRIVER_DONE
namespace pb {
namespace cpu {
namespace gemm_detail {
namespace PB_GEMM_NS {
namespace {

static_assert(kKC % 4 == 0 && kKCs % 4 == 0 && kNC % kNR == 0, "block sizes");

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
/** Floats allocated past each packed buffer: an ISA's pack_transposed / pack_copy may store a
 *  whole vector past the last row (see gemm_avx2.cc). */
constexpr int64_t kPackSlack = 16;
/** Splits n into ceil(n / block) near-equal steps (≤ block, multiples of `unit` but the last):
 *  K = 300 with KC = 256 gives 152 + 148, not 256 + 44 (a short last block wastes the C traffic). */
inline int64_t even_block(int64_t n, int64_t block, int64_t unit) {
  const int64_t parts = (n + block - 1) / block;
  const int64_t step = (n + parts - 1) / parts;
  return (step + unit - 1) / unit * unit;
}

/** A micro-kernel; A element (r, k) is a[r·as + k] when reading a row-major A in place (RowA),
 *  else a[r + k·as] (a packed panel: as = kMR, or a transposed A read in place: as = lda). */
using Micro = void (*)(int64_t kc, const float* a, int64_t as, const float* b, int64_t ldb, float* c, int64_t ldc, int nr, float alpha, float beta);

/** fn[row_a][r−1][v−1] = micro<r, v, row_a>: one instantiation per edge shape, built at compile time. */
struct Table {
  Micro fn[2][kMR][kNV];
  template <int R, int V>
  constexpr void fill() {
    fn[0][R - 1][V - 1] = &micro<R, V, false>;
    fn[1][R - 1][V - 1] = &micro<R, V, true>;
    if constexpr (V > 1) fill<R, V - 1>();
    else if constexpr (R > 1) fill<R - 1, kNV>();
  }
  constexpr Table() : fn{} { fill<kMR, kNV>(); }
};
constexpr Table kTable{};

/**
 * The transposing copy behind packing a row-major A and a transposed B:
 *   dst[k·width + r] = src[r·ld + k] for r < rows, 0 for rows ≤ r < width   (k < kc).
 * An ISA file may supply a faster one (PB_GEMM_PACK_T, e.g. 16×16 in-register transposes).
 */
inline void pack_transposed(const float* __restrict src, int64_t ld, int rows, int64_t kc, float* __restrict dst, int width) {
#if defined(PB_GEMM_PACK_T)
  PB_GEMM_PACK_T(src, ld, rows, kc, dst, width);
#else
  for (int64_t k0 = 0; k0 < kc; k0 += 16) {   // 16 k at a time: the stores stay in a few lines
    const int64_t k1 = min64(k0 + 16, kc);
    for (int r = 0; r < rows; r++)
      for (int64_t k = k0; k < k1; k++) dst[k * width + r] = src[r * ld + k];
    for (int r = rows; r < width; r++)
      for (int64_t k = k0; k < k1; k++) dst[k * width + r] = 0.f;
  }
#endif
}

/**
 * The plain copy behind packing a transposed A and the last (narrow) panel of a row-major B:
 *   dst[k·width + r] = src[k·ld + r] for r < rows, 0 for rows ≤ r < width   (k < kc).
 * An ISA file may supply a faster one (PB_GEMM_PACK_N: masked vector loads instead of a
 * variable-length scalar loop per k).
 */
inline void pack_copy(const float* __restrict src, int64_t ld, int rows, int64_t kc, float* __restrict dst, int width) {
#if defined(PB_GEMM_PACK_N)
  PB_GEMM_PACK_N(src, ld, rows, kc, dst, width);
#else
  for (int64_t k = 0; k < kc; k++) {
    for (int r = 0; r < rows; r++) dst[k * width + r] = src[k * ld + r];
    for (int r = rows; r < width; r++) dst[k * width + r] = 0.f;
  }
#endif
}

/** op(A)[i0:+mr, p0:+kc] → dst[k·kMR + r] (rows ≥ mr are zero or unwritten: micro<mr,·> never reads them). */
inline void pack_a(const Problem& p, int64_t i0, int mr, int64_t p0, int64_t kc, float* __restrict dst) {
  if (!p.transA) {   // A stored [M, K]: a transpose
    pack_transposed(p.A + i0 * p.lda + p0, p.lda, mr, kc, dst, kMR);
  } else {           // A stored [K, M]: the mr rows of op(A) are contiguous for each k
    pack_copy(p.A + p0 * p.lda + i0, p.lda, mr, kc, dst, kMR);
  }
}

/** op(B)[p0:+kc, j0:+w] (w ≤ NR) → one panel dst[k·NR + c], columns ≥ w zero-filled. */
inline void pack_b_panel(const Problem& p, int64_t p0, int64_t kc, int64_t j0, int w, float* __restrict dst) {
  if (!p.transB) {   // B stored [K, N]: each k row of the panel is a contiguous copy
    const float* __restrict b = p.B + p0 * p.ldb + j0;
    if (w == kNR) {   // a fixed-size memcpy is inlined as kNR/kVL vector moves
      for (int64_t k = 0; k < kc; k++) std::memcpy(dst + k * kNR, b + k * p.ldb, sizeof(float) * kNR);
    } else {
      pack_copy(b, p.ldb, w, kc, dst, kNR);
    }
  } else {           // B stored [N, K]: column j0+c of op(B) is row j0+c of B, a transpose
    pack_transposed(p.B + j0 * p.ldb + p0, p.ldb, w, kc, dst, kNR);
  }
}

/**
 * Starts fetching rows × cols of C (row stride ldc) into L2, for writing. The driver calls it for
 * the next row strip's C tile while the current strip computes: the micro-kernel's own prefetch
 * (at its start, into L1) hides an L2 miss but not a miss to L3 or memory when K is short (a
 * Linear layer's 8192×64·64×256 ran at 80 GFLOP/s with its 8 MB C, 107 with a 1 MB one; 92 with
 * this). Rows ≤ 0: nothing.
 */
inline void prefetch_c(const float* c, int64_t ldc, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++) {
    const float* cr = c + r * ldc;
    for (int64_t x = 0; x < cols; x += 16) __builtin_prefetch(cr + x, 1, 2);
    __builtin_prefetch(cr + cols - 1, 1, 2);
  }
}

/** M > kSmallM and N > kDirectN: B block in L2, A micro-panels packed just in time (see the
 *  header comment). */
void run_large(const Problem& p) {
  const int64_t nc_step = even_block(p.N, kNC, kNR), kc_step = even_block(p.K, kKC, 4);
  float* bp = scratch(1, static_cast<size_t>(kc_step * ((min64(nc_step, p.N) + kNR - 1) / kNR * kNR) + kPackSlack));
  float* ap = scratch(0, static_cast<size_t>(kc_step * kMR + kPackSlack));
  for (int64_t jc = 0; jc < p.N; jc += nc_step) {
    const int64_t nc = min64(nc_step, p.N - jc);
    for (int64_t pc = 0; pc < p.K; pc += kc_step) {
      const int64_t kc = min64(kc_step, p.K - pc);
      const float beta = pc == 0 ? p.beta : 1.f;   // later K blocks accumulate onto C
      for (int64_t jr = 0; jr < nc; jr += kNR) pack_b_panel(p, pc, kc, jc + jr, static_cast<int>(min64(kNR, nc - jr)), bp + jr * kc);
      for (int64_t ir = 0; ir < p.M; ir += kMR) {
        const int mr = static_cast<int>(min64(kMR, p.M - ir));
        pack_a(p, ir, mr, pc, kc, ap);
        const Micro* row = kTable.fn[0][mr - 1];
        float* c = p.C + ir * p.ldc + jc;
        const int64_t next_rows = min64(kMR, p.M - ir - kMR);
        for (int64_t jr = 0; jr < nc; jr += kNR) {
          const int nr = static_cast<int>(min64(kNR, nc - jr));
          prefetch_c(c + kMR * p.ldc + jr, p.ldc, next_rows, nr);
          row[(nr + kVL - 1) / kVL - 1](kc, ap, kMR, bp + jr * kc, kNR, c + jr, p.ldc, nr, p.alpha, beta);
        }
      }
    }
  }
}

/**
 * N ≤ kDirectN: A read in place by the micro-kernel (see run_small). Per K block, all of op(B)
 * (≤ kDirectN columns: ≤ kKC·kDirectN floats) is packed first (a row-major full panel is read in
 * place), then the MR-row strips of A are swept in groups of ~512 KiB of A (half an L2): each B
 * panel over the whole group, from L1, the group's A re-read from L2 for the next panel. So A
 * is read from memory once per K block, not once per panel (sweeping all of M per panel: 1 thread
 * ~20 % slower at 8192×256·256×64), and B stays in L1 (one strip at a time, all panels: ~5 %
 * slower on 2 threads).
 */
void run_direct(const Problem& p, int64_t kc_step) {
  const int64_t group = (int64_t{1} << 17) / (kMR * kc_step) > 1 ? (int64_t{1} << 17) / (kMR * kc_step) : 1;
  constexpr int kMaxPanels = (kDirectN + kNR - 1) / kNR;
  const int npanels = static_cast<int>((p.N + kNR - 1) / kNR);
  float* bp = scratch(1, static_cast<size_t>(kc_step * kNR * kMaxPanels + kPackSlack));
  const int row_a = p.transA ? 0 : 1;
  for (int64_t pc = 0; pc < p.K; pc += kc_step) {
    const int64_t kc = min64(kc_step, p.K - pc);
    const float beta = pc == 0 ? p.beta : 1.f;
    const float* bpan[kMaxPanels];
    int64_t ldbp[kMaxPanels];
    int nrp[kMaxPanels];
    for (int j = 0; j < npanels; j++) {
      const int64_t jr = int64_t{j} * kNR;
      nrp[j] = static_cast<int>(min64(kNR, p.N - jr));
      if (!p.transB && nrp[j] == kNR) {
        bpan[j] = p.B + pc * p.ldb + jr;
        ldbp[j] = p.ldb;
      } else {
        pack_b_panel(p, pc, kc, jr, nrp[j], bp + j * kc * kNR);
        bpan[j] = bp + j * kc * kNR;
        ldbp[j] = kNR;
      }
    }
    for (int64_t ig = 0; ig < p.M; ig += group * kMR) {
      const int64_t ig_end = min64(p.M, ig + group * kMR);
      for (int j = 0; j < npanels; j++) {
        for (int64_t ir = ig; ir < ig_end; ir += kMR) {
          const int mr = static_cast<int>(min64(kMR, p.M - ir));
          const float* a = p.transA ? p.A + pc * p.lda + ir : p.A + ir * p.lda + pc;
          if (j == 0) prefetch_c(p.C + (ir + kMR) * p.ldc, p.ldc, min64(kMR, p.M - ir - kMR), p.N);
          kTable.fn[row_a][mr - 1][(nrp[j] + kVL - 1) / kVL - 1](kc, a, p.lda, bpan[j], ldbp[j], p.C + ir * p.ldc + j * kNR, p.ldc, nrp[j], p.alpha, beta);
        }
      }
    }
  }
}

/**
 * M ≤ kSmallM: one B panel at a time (read in place when row-major and full width, and used by
 * few row panels or short-rowed; else packed into one panel), swept over all row panels, A packed
 * per K block (≤ kSmallM rows). N ≤ kDirectN (direct_a): run_direct.
 */
void run_small(const Problem& p, bool direct_a) {
  const int64_t kc_step = even_block(p.K, direct_a ? kKC : kKCs, 4);
  if (direct_a) {
    run_direct(p, kc_step);
    return;
  }
  float* ap = scratch(0, static_cast<size_t>((p.M + kMR - 1) / kMR * kMR * kc_step + kPackSlack));
  float* bpanel = scratch(1, static_cast<size_t>(kc_step * kNR + kPackSlack));
  for (int64_t pc = 0; pc < p.K; pc += kc_step) {
    const int64_t kc = min64(kc_step, p.K - pc);
    const float beta = pc == 0 ? p.beta : 1.f;
    for (int64_t ir = 0; ir < p.M; ir += kMR) pack_a(p, ir, static_cast<int>(min64(kMR, p.M - ir)), pc, kc, ap + ir * kc);
    for (int64_t jr = 0; jr < p.N; jr += kNR) {
      const int nr = static_cast<int>(min64(kNR, p.N - jr));
      const float* b;
      int64_t ldb;
      // row-major B, full panel: the kernel reads B in place when the panel is used by ≤ 4 row
      // panels, or when B's rows are short (≤ 4 panels: the K block of B is one compact, L2-resident
      // stream). Else a panel read M/MR times at a long stride (ldb ≥ 256 floats measured 10-15 %
      // slower than packed: its few L1 sets thrash) is packed once.
      if (!p.transB && nr == kNR && (p.M <= 4 * kMR || p.ldb <= 4 * kNR)) {
        b = p.B + pc * p.ldb + jr;
        ldb = p.ldb;
      } else {
        pack_b_panel(p, pc, kc, jr, nr, bpanel);
        b = bpanel;
        ldb = kNR;
      }
      const int nv = (nr + kVL - 1) / kVL;
      for (int64_t ir = 0; ir < p.M; ir += kMR) {
        const int mr = static_cast<int>(min64(kMR, p.M - ir));
        kTable.fn[0][mr - 1][nv - 1](kc, ap + ir * kc, kMR, b, ldb, p.C + ir * p.ldc + jr, p.ldc, nr, p.alpha, beta);
      }
    }
  }
}

}  // namespace

const IsaInfo info = {kIsaName, kMR, kNR, kSmallM, kVL};

void run(const Problem& p) {
  // A is read in place for narrow products, unless its leading dimension is a multiple of 4 KiB:
  // then the rows (or k steps) the kernel walks at once all map to one L1 set and evict each other.
  if (p.N <= kDirectN && p.lda % 1024 != 0) run_small(p, true);
  else if (p.M <= kSmallM) run_small(p, false);
  else run_large(p);
}

}  // namespace PB_GEMM_NS
}  // namespace gemm_detail
}  // namespace cpu
}  // namespace pb
#endif  // PB_GEMM_NS
