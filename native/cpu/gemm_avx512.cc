// SGEMM micro-kernel for AVX-512 (compiled with -mavx512f…; picked at run time by gemm.cc).
//
// Tile: 14 rows × 32 columns of C = 28 zmm accumulators + 2 zmm for the B row + 1 broadcast of A:
// 31 of the 32 zmm registers. Per k: 2 vector loads + 14 broadcasts feed 28 FMAs (0.57 loads per
// FMA), which keeps a core with two 512-bit FMA units (Sapphire Rapids) fed within its 2 loads per
// cycle; 28 independent accumulators cover the 4-cycle FMA latency twice over. On the Zen 4 test
// machine (one 512-bit FMA per cycle) 12×32 measured the same and 8×48 ~3 % slower (1024³).
//
// Blocks (see gemm_kernel.h for the loop nests):
//   KC = 256: A micro-panel 14×256×4 B = 14 KiB: a third of a 48 KiB L1 (Golden Cove), under half
//             of a 32 KiB one (Zen 4), leaving room for the B lines streaming through;
//   NC = 1024: B block 256×1024×4 B = 1 MiB: half of a 2 MiB L2 (Golden Cove). On the Zen 4 test
//             machine it fills the 1 MiB L2 and still beat NC = 512 by 2-3 % at 1024³ and 2048³
//             (thread CPU time, interleaved runs): each A panel is packed N/NC times, and the B
//             stream the kernel reads sequentially is prefetched well enough from L3.
//   Small path: M ≤ 112 (8 row panels) with KCs = 256 (a B panel of 32 KiB): the dW = Xᵀ·dY of a
//             Linear layer (M = 64..112 inputs, K = 8192 rows, N ≤ 128 outputs) ran 5-12 % faster
//             there than on the large path, and others of M ≤ 112 the same; A read in place when
//             N ≤ 64.
#if defined(PB_CPU_X86)
// GCC 12 flags _mm512_undefined_ps() (used inside the shuffle intrinsics) as maybe-uninitialized
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

namespace pb {
namespace cpu {
namespace gemm_detail {
namespace isa_avx512 {
namespace {

constexpr const char* kIsaName = "avx512";
constexpr int kMR = 14, kVL = 16, kNV = 2, kNR = kNV * kVL;
constexpr int kKC = 256, kNC = 1024;
constexpr int kKCs = 256, kSmallM = 8 * kMR, kDirectN = 2 * kNR;

/**
 * C[0:R, 0:nr] = alpha · Σ_k a[k·kMR + r] · b[k·ldb + c] + beta · C  (beta = 0: C is not read).
 * R ≤ 14 rows, V ≤ 2 vectors; the last vector is masked to nr − 16·(V−1) lanes.
 */
template <int R, int V, bool RowA>
void micro(int64_t kc, const float* __restrict a, int64_t as, const float* __restrict b, int64_t ldb, float* __restrict c, int64_t ldc, int nr, float alpha, float beta) {
  __m512 acc[R][V];
#pragma GCC unroll 14
  for (int r = 0; r < R; r++)
#pragma GCC unroll 2
    for (int v = 0; v < V; v++) acc[r][v] = _mm512_setzero_ps();
  // the C tile is only touched after the K loop: start fetching it now
#pragma GCC unroll 14
  for (int r = 0; r < R; r++) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + kVL * V - 1), _MM_HINT_T0);
  }
  for (int64_t k = 0; k < kc; k++) {
    __m512 bv[V];
#pragma GCC unroll 2
    for (int v = 0; v < V; v++) bv[v] = _mm512_loadu_ps(b + v * kVL);
#pragma GCC unroll 14
    for (int r = 0; r < R; r++) {
      const __m512 ar = _mm512_set1_ps(RowA ? a[r * as] : a[r]);
#pragma GCC unroll 2
      for (int v = 0; v < V; v++) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
    }
    a += RowA ? 1 : as;   // next k
    b += ldb;
  }
  const int tail = nr - kVL * (V - 1);   // 1..16 lanes in the last vector
  const __mmask16 last = static_cast<__mmask16>(tail >= kVL ? 0xFFFF : (1u << tail) - 1);
  const __m512 va = _mm512_set1_ps(alpha);
  if (beta == 0.f) {
#pragma GCC unroll 14
    for (int r = 0; r < R; r++) {
      float* cr = c + r * ldc;
#pragma GCC unroll 2
      for (int v = 0; v < V - 1; v++) _mm512_storeu_ps(cr + v * kVL, _mm512_mul_ps(va, acc[r][v]));
      _mm512_mask_storeu_ps(cr + (V - 1) * kVL, last, _mm512_mul_ps(va, acc[r][V - 1]));
    }
  } else {
    const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 14
    for (int r = 0; r < R; r++) {
      float* cr = c + r * ldc;
#pragma GCC unroll 2
      for (int v = 0; v < V - 1; v++) {
        const __m512 old = _mm512_loadu_ps(cr + v * kVL);
        _mm512_storeu_ps(cr + v * kVL, _mm512_fmadd_ps(va, acc[r][v], _mm512_mul_ps(vb, old)));
      }
      const __m512 old = _mm512_maskz_loadu_ps(last, cr + (V - 1) * kVL);
      _mm512_mask_storeu_ps(cr + (V - 1) * kVL, last, _mm512_fmadd_ps(va, acc[r][V - 1], _mm512_mul_ps(vb, old)));
    }
  }
}

/** In place: t[j] (16 floats) becomes column j of the 16×16 block whose rows were t[0..15]. */
inline void transpose16(__m512 t[16]) {
  __m512 u[16];
  // pairs of rows interleaved: per 128-bit lane, (r0 r1 r0 r1) for columns 4L+{0,1} / 4L+{2,3}
#pragma GCC unroll 8
  for (int i = 0; i < 8; i++) {
    u[2 * i] = _mm512_unpacklo_ps(t[2 * i], t[2 * i + 1]);
    u[2 * i + 1] = _mm512_unpackhi_ps(t[2 * i], t[2 * i + 1]);
  }
  // per 128-bit lane L of t[4i+c]: rows 4i..4i+3 of column 4L+c
#pragma GCC unroll 4
  for (int i = 0; i < 4; i++) {
    t[4 * i + 0] = _mm512_shuffle_ps(u[4 * i], u[4 * i + 2], 0x44);
    t[4 * i + 1] = _mm512_shuffle_ps(u[4 * i], u[4 * i + 2], 0xEE);
    t[4 * i + 2] = _mm512_shuffle_ps(u[4 * i + 1], u[4 * i + 3], 0x44);
    t[4 * i + 3] = _mm512_shuffle_ps(u[4 * i + 1], u[4 * i + 3], 0xEE);
  }
  // gather the four row quarters of each column from lanes L of t[c], t[4+c], t[8+c], t[12+c]
#pragma GCC unroll 4
  for (int c = 0; c < 4; c++) {
    const __m512 v0 = _mm512_shuffle_f32x4(t[c], t[4 + c], 0x88), w0 = _mm512_shuffle_f32x4(t[c], t[4 + c], 0xDD);
    const __m512 v1 = _mm512_shuffle_f32x4(t[8 + c], t[12 + c], 0x88), w1 = _mm512_shuffle_f32x4(t[8 + c], t[12 + c], 0xDD);
    u[c] = _mm512_shuffle_f32x4(v0, v1, 0x88);
    u[8 + c] = _mm512_shuffle_f32x4(v0, v1, 0xDD);
    u[4 + c] = _mm512_shuffle_f32x4(w0, w1, 0x88);
    u[12 + c] = _mm512_shuffle_f32x4(w0, w1, 0xDD);
  }
#pragma GCC unroll 16
  for (int j = 0; j < 16; j++) t[j] = u[j];
}

inline __mmask16 first_lanes(int64_t n) { return static_cast<__mmask16>(n >= 16 ? 0xFFFF : (1u << n) - 1); }

/** gemm_kernel.h's pack_transposed with 16×16 register transposes: ~4 shuffles per 16 floats
 *  instead of a scalar load and store per float (packing A was ~10 % of a 1024³ product). */
void pack_transposed_avx512(const float* __restrict src, int64_t ld, int rows, int64_t kc, float* __restrict dst, int width) {
  for (int g = 0; g < width; g += 16) {   // 16 destination lanes (rows of src) at a time
    const __mmask16 lanes = first_lanes(width - g);
    const int live = rows - g < 0 ? 0 : rows - g > 16 ? 16 : rows - g;
    for (int64_t k0 = 0; k0 < kc; k0 += 16) {
      const int64_t kk = kc - k0 < 16 ? kc - k0 : 16;
      const __mmask16 cols = first_lanes(kk);
      __m512 t[16];
#pragma GCC unroll 16
      for (int r = 0; r < 16; r++) t[r] = r < live ? _mm512_maskz_loadu_ps(cols, src + (g + r) * ld + k0) : _mm512_setzero_ps();
      transpose16(t);
      if (kk == 16) {
#pragma GCC unroll 16
        for (int j = 0; j < 16; j++) _mm512_mask_storeu_ps(dst + (k0 + j) * width + g, lanes, t[j]);
      } else {
        for (int j = 0; j < kk; j++) _mm512_mask_storeu_ps(dst + (k0 + j) * width + g, lanes, t[j]);
      }
    }
  }
}
#define PB_GEMM_PACK_T pack_transposed_avx512

/** gemm_kernel.h's pack_copy: one masked load and store per 16 lanes of each k row. */
void pack_copy_avx512(const float* __restrict src, int64_t ld, int rows, int64_t kc, float* __restrict dst, int width) {
  for (int g = 0; g < width; g += 16) {
    const __mmask16 lanes = first_lanes(width - g), live = first_lanes(rows - g < 0 ? 0 : rows - g);
    for (int64_t k = 0; k < kc; k++) _mm512_mask_storeu_ps(dst + k * width + g, lanes, _mm512_maskz_loadu_ps(live, src + k * ld + g));
  }
}
#define PB_GEMM_PACK_N pack_copy_avx512

}  // namespace
}  // namespace isa_avx512
}  // namespace gemm_detail
}  // namespace cpu
}  // namespace pb

#define PB_GEMM_NS isa_avx512
#include "gemm_kernel.h"
#endif  // PB_CPU_X86
