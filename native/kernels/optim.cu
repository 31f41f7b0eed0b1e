// Optimizer kernels: twins of src/backend/cpu/optim.ts (PyTorch's single-tensor formulas).
//
//   adamw        outs [param, exp_avg, exp_avg_sq] (in place), ins [grad]
//                floats [lr, beta1, beta2, eps, weight_decay, bias_correction1, bias_correction2]
//   sgd          outs [param, momentum_buffer?] (in place), ins [grad], ints [init, nesterov]
//                floats [lr, momentum, dampening, weight_decay]
//   sum_squares  outs [out [1]], ins [x]            Σ x² (gradient clipping)
//
// The updates are elementwise and memory-bound (AdamW: 28 bytes per parameter); scalars derived
// on the host in double (1 − lr·wd, lr/bc1, √bc2) exactly as the CPU computes them. sum_squares is
// deterministic: fixed per-block partial sums in double, then one block adds them in order.
#include <cmath>

#include "../src/common.cuh"

namespace pb {
namespace {

__global__ void adamw_kernel(float* __restrict__ p, float* __restrict__ m, float* __restrict__ v, const float* __restrict__ g, int64_t n, float decay, float a1, float beta2,
                             float a2, float stepSize, float bc2Sqrt, float eps) {
  PB_GRID_STRIDE(i, n) {
    const float gi = g[i];
    const float mi = m[i] + a1 * (gi - m[i]);
    const float vi = beta2 * v[i] + a2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - stepSize * mi / (sqrtf(vi) / bc2Sqrt + eps);
  }
}

void adamw(KernelCall& c) {
  c.need_floats(7);
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  float* p = c.outF(0);
  float* m = c.outF(1, n);
  float* v = c.outF(2, n);
  const float* g = c.inF(0, n);
  const double lr = c.f(0), beta1 = c.f(1), beta2 = c.f(2), eps = c.f(3), wd = c.f(4), bc1 = c.f(5), bc2 = c.f(6);
  if (!n) return;
  KERNEL_LAUNCH(adamw_kernel, grid_1d(n), 256, 0, c.stream)(p, m, v, g, n, static_cast<float>(1 - lr * wd), static_cast<float>(1 - beta1), static_cast<float>(beta2),
                                                             static_cast<float>(1 - beta2), static_cast<float>(lr / bc1), static_cast<float>(std::sqrt(bc2)), static_cast<float>(eps));
}

__global__ void sgd_kernel(float* __restrict__ p, float* __restrict__ buf, const float* __restrict__ g, int64_t n, int init, int nesterov, float lr, float momentum,
                           float dampening, float wd) {
  PB_GRID_STRIDE(i, n) {
    float d = wd != 0.f ? g[i] + wd * p[i] : g[i];
    if (momentum != 0.f) {
      const float b = init ? d : momentum * buf[i] + (1.f - dampening) * d;
      buf[i] = b;
      d = nesterov ? d + momentum * b : b;
    }
    p[i] = p[i] - lr * d;
  }
}

void sgd(KernelCall& c) {
  c.need_ints(2);
  c.need_floats(4);
  if (c.outs.empty() || c.outs.size() > 2) c.fail("expects 1 or 2 outputs (param, momentum_buffer)");
  const int64_t n = static_cast<int64_t>(c.out(0).numel);
  float* p = c.outF(0);
  const float momentum = static_cast<float>(c.f(1));
  float* buf = c.outs.size() > 1 ? c.outF(1, n) : nullptr;
  if (momentum != 0.f && !buf) c.fail("momentum ≠ 0 needs the momentum buffer");
  const float* g = c.inF(0, n);
  if (!n) return;
  KERNEL_LAUNCH(sgd_kernel, grid_1d(n), 256, 0, c.stream)(p, buf, g, n, static_cast<int>(c.i(0)), static_cast<int>(c.i(1)), static_cast<float>(c.f(0)), momentum,
                                                           static_cast<float>(c.f(2)), static_cast<float>(c.f(3)));
}

constexpr int kSqBlocks = 256;

__global__ void sum_squares_partial_kernel(double* __restrict__ part, const float* __restrict__ x, int64_t n) {
  __shared__ double s[256];
  double acc = 0;
  PB_GRID_STRIDE(i, n) acc += static_cast<double>(x[i]) * x[i];
  s[threadIdx.x] = acc;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (static_cast<int>(threadIdx.x) < stride) s[threadIdx.x] += s[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) part[blockIdx.x] = s[0];
}

__global__ void sum_partials_kernel(float* __restrict__ out, const double* __restrict__ part, int nparts) {
  if (threadIdx.x == 0) {
    double s = 0;
    for (int b = 0; b < nparts; b++) s += part[b];
    out[0] = static_cast<float>(s);
  }
}

void sum_squares(KernelCall& c) {
  float* out = c.outF(0, 1);
  const int64_t n = static_cast<int64_t>(c.in(0).numel);
  const float* x = c.inF(0);
  const unsigned blocks = grid_1d(n, 256, kSqBlocks);
  TempBuffer part(sizeof(double) * blocks);
  KERNEL_LAUNCH(sum_squares_partial_kernel, blocks, 256, 0, c.stream)(part.as<double>(), x, n);
  KERNEL_LAUNCH(sum_partials_kernel, 1, 32, 0, c.stream)(out, part.as<double>(), static_cast<int>(blocks));
}

}  // namespace
}  // namespace pb

using namespace pb;
REGISTER_KERNEL("adamw", 3, 1, adamw);
REGISTER_KERNEL("sgd", -1, 1, sgd);
REGISTER_KERNEL("sum_squares", 1, 1, sum_squares);
