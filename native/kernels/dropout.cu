// Inverted dropout: the twin of src/backend/cpu/dropout.ts. The mask is a pure function of
// (seed, element index) — hashUniform of src/util/rng.ts in uint32 arithmetic — so the CPU and
// every device draw the same mask, and the backward re-runs this kernel on g.
//
//   dropout   outs [out], ins [x], ints [seed (uint32 as its int32 bit pattern)], floats [p]
//   out[i] = x[i]·scale if hashUniform(seed, i) ≥ p else 0,   scale = 1/(1 − p)  (p = 1: zeros)
//
// hashUniform = h/2³² ≥ p  ⇔  h ≥ ceil(p·2³²) (h an integer, p·2³² exact in double): the keep test
// is an integer comparison, identical to the CPU's floating one. x·scale is formed in double and
// rounded once, as the CPU's Float32Array store does.
#include <cmath>

#include "../src/common.cuh"

namespace pb {
namespace {

__global__ void dropout_kernel(float* __restrict__ out, const float* __restrict__ x, int64_t n, uint32_t hs, uint64_t threshold, double scale) {
  PB_GRID_STRIDE(i, n) {
    const uint32_t h = hash_bits(hs, static_cast<uint32_t>(i));
    out[i] = static_cast<uint64_t>(h) >= threshold ? mul_rd(x[i], scale) : 0.f;
  }
}

void dropout(KernelCall& c) {
  c.need_ints(1);
  c.need_floats(1);
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  float* out = c.outF(0);
  const float* x = c.inF(0, n);
  const double p = c.f(0);
  const uint32_t hs = splitmix32(static_cast<uint32_t>(static_cast<int32_t>(c.i(0))));
  const double scale = p < 1 ? 1.0 / (1.0 - p) : 0.0;
  const double t = std::ceil(p * 4294967296.0);
  const uint64_t threshold = t <= 0 ? 0 : static_cast<uint64_t>(t);
  if (n) KERNEL_LAUNCH(dropout_kernel, grid_1d(n), 256, 0, c.stream)(out, x, n, hs, threshold, scale);
}

}  // namespace
}  // namespace pb

using namespace pb;
REGISTER_KERNEL("dropout", 1, 1, dropout);
