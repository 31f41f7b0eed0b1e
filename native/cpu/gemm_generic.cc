// Portable SGEMM micro-kernel: GCC vector extensions (4 × float = 128 bits), which become SSE2 on
// baseline x86-64 and NEON on Arm (with FMA there: -ffp-contract=fast is GCC's default in gnu++
// mode, and GCC emits fmla by element for the broadcast). The fallback on x86 CPUs without AVX2
// and the only kernel on other architectures.
//
// Tile: 4 rows × 16 columns = 16 vector accumulators + 4 for the B row + 1 for A: fits the 32 NEON
// registers; on x86 (16 xmm) a couple of accumulators spill, acceptable for a fallback.
// Blocks (see gemm_kernel.h): KC = 256 (A micro-panel 4 KiB), NC = 512 (B block 512 KiB); small
// path for M ≤ 16, A read in place when N ≤ 32.
#include <cstdint>
#include <cstring>

namespace pb {
namespace cpu {
namespace gemm_detail {
namespace isa_generic {
namespace {

constexpr const char* kIsaName = "generic";
constexpr int kMR = 4, kVL = 4, kNV = 4, kNR = kNV * kVL;
constexpr int kKC = 256, kNC = 512;
constexpr int kKCs = 256, kSmallM = 4 * kMR, kDirectN = 2 * kNR;

typedef float v4 __attribute__((vector_size(16)));

inline v4 load(const float* p) {   // unaligned-safe: direct B reads are not 16-byte aligned
  v4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, v4 v) { std::memcpy(p, &v, sizeof v); }

/** As the AVX-512 kernel: C[0:R, 0:nr] = alpha·ΣAp·Bp + beta·C, R ≤ 4, V ≤ 4, last vector partial. */
template <int R, int V, bool RowA>
void micro(int64_t kc, const float* __restrict a, int64_t as, const float* __restrict b, int64_t ldb, float* __restrict c, int64_t ldc, int nr, float alpha, float beta) {
  v4 acc[R][V];
#pragma GCC unroll 4
  for (int r = 0; r < R; r++)
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) acc[r][v] = v4{0.f, 0.f, 0.f, 0.f};
  for (int64_t k = 0; k < kc; k++) {
    v4 bv[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) bv[v] = load(b + v * kVL);
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
      const float ar = RowA ? a[r * as] : a[r];
#pragma GCC unroll 4
      for (int v = 0; v < V; v++) acc[r][v] += bv[v] * ar;   // vector × scalar broadcasts the scalar
    }
    a += RowA ? 1 : as;   // next k
    b += ldb;
  }
  const int tail = nr - kVL * (V - 1);   // 1..4 lanes in the last vector
#pragma GCC unroll 4
  for (int r = 0; r < R; r++) {
    float* cr = c + r * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
      const v4 x = acc[r][v] * alpha;
      float* cv = cr + v * kVL;
      if (v < V - 1 || tail == kVL) {
        store(cv, beta == 0.f ? x : x + load(cv) * beta);
      } else {
        for (int l = 0; l < tail; l++) cv[l] = beta == 0.f ? x[l] : x[l] + cv[l] * beta;
      }
    }
  }
}

}  // namespace
}  // namespace isa_generic
}  // namespace gemm_detail
}  // namespace cpu
}  // namespace pb

#define PB_GEMM_NS isa_generic
#include "gemm_kernel.h"
