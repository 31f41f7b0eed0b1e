// Kernel 'dropout' (src/backend/cpu/dropout.ts is its oracle and documents the convention):
//   outs [out], ins [x], ints [seed (a uint32 as its int32 bit pattern)], floats [p]
//   out[i] = x[i]·scale if hashUniform(seed, i) ≥ p, else 0,   scale = 1/(1 − p)   (p ≥ 1: all zeros)
// The backward is this kernel applied to g with the same seed and p (the same mask, never stored).
//
// The mask is a pure function of (seed, element index) — hashUniform of src/util/rng.ts in uint32
// arithmetic, h = splitmix32((i·0x27d4eb2d) ^ splitmix32(seed)) — so it is bit-identical to the
// oracle's (and to the CUDA kernel's, native/kernels/dropout.cu) on any thread count. The oracle's
// test h/2³² ≥ p is an integer one: h ≥ ⌈p·2³²⌉ (p·2³² is exact in double). x·scale is formed in
// double and rounded once, as the oracle's Float32Array store does; a dropped element is +0 (NaN
// and ∞ included), as the oracle's literal 0.
//
// The loop is branch-free (the kept value is ANDed with an all-ones/all-zeros mask) so the compiler
// vectorises it; it is also compiled for AVX2 (8-lane 32-bit multiplies) and used unless the
// library's instruction set (gemm_isa()) is "generic". Elements are split over the pool.
#include "common.h"
#include "simd.h"

namespace pb {
namespace cpu {
namespace {

inline uint32_t splitmix32(uint32_t a) {
  a += 0x9e3779b9u;
  uint32_t z = a;
  z = (z ^ (z >> 16)) * 0x85ebca6bu;
  z = (z ^ (z >> 13)) * 0xc2b2ae35u;
  return z ^ (z >> 16);
}

/** out[i] for i ∈ [begin, end): the index enters the hash as i mod 2³² (the oracle's Math.imul). */
inline void dropout_loop(float* __restrict out, const float* __restrict x, int64_t begin, int64_t end, uint32_t hs, uint32_t threshold, double scale) {
  for (int64_t i = begin; i < end; i++) {
    const uint32_t h = splitmix32((static_cast<uint32_t>(i) * 0x27d4eb2du) ^ hs);
    const float kept = static_cast<float>(x[i] * scale);
    uint32_t bits;
    std::memcpy(&bits, &kept, 4);
    bits &= h >= threshold ? ~0u : 0u;
    std::memcpy(&out[i], &bits, 4);
  }
}

void dropout_range(float* out, const float* x, int64_t begin, int64_t end, uint32_t hs, uint32_t threshold, double scale) {
  dropout_loop(out, x, begin, end, hs, threshold, scale);
}
#if defined(PB_CPU_X86)
// the same loop compiled for AVX2 (dropout_loop inlines into it)
__attribute__((target("avx2"))) void dropout_range_avx2(float* out, const float* x, int64_t begin, int64_t end, uint32_t hs, uint32_t threshold, double scale) {
  dropout_loop(out, x, begin, end, hs, threshold, scale);
}
#endif

void dropout(KernelCall& c) {
  c.need_ints(1);
  c.need_floats(1);
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  float* out = c.outF(0);
  const float* x = c.inF(0, n);
  const double p = c.f(0);
  const uint32_t hs = splitmix32(static_cast<uint32_t>(c.i(0)));   // seed >>> 0
  const double scale = p < 1 ? 1.0 / (1.0 - p) : 0.0;
  // keep element i iff h(i) ≥ threshold; none when p·2³² > 2³² − 1 or p is NaN (u ≥ NaN is false)
  const double t = std::ceil(p * 4294967296.0);
  if (!(t <= 4294967295.0)) {
    parallel_for(n, kElementwiseGrain * 4, [&](int64_t b, int64_t e) { std::fill(out + b, out + e, 0.f); });
    return;
  }
  const uint32_t threshold = t <= 0 ? 0u : static_cast<uint32_t>(t);
  const bool wide = simd_isa() != SimdIsa::Generic;
  parallel_for(n, kElementwiseGrain, [&](int64_t b, int64_t e) {
#if defined(PB_CPU_X86)
    if (wide) return dropout_range_avx2(out, x, b, e, hs, threshold, scale);
#endif
    dropout_range(out, x, b, e, hs, threshold, scale);
  });
  (void)wide;
}

}  // namespace
}  // namespace cpu
}  // namespace pb

REGISTER_KERNEL("dropout", 1, 1, pb::cpu::dropout);
