// Optimizer kernels: twins of src/backend/cpu/optim.ts (the oracle; PyTorch's single-tensor formulas).
//
//   adamw        outs [param, exp_avg, exp_avg_sq] (in place), ins [grad]
//                floats [lr, beta1, beta2, eps, weight_decay, bias_correction1, bias_correction2]
//                p ← p·(1 − lr·wd) − (lr/bc1)·m / (√v/√bc2 + eps)  after  m ← m + (1−β1)(g − m),  v ← β2·v + (1−β2)·g²
//   sgd          outs [param, momentum_buffer?] (in place), ins [grad], ints [init, nesterov]
//                floats [lr, momentum, dampening, weight_decay]
//   sum_squares  outs [out [1]], ins [x]            Σ x² (gradient clipping)
//
// The updates are one fused pass (read p, m, v, g; write p, m, v: 28 bytes per parameter), split
// over the pool in contiguous ranges. Each element is computed in double with exactly the oracle's
// operations in the oracle's order (the new m and v enter the update unrounded, as in the oracle),
// so the results are the oracle's bits on x86-64 (no FMA contraction there); the pass is
// memory-bound, so double costs nothing measurable over float.
// sum_squares: fixed chunks of kSqChunk elements (independent of the thread count), each summed in
// kLanes double partial sums; the chunk sums are added in order — deterministic, and the oracle's
// float64 sum up to the order of the additions.
#include "common.h"

namespace pb {
namespace cpu {
namespace {

constexpr int kLanes = 8;
constexpr int64_t kSqChunk = 1 << 16;

void adamw(KernelCall& c) {
  c.need_floats(7);
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  float* p = c.outF(0);
  float* m = c.outF(1, n);
  float* v = c.outF(2, n);
  const float* g = c.inF(0, n);
  const double lr = c.f(0), beta1 = c.f(1), beta2 = c.f(2), eps = c.f(3), wd = c.f(4), bc1 = c.f(5), bc2 = c.f(6);
  // the host-side scalars, as the oracle derives them
  const double decay = 1 - lr * wd, a1 = 1 - beta1, a2 = 1 - beta2, step = lr / bc1, bc2_sqrt = std::sqrt(bc2);
  parallel_for(n, kElementwiseGrain, [&](int64_t b, int64_t e) {
    float* __restrict__ pp = p;
    float* __restrict__ mm = m;
    float* __restrict__ vv = v;
    const float* __restrict__ gg = g;
    for (int64_t i = b; i < e; i++) {
      const double gi = gg[i];
      const double mi = mm[i] + a1 * (gi - mm[i]);
      const double vi = beta2 * vv[i] + a2 * gi * gi;
      mm[i] = static_cast<float>(mi);
      vv[i] = static_cast<float>(vi);
      pp[i] = static_cast<float>(pp[i] * decay - step * mi / (std::sqrt(vi) / bc2_sqrt + eps));
    }
  });
}

// d ← g + wd·p;  buf ← d (first step) or momentum·buf + (1 − dampening)·d;  d ← d + momentum·buf
// (nesterov) or buf;  p ← p − lr·d.  momentum = 0: no buffer, d = g + wd·p.
template <bool WD, bool MOM, bool NESTEROV>
void sgd_range(float* __restrict__ p, float* __restrict__ buf, const float* __restrict__ g, int64_t b, int64_t e, bool init, double lr,
               double momentum, double dampening, double wd) {
  for (int64_t i = b; i < e; i++) {
    double d = WD ? g[i] + wd * p[i] : g[i];
    if (MOM) {
      const double bi = init ? d : momentum * buf[i] + (1 - dampening) * d;
      buf[i] = static_cast<float>(bi);
      d = NESTEROV ? d + momentum * bi : bi;
    }
    p[i] = static_cast<float>(p[i] - lr * d);
  }
}

void sgd(KernelCall& c) {
  c.need_ints(2);
  c.need_floats(4);
  if (c.outs.empty() || c.outs.size() > 2) c.fail("expects 1 or 2 outputs (param, momentum_buffer), got " + std::to_string(c.outs.size()));
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  float* p = c.outF(0);
  const double lr = c.f(0), momentum = c.f(1), dampening = c.f(2), wd = c.f(3);
  const bool init = c.i(0) != 0, nesterov = c.i(1) != 0;
  float* buf = c.outs.size() > 1 ? c.outF(1, n) : nullptr;
  if (momentum != 0 && !buf) c.fail("momentum " + std::to_string(momentum) + " needs the momentum buffer (output 1)");
  const float* g = c.inF(0, n);
  parallel_for(n, kElementwiseGrain, [&](int64_t b, int64_t e) {
    // the branches of the oracle's loop, hoisted out of it
    auto run = [&](auto fn) { fn(p, buf, g, b, e, init, lr, momentum, dampening, wd); };
    if (momentum == 0) wd != 0 ? run(sgd_range<true, false, false>) : run(sgd_range<false, false, false>);
    else if (nesterov) wd != 0 ? run(sgd_range<true, true, true>) : run(sgd_range<false, true, true>);
    else wd != 0 ? run(sgd_range<true, true, false>) : run(sgd_range<false, true, false>);
  });
}

double sum_sq(const float* __restrict__ x, int64_t n) {
  double acc[kLanes] = {0};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; l++) acc[l] += static_cast<double>(x[j + l]) * x[j + l];
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int l = 0; l < w; l++) acc[l] += acc[l + w];
  double s = acc[0];
  for (; j < n; j++) s += static_cast<double>(x[j]) * x[j];
  return s;
}

void sum_squares(KernelCall& c) {
  float* out = c.outF(0, 1);
  const float* x = c.inF(0);
  const int64_t n = static_cast<int64_t>(c.in(0).numel);
  const int64_t chunks = (n + kSqChunk - 1) / kSqChunk;
  std::vector<double> part(static_cast<size_t>(chunks));
  parallel_for(chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t q = b; q < e; q++) part[q] = sum_sq(x + q * kSqChunk, std::min(kSqChunk, n - q * kSqChunk));
  });
  double s = 0;
  for (int64_t q = 0; q < chunks; q++) s += part[q];
  out[0] = static_cast<float>(s);
}

}  // namespace
}  // namespace cpu
}  // namespace pb

REGISTER_KERNEL("adamw", 3, 1, pb::cpu::adamw);
REGISTER_KERNEL("sgd", -1, 1, pb::cpu::sgd);
REGISTER_KERNEL("sum_squares", 1, 1, pb::cpu::sum_squares);
