// SGEMM micro-kernel for AVX2 + FMA (compiled with -mavx2 -mfma; picked at run time by gemm.cc).
//
// Tile: 6 rows × 16 columns of C = 12 ymm accumulators + 2 ymm for the B row + 1 broadcast of A:
// 15 of the 16 ymm registers (the classic Haswell shape). Per k: 2 loads + 6 broadcasts feed 12
// FMAs; 12 independent accumulators cover 2 FMA units × 4-6 cycles of latency.
//
// Blocks (see gemm_kernel.h): KC = 256 (A micro-panel 6×256×4 B = 6 KiB in L1), NC = 512 (B block
// 256×512×4 B = 512 KiB: within the L2 of most AVX2-only cores, Zen 2/3 included; NC = 1024 was
// ~2 % faster on the 1 MiB-L2 test machine, but would spill out of those). Small path: M ≤ 24
// (4 row panels), A read in place when N ≤ 32.
#if defined(PB_CPU_X86)
#include <immintrin.h>

#include <cstdint>

namespace pb {
namespace cpu {
namespace gemm_detail {
namespace isa_avx2 {
namespace {

constexpr const char* kIsaName = "avx2+fma";
constexpr int kMR = 6, kVL = 8, kNV = 2, kNR = kNV * kVL;
constexpr int kKC = 256, kNC = 512;
constexpr int kKCs = 256, kSmallM = 4 * kMR, kDirectN = 2 * kNR;

/** Lane mask of the first n (0..8) lanes for maskload/maskstore. */
inline __m256i lanes(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }

/** As the AVX-512 kernel: C[0:R, 0:nr] = alpha·ΣAp·Bp + beta·C, R ≤ 6, V ≤ 2, last vector masked. */
template <int R, int V, bool RowA>
void micro(int64_t kc, const float* __restrict a, int64_t as, const float* __restrict b, int64_t ldb, float* __restrict c, int64_t ldc, int nr, float alpha, float beta) {
  __m256 acc[R][V];
#pragma GCC unroll 6
  for (int r = 0; r < R; r++)
#pragma GCC unroll 2
    for (int v = 0; v < V; v++) acc[r][v] = _mm256_setzero_ps();
#pragma GCC unroll 6
  for (int r = 0; r < R; r++) _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
  for (int64_t k = 0; k < kc; k++) {
    __m256 bv[V];
#pragma GCC unroll 2
    for (int v = 0; v < V; v++) bv[v] = _mm256_loadu_ps(b + v * kVL);
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
      const __m256 ar = _mm256_broadcast_ss(RowA ? a + r * as : a + r);
#pragma GCC unroll 2
      for (int v = 0; v < V; v++) acc[r][v] = _mm256_fmadd_ps(ar, bv[v], acc[r][v]);
    }
    a += RowA ? 1 : as;   // next k
    b += ldb;
  }
  const int tail = nr - kVL * (V - 1);   // 1..8 lanes in the last vector
  const __m256i last = lanes(tail);
  const __m256 va = _mm256_set1_ps(alpha);
  if (beta == 0.f) {
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
      float* cr = c + r * ldc;
#pragma GCC unroll 2
      for (int v = 0; v < V - 1; v++) _mm256_storeu_ps(cr + v * kVL, _mm256_mul_ps(va, acc[r][v]));
      if (tail == kVL) _mm256_storeu_ps(cr + (V - 1) * kVL, _mm256_mul_ps(va, acc[r][V - 1]));
      else _mm256_maskstore_ps(cr + (V - 1) * kVL, last, _mm256_mul_ps(va, acc[r][V - 1]));
    }
  } else {
    const __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
      float* cr = c + r * ldc;
#pragma GCC unroll 2
      for (int v = 0; v < V - 1; v++) {
        const __m256 old = _mm256_loadu_ps(cr + v * kVL);
        _mm256_storeu_ps(cr + v * kVL, _mm256_fmadd_ps(va, acc[r][v], _mm256_mul_ps(vb, old)));
      }
      float* cl = cr + (V - 1) * kVL;
      if (tail == kVL) {
        _mm256_storeu_ps(cl, _mm256_fmadd_ps(va, acc[r][V - 1], _mm256_mul_ps(vb, _mm256_loadu_ps(cl))));
      } else {   // masked lanes are neither read nor written (no fault past the end of C)
        const __m256 old = _mm256_maskload_ps(cl, last);
        _mm256_maskstore_ps(cl, last, _mm256_fmadd_ps(va, acc[r][V - 1], _mm256_mul_ps(vb, old)));
      }
    }
  }
}

/** In place: t[j] (8 floats) becomes column j of the 8×8 block whose rows were t[0..7]. */
inline void transpose8(__m256 t[8]) {
  __m256 u[8];
#pragma GCC unroll 4
  for (int i = 0; i < 4; i++) {   // per 128-bit lane: rows 2i, 2i+1 interleaved
    u[2 * i] = _mm256_unpacklo_ps(t[2 * i], t[2 * i + 1]);
    u[2 * i + 1] = _mm256_unpackhi_ps(t[2 * i], t[2 * i + 1]);
  }
#pragma GCC unroll 2
  for (int i = 0; i < 2; i++) {   // per lane L of t[4i+c]: rows 4i..4i+3 of column 4L+c
    t[4 * i + 0] = _mm256_shuffle_ps(u[4 * i], u[4 * i + 2], 0x44);
    t[4 * i + 1] = _mm256_shuffle_ps(u[4 * i], u[4 * i + 2], 0xEE);
    t[4 * i + 2] = _mm256_shuffle_ps(u[4 * i + 1], u[4 * i + 3], 0x44);
    t[4 * i + 3] = _mm256_shuffle_ps(u[4 * i + 1], u[4 * i + 3], 0xEE);
  }
#pragma GCC unroll 4
  for (int c = 0; c < 4; c++) {   // join the row halves: column c from the low lanes, c+4 from the high
    u[c] = _mm256_permute2f128_ps(t[c], t[4 + c], 0x20);
    u[4 + c] = _mm256_permute2f128_ps(t[c], t[4 + c], 0x31);
  }
#pragma GCC unroll 8
  for (int j = 0; j < 8; j++) t[j] = u[j];
}

/** gemm_kernel.h's pack_transposed with 8×8 register transposes. Each k row is stored as a full
 *  vector, even where width − g < 8 (the A panel, width 6): the 2 extra lanes land in the next k
 *  row, which is written afterwards, or in the scratch slack (kPackSlack) after the last one —
 *  cheaper than _mm256_maskstore_ps, which is slow on AMD cores. */
void pack_transposed_avx2(const float* __restrict src, int64_t ld, int rows, int64_t kc, float* __restrict dst, int width) {
  for (int g = 0; g < width; g += 8) {
    const int live = rows - g < 0 ? 0 : rows - g > 8 ? 8 : rows - g;
    int64_t k0 = 0;
    for (; k0 + 8 <= kc; k0 += 8) {
      __m256 t[8];
#pragma GCC unroll 8
      for (int r = 0; r < 8; r++) t[r] = r < live ? _mm256_loadu_ps(src + (g + r) * ld + k0) : _mm256_setzero_ps();
      transpose8(t);
#pragma GCC unroll 8
      for (int j = 0; j < 8; j++) _mm256_storeu_ps(dst + (k0 + j) * width + g, t[j]);
    }
    const int lanes = width - g < 8 ? width - g : 8;
    for (int64_t k = k0; k < kc; k++)   // the last kc mod 8 columns
      for (int r = 0; r < lanes; r++) dst[k * width + g + r] = r < live ? src[(g + r) * ld + k] : 0.f;
  }
}
#define PB_GEMM_PACK_T pack_transposed_avx2

/** gemm_kernel.h's pack_copy: a masked load (rows < 8 live lanes) and a full store per 8 lanes of
 *  each k row (for width 6 the 2 extra lanes spill into the next row, as in pack_transposed_avx2). */
void pack_copy_avx2(const float* __restrict src, int64_t ld, int rows, int64_t kc, float* __restrict dst, int width) {
  for (int g = 0; g < width; g += 8) {
    const int live = rows - g < 0 ? 0 : rows - g > 8 ? 8 : rows - g;
    const __m256i m = lanes(live);
    if (live == 8) {
      for (int64_t k = 0; k < kc; k++) _mm256_storeu_ps(dst + k * width + g, _mm256_loadu_ps(src + k * ld + g));
    } else {
      for (int64_t k = 0; k < kc; k++) _mm256_storeu_ps(dst + k * width + g, _mm256_maskload_ps(src + k * ld + g, m));
    }
  }
}
#define PB_GEMM_PACK_N pack_copy_avx2

}  // namespace
}  // namespace isa_avx2
}  // namespace gemm_detail
}  // namespace cpu
}  // namespace pb

#define PB_GEMM_NS isa_avx2
#include "gemm_kernel.h"
#endif  // PB_CPU_X86
