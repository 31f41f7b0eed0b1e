// Shared by the CPU kernel files whose hot loops are compiled per instruction set with target
// attributes (attention, selective scan, LSTM, elementwise, dropout): the attribute macros, the
// library's instruction-set level (the SGEMM's: the CPU's best, or what gemm_set_isa forced, so
// the tests can run every build of these loops), GCC vector types, and a vectorisable e^x.
// Everything here has internal linkage (an anonymous namespace): it is inlined into callers that
// are compiled for different instruction sets, and no out-of-line copy may be shared between them.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "gemm.h"

#ifndef PB_INLINE
#define PB_INLINE inline __attribute__((always_inline))
#endif
#if defined(PB_CPU_X86)
#define PB_AVX2 __attribute__((target("avx2,fma")))
#define PB_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))
#endif

namespace pb {
namespace cpu {
namespace {

enum class SimdIsa { Generic, Avx2, Avx512 };

/** The instruction set the per-ISA loops use: gemm_isa() as a level. */
inline SimdIsa simd_isa() {
#if defined(PB_CPU_X86)
  const char* name = gemm_isa();
  if (std::strcmp(name, "avx512") == 0) return SimdIsa::Avx512;
  if (std::strcmp(name, "avx2+fma") == 0) return SimdIsa::Avx2;
#endif
  return SimdIsa::Generic;
}

// GCC vector types (lowered to whatever registers the target has)
typedef float v16f __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));

/** e^x in float32, ≤ 1 ulp: x = k·ln2 + r, Cephes' degree-6 polynomial, 2^k as two exponent
 *  factors (so denormal results and overflow to +inf come out right); NaN → NaN, −inf → 0. */
PB_INLINE float expf_cephes(float x) {
  float xx = x < -104.f ? -104.f : x;    // e^−104 < the smallest denormal: rounds to 0
  xx = xx > 88.8f ? 88.8f : xx;          // e^88.8 > FLT_MAX: overflows to +inf below
  // k = round(x·log2 e) from the bits of x·log2 e + 1.5·2²³ (no float → int conversion)
  const float nb = xx * 1.44269504088896341f + 12582912.f;
  int32_t k;
  std::memcpy(&k, &nb, 4);
  k -= 0x4B400000;
  const float n = nb - 12582912.f;
  float r = xx - n * 0.693359375f;       // r = x − k·ln2 in two steps (Cody–Waite)
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;              // e^r, NaN stays NaN
  const int32_t k1 = k >> 1, k2 = k - k1;
  const int32_t b1 = (k1 + 127) << 23, b2 = (k2 + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &b1, 4);
  std::memcpy(&s2, &b2, 4);
  return p * s1 * s2;
}

}  // namespace
}  // namespace cpu
}  // namespace pb
