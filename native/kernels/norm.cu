// LayerNorm and RMSNorm over the last dimension: twins of src/backend/cpu/norm.ts. x is [N, D].
//
//   layernorm            outs [y, mean [N], rstd [N]], ins [x, weight?, bias?], ints [N, D, hasWeight, hasBias], floats [eps]
//   layernorm_backward   outs [dx, dweight?, dbias?], ins [g, x, mean, rstd, weight?], ints [N, D, hasWeight, hasBias]
//   rmsnorm              outs [y, rstd [N]], ins [x, weight?], ints [N, D, hasWeight], floats [eps]
//   rmsnorm_backward     outs [dx, dweight?], ins [g, x, rstd, weight?], ints [N, D, hasWeight]
//
// Forward: one warp per row (llm.c's layernorm v3), statistics and y in double with two passes
// (mean, then the centred sum of squares — no E[x²] − E[x]² cancellation), as the CPU. Backward: a warp
// per row for dx; dweight/dbias are column sums over the N rows, done deterministically in two
// passes (fixed partial sums over chunks of 256 rows, then the chunks added in order) — no atomics.
#include "../src/common.cuh"

namespace pb {
namespace {

constexpr int kRows = 4;          // rows (warps) per 128-thread block
constexpr int kChunkRows = 256;   // rows per partial sum of the weight gradients

__device__ __forceinline__ double warp_sum_d(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__global__ void layernorm_kernel(float* __restrict__ y, float* __restrict__ mean_out, float* __restrict__ rstd_out, const float* __restrict__ x, const float* __restrict__ w,
                                 const float* __restrict__ b, int64_t N, int64_t D, double eps, int rms) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * kRows + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (r >= N) return;  // whole warps only: no block barrier in this kernel
  const float* xr = x + r * D;
  double mean = 0;
  if (!rms) {
    double s = 0;
    for (int64_t j = lane; j < D; j += 32) s += xr[j];
    mean = warp_sum_d(s) / static_cast<double>(D);
  }
  double v = 0;
  for (int64_t j = lane; j < D; j += 32) { const double c = xr[j] - mean; v += c * c; }
  v = warp_sum_d(v);
  const double rstd_d = 1.0 / sqrt(v / static_cast<double>(D) + eps);
  // y in double, rounded once: x − mean must not round the mean to float first (a row of mean
  // 1000 and standard deviation 1e-3 would lose ~5 % of x̂)
  float* yr = y + r * D;
  for (int64_t j = lane; j < D; j += 32) {
    double o = (static_cast<double>(xr[j]) - mean) * rstd_d;
    if (w) o *= w[j];
    if (b) o += b[j];
    yr[j] = static_cast<float>(o);
  }
  if (lane == 0) {
    if (mean_out) mean_out[r] = static_cast<float>(mean);
    rstd_out[r] = static_cast<float>(rstd_d);
  }
}

__global__ void layernorm_backward_dx_kernel(float* __restrict__ dx, const float* __restrict__ g, const float* __restrict__ x, const float* __restrict__ mean,
                                             const float* __restrict__ rstd, const float* __restrict__ w, int64_t N, int64_t D, int rms) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * kRows + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (r >= N) return;
  const float* gr = g + r * D;
  const float* xr = x + r * D;
  const float m = rms ? 0.f : mean[r], rs = rstd[r];
  float sdn = 0.f, sdnx = 0.f;
  for (int64_t j = lane; j < D; j += 32) {
    const float xh = (xr[j] - m) * rs;
    const float dn = w ? gr[j] * w[j] : gr[j];
    sdn += dn;
    sdnx += dn * xh;
  }
  const float mdn = rms ? 0.f : warp_sum(sdn) / static_cast<float>(D);
  const float mdnx = warp_sum(sdnx) / static_cast<float>(D);
  float* dr = dx + r * D;
  for (int64_t j = lane; j < D; j += 32) {
    const float xh = (xr[j] - m) * rs;
    const float dn = w ? gr[j] * w[j] : gr[j];
    dr[j] = rs * (dn - mdn - xh * mdnx);
  }
}

// Partial column sums over one chunk of rows: pw[chunk, j] = Σ g·x̂, pb[chunk, j] = Σ g. Block (32, 8).
__global__ void norm_wgrad_partial_kernel(float* __restrict__ pw, float* __restrict__ pb, const float* __restrict__ g, const float* __restrict__ x,
                                          const float* __restrict__ mean, const float* __restrict__ rstd, int64_t N, int64_t D, int rms) {
  __shared__ float sw[8][33];
  __shared__ float sb[8][33];
  const int64_t j = static_cast<int64_t>(blockIdx.x) * 32 + threadIdx.x;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * kChunkRows;
  const int64_t r1 = r0 + kChunkRows < N ? r0 + kChunkRows : N;
  float aw = 0.f, ab = 0.f;
  if (j < D) {
    for (int64_t r = r0 + threadIdx.y; r < r1; r += 8) {
      const float gv = g[r * D + j];
      const float xh = (x[r * D + j] - (rms ? 0.f : mean[r])) * rstd[r];
      aw += gv * xh;
      ab += gv;
    }
  }
  sw[threadIdx.y][threadIdx.x] = aw;
  sb[threadIdx.y][threadIdx.x] = ab;
  __syncthreads();
  if (threadIdx.y == 0 && j < D) {
    float tw = 0.f, tb = 0.f;
    for (int q = 0; q < 8; q++) { tw += sw[q][threadIdx.x]; tb += sb[q][threadIdx.x]; }
    if (pw) pw[blockIdx.y * D + j] = tw;
    if (pb) pb[blockIdx.y * D + j] = tb;
  }
}

// out[j] = Σ_chunks part[chunk, j], chunks in order.
__global__ void sum_chunks_kernel(float* __restrict__ out, const float* __restrict__ part, int64_t chunks, int64_t D) {
  PB_GRID_STRIDE(j, D) {
    float s = 0.f;
    for (int64_t q = 0; q < chunks; q++) s += part[q * D + j];
    out[j] = s;
  }
}

unsigned rows_grid(KernelCall& c, int64_t N) {
  const int64_t b = ceil_div(N, kRows);
  if (b > 0x7fffffff) c.fail("too many rows");
  return static_cast<unsigned>(b);
}

void layernorm_impl(KernelCall& c, bool rms) {
  const size_t nints = rms ? 3 : 4;
  c.need_ints(nints);
  c.need_floats(1);
  const int64_t N = c.i(0), D = c.i(1);
  const bool hw = c.i(2) != 0, hb = !rms && c.i(3) != 0;
  c.need_outs(rms ? 2 : 3);
  c.need_ins(1 + hw + hb);
  float* y = c.outF(0, N * D);
  float* mean = rms ? nullptr : c.outF(1, N);
  float* rstd = c.outF(rms ? 1 : 2, N);
  const float* x = c.inF(0, N * D);
  const float* w = hw ? c.inF(1, D) : nullptr;
  const float* b = hb ? c.inF(hw ? 2 : 1, D) : nullptr;
  if (N == 0) return;
  KERNEL_LAUNCH(layernorm_kernel, rows_grid(c, N), 32 * kRows, 0, c.stream)(y, mean, rstd, x, w, b, N, D, c.f(0), rms ? 1 : 0);
}

void layernorm_backward_impl(KernelCall& c, bool rms) {
  c.need_ints(rms ? 3 : 4);
  const int64_t N = c.i(0), D = c.i(1);
  const bool hw = c.i(2) != 0, hb = !rms && c.i(3) != 0;
  c.need_outs(1 + hw + hb);
  c.need_ins(rms ? 3 + hw : 4 + hw);
  float* dx = c.outF(0, N * D);
  float* dw = hw ? c.outF(1, D) : nullptr;
  float* db = hb ? c.outF(hw ? 2 : 1, D) : nullptr;
  const float* g = c.inF(0, N * D);
  const float* x = c.inF(1, N * D);
  const float* mean = rms ? nullptr : c.inF(2, N);
  const float* rstd = c.inF(rms ? 2 : 3, N);
  const float* w = hw ? c.inF(rms ? 3 : 4, D) : nullptr;
  if (N > 0 && D > 0) KERNEL_LAUNCH(layernorm_backward_dx_kernel, rows_grid(c, N), 32 * kRows, 0, c.stream)(dx, g, x, mean, rstd, w, N, D, rms ? 1 : 0);
  if ((dw || db) && D > 0) {
    if (N == 0) {
      if (dw) rt::memset_async(dw, 0, static_cast<size_t>(D) * 4, c.stream);
      if (db) rt::memset_async(db, 0, static_cast<size_t>(D) * 4, c.stream);
      return;
    }
    const int64_t chunks = ceil_div(N, kChunkRows);
    if (chunks > 65535) c.fail("too many rows for the weight-gradient reduction");
    TempBuffer pw(dw ? static_cast<size_t>(chunks * D) * 4 : 4), pb(db ? static_cast<size_t>(chunks * D) * 4 : 4);
    dim3 grid(static_cast<unsigned>(ceil_div(D, 32)), static_cast<unsigned>(chunks));
    KERNEL_LAUNCH(norm_wgrad_partial_kernel, grid, dim3(32, 8), 0, c.stream)(dw ? pw.as<float>() : nullptr, db ? pb.as<float>() : nullptr, g, x, mean, rstd, N, D, rms ? 1 : 0);
    if (dw) KERNEL_LAUNCH(sum_chunks_kernel, grid_1d(D), 256, 0, c.stream)(dw, pw.as<float>(), chunks, D);
    if (db) KERNEL_LAUNCH(sum_chunks_kernel, grid_1d(D), 256, 0, c.stream)(db, pb.as<float>(), chunks, D);
  }
}

void layernorm(KernelCall& c) { layernorm_impl(c, false); }
void rmsnorm(KernelCall& c) { layernorm_impl(c, true); }
void layernorm_backward(KernelCall& c) { layernorm_backward_impl(c, false); }
void rmsnorm_backward(KernelCall& c) { layernorm_backward_impl(c, true); }

}  // namespace
}  // namespace pb

using namespace pb;
REGISTER_KERNEL("layernorm", 3, -1, layernorm);
REGISTER_KERNEL("layernorm_backward", -1, -1, layernorm_backward);
REGISTER_KERNEL("rmsnorm", 2, -1, rmsnorm);
REGISTER_KERNEL("rmsnorm_backward", -1, -1, rmsnorm_backward);
