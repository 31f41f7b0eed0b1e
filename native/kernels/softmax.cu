// Softmax family and classification losses: twins of src/backend/cpu/softmax.ts and loss.ts.
//
//   softmax / log_softmax                 outs [y], ins [x], ints [rows, n]
//   softmax_backward                      outs [dx], ins [g, y], ints [rows, n]   dx = y·(g − Σ g·y)
//   log_softmax_backward                  outs [dx], ins [g, y], ints [rows, n]   dx = g − e^y·Σ g
//   cross_entropy                         outs [loss [N], lse [N]], ins [logits [N,C], targets i32 [N]], ints [N, C, ignoreIndex]
//   cross_entropy_backward                outs [dx], ins [logits, targets, lse, g], ints [N, C, ignoreIndex, gStride], floats [scale]
//   nll_loss                              outs [loss], ins [logp, targets], ints [N, C, ignoreIndex]
//   nll_loss_backward                     outs [dx], ins [targets, g], ints [N, C, ignoreIndex, gStride], floats [scale]
//
// One warp per row (4 rows per 128-thread block): the row max and the sums are warp reductions,
// stable like the CPU (subtract the row max before exp). A whole warp past the last row returns
// at once (warp-level code only, no block barrier). Cross entropy is fused: the forward writes the
// loss and the row's log-sum-exp; the backward recomputes softmax = exp(x − lse) on the fly.
#include "../src/common.cuh"

namespace pb {
namespace {

constexpr int kRowsPerBlock = 4;

__device__ __forceinline__ float row_max(const float* x, int64_t n, int lane) {
  float m = -INFINITY;
  for (int64_t j = lane; j < n; j += 32) m = fmaxf(m, x[j]);
  return warp_max(m);
}

__global__ void softmax_kernel(float* __restrict__ y, const float* __restrict__ x, int64_t rows, int64_t n, int log) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (r >= rows) return;
  const float* xr = x + r * n;
  float* yr = y + r * n;
  const float m = row_max(xr, n, lane);
  float s = 0.f;
  for (int64_t j = lane; j < n; j += 32) s += expf(xr[j] - m);
  s = warp_sum(s);
  if (log) {
    const float lse = m + logf(s);
    for (int64_t j = lane; j < n; j += 32) yr[j] = xr[j] - lse;
  } else {
    const float inv = 1.f / s;
    for (int64_t j = lane; j < n; j += 32) yr[j] = expf(xr[j] - m) * inv;
  }
}

__global__ void softmax_backward_kernel(float* __restrict__ dx, const float* __restrict__ g, const float* __restrict__ y, int64_t rows, int64_t n, int log) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (r >= rows) return;
  const float* gr = g + r * n;
  const float* yr = y + r * n;
  float* dr = dx + r * n;
  float s = 0.f;
  if (log) {
    for (int64_t j = lane; j < n; j += 32) s += gr[j];
    s = warp_sum(s);
    for (int64_t j = lane; j < n; j += 32) dr[j] = gr[j] - expf(yr[j]) * s;
  } else {
    for (int64_t j = lane; j < n; j += 32) s += gr[j] * yr[j];
    s = warp_sum(s);
    for (int64_t j = lane; j < n; j += 32) dr[j] = yr[j] * (gr[j] - s);
  }
}

unsigned row_blocks(KernelCall& c, int64_t rows) {
  const int64_t b = ceil_div(rows, kRowsPerBlock);
  if (b > 0x7fffffff) c.fail("too many rows");
  return static_cast<unsigned>(b);
}

template <int LOG>
void softmax_launcher(KernelCall& c) {
  c.need_ints(2);
  const int64_t rows = c.i(0), n = c.i(1);
  float* y = c.outF(0, rows * n);
  const float* x = c.inF(0, rows * n);
  if (rows * n == 0) return;
  KERNEL_LAUNCH(softmax_kernel, row_blocks(c, rows), 32 * kRowsPerBlock, 0, c.stream)(y, x, rows, n, LOG);
}

template <int LOG>
void softmax_backward_launcher(KernelCall& c) {
  c.need_ints(2);
  const int64_t rows = c.i(0), n = c.i(1);
  float* dx = c.outF(0, rows * n);
  const float* g = c.inF(0, rows * n);
  const float* y = c.inF(1, rows * n);
  if (rows * n == 0) return;
  KERNEL_LAUNCH(softmax_backward_kernel, row_blocks(c, rows), 32 * kRowsPerBlock, 0, c.stream)(dx, g, y, rows, n, LOG);
}

// ---- cross entropy -----------------------------------------------------------------------------
__global__ void cross_entropy_kernel(float* __restrict__ loss, float* __restrict__ lse, const float* __restrict__ x, const int32_t* __restrict__ targets,
                                     int64_t N, int64_t C, int ignore) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (r >= N) return;
  const float* xr = x + r * C;
  const float m = row_max(xr, C, lane);
  float s = 0.f;
  for (int64_t j = lane; j < C; j += 32) s += expf(xr[j] - m);
  s = warp_sum(s);
  if (lane == 0) {
    const float l = m + logf(s);
    lse[r] = l;
    const int t = targets[r];
    // the op checks targets on the host; an out-of-range one gives NaN here, never a wild read
    loss[r] = t == ignore ? 0.f : (t >= 0 && t < C ? l - xr[t] : NAN);
  }
}

void cross_entropy(KernelCall& c) {
  c.need_ints(3);
  const int64_t N = c.i(0), C = c.i(1);
  const int ignore = static_cast<int>(c.i(2));
  float* loss = c.outF(0, N);
  float* lse = c.outF(1, N);
  const float* x = c.inF(0, N * C);
  const int32_t* t = c.inI(1, N);
  if (N == 0) return;
  KERNEL_LAUNCH(cross_entropy_kernel, row_blocks(c, N), 32 * kRowsPerBlock, 0, c.stream)(loss, lse, x, t, N, C, ignore);
}

// dx[r, c] = scale·g[r·gStride]·(exp(x[r, c] − lse[r]) − [c = t_r]), 0 on ignored rows. Thread per element.
__global__ void cross_entropy_backward_kernel(float* __restrict__ dx, const float* __restrict__ x, const int32_t* __restrict__ targets, const float* __restrict__ lse,
                                              const float* __restrict__ g, int64_t N, int64_t C, int ignore, int64_t gStride, double scale) {
  PB_GRID_STRIDE(e, N * C) {
    const int64_t r = e / C, col = e % C;
    const int t = targets[r];
    if (t == ignore) { dx[e] = 0.f; continue; }
    const float k = static_cast<float>(scale * static_cast<double>(g[r * gStride]));
    const float p = k * expf(x[e] - lse[r]);
    dx[e] = col == t ? p - k : p;
  }
}

void cross_entropy_backward(KernelCall& c) {
  c.need_ints(4);
  c.need_floats(1);
  const int64_t N = c.i(0), C = c.i(1), gStride = c.i(3);
  const int ignore = static_cast<int>(c.i(2));
  float* dx = c.outF(0, N * C);
  const float* x = c.inF(0, N * C);
  const int32_t* t = c.inI(1, N);
  const float* lse = c.inF(2, N);
  const float* g = c.inF(3);
  c.need_at_least(c.in(3), "g", gStride ? N : 1);
  if (N * C == 0) return;
  KERNEL_LAUNCH(cross_entropy_backward_kernel, grid_1d(N * C), 256, 0, c.stream)(dx, x, t, lse, g, N, C, ignore, gStride, c.f(0));
}

__global__ void nll_loss_kernel(float* __restrict__ loss, const float* __restrict__ logp, const int32_t* __restrict__ targets, int64_t N, int64_t C, int ignore) {
  PB_GRID_STRIDE(r, N) {
    const int t = targets[r];
    loss[r] = t == ignore ? 0.f : (t >= 0 && t < C ? -logp[r * C + t] : NAN);
  }
}

void nll_loss(KernelCall& c) {
  c.need_ints(3);
  const int64_t N = c.i(0), C = c.i(1);
  float* loss = c.outF(0, N);
  const float* logp = c.inF(0, N * C);
  const int32_t* t = c.inI(1, N);
  if (N) KERNEL_LAUNCH(nll_loss_kernel, grid_1d(N), 256, 0, c.stream)(loss, logp, t, N, C, static_cast<int>(c.i(2)));
}

__global__ void nll_loss_backward_kernel(float* __restrict__ dx, const int32_t* __restrict__ targets, const float* __restrict__ g, int64_t N, int64_t C, int ignore,
                                         int64_t gStride, double scale) {
  PB_GRID_STRIDE(e, N * C) {
    const int64_t r = e / C, col = e % C;
    const int t = targets[r];
    dx[e] = (t != ignore && col == t) ? static_cast<float>(-scale * static_cast<double>(g[r * gStride])) : 0.f;
  }
}

void nll_loss_backward(KernelCall& c) {
  c.need_ints(4);
  c.need_floats(1);
  const int64_t N = c.i(0), C = c.i(1), gStride = c.i(3);
  float* dx = c.outF(0, N * C);
  const int32_t* t = c.inI(0, N);
  const float* g = c.inF(1);
  c.need_at_least(c.in(1), "g", gStride ? N : 1);
  if (N * C > 0) KERNEL_LAUNCH(nll_loss_backward_kernel, grid_1d(N * C), 256, 0, c.stream)(dx, t, g, N, C, static_cast<int>(c.i(2)), gStride, c.f(0));
}

}  // namespace
}  // namespace pb

using namespace pb;
REGISTER_KERNEL("softmax", 1, 1, softmax_launcher<0>);
REGISTER_KERNEL("log_softmax", 1, 1, softmax_launcher<1>);
REGISTER_KERNEL("softmax_backward", 1, 2, softmax_backward_launcher<0>);
REGISTER_KERNEL("log_softmax_backward", 1, 2, softmax_backward_launcher<1>);
REGISTER_KERNEL("cross_entropy", 2, 2, cross_entropy);
REGISTER_KERNEL("cross_entropy_backward", 1, 4, cross_entropy_backward);
REGISTER_KERNEL("nll_loss", 1, 2, nll_loss);
REGISTER_KERNEL("nll_loss_backward", 1, 2, nll_loss_backward);
