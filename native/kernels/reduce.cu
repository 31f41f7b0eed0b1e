// Reductions along one axis: twins of src/backend/cpu/reduce.ts. A tensor is viewed as
// [outer, n, inner] around the reduced axis.
//
//   sum_axis           outs [out (outer·inner)], ins [x], ints [outer, n, inner]
//   max_axis           outs [values, indices (int32)], ins [x], ints [outer, n, inner]
//                      first index of the max; NaN wins (as torch)
//   max_axis_backward  outs [dx], ins [g, indices], ints [outer, n, inner]
//   broadcast_to       outs [out], ins [x], ints [nd, ...outShape, ...xStrides]   (any 4-byte dtype)
//
// Sums are deterministic (fixed trees, no atomics): a block per row when inner = 1, else a
// 32×8 block per 32 columns with the n terms split over the 8 rows of threads.
#include "../src/common.cuh"

namespace pb {
namespace {

// inner == 1: one 256-thread block per row, strided partial sums, then a block tree.
__global__ void sum_rows_kernel(float* __restrict__ out, const float* __restrict__ x, int64_t n) {
  __shared__ float scratch[33];
  const float* row = x + static_cast<int64_t>(blockIdx.x) * n;
  float s = 0.f;
  for (int64_t k = threadIdx.x; k < n; k += blockDim.x) s += row[k];
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) out[blockIdx.x] = s;
}

// inner > 1: block (32, 8) owns 32 consecutive columns i of one outer index o.
__global__ void sum_cols_kernel(float* __restrict__ out, const float* __restrict__ x, int64_t n, int64_t inner, int64_t tiles) {
  __shared__ float part[8][33];
  const int64_t o = blockIdx.x / tiles, tile = blockIdx.x % tiles;
  const int64_t i = tile * 32 + threadIdx.x;
  float s = 0.f;
  if (i < inner) {
    const float* base = x + o * n * inner + i;
    for (int64_t k = threadIdx.y; k < n; k += 8) s += base[k * inner];
  }
  part[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0) {
    float t = 0.f;
    for (int r = 0; r < 8; r++) t += part[r][threadIdx.x];
    if (i < inner) out[o * inner + i] = t;
  }
}

void sum_axis(KernelCall& c) {
  c.need_ints(3);
  const int64_t outer = c.i(0), n = c.i(1), inner = c.i(2);
  float* out = c.outF(0, outer * inner);
  const float* x = c.inF(0, outer * n * inner);
  if (outer * inner == 0) return;
  if (n == 0) { rt::memset_async(out, 0, static_cast<size_t>(outer * inner) * 4, c.stream); return; }
  if (inner == 1) {
    if (outer > 0x7fffffff) c.fail("too many rows");
    KERNEL_LAUNCH(sum_rows_kernel, static_cast<unsigned>(outer), 256, 0, c.stream)(out, x, n);
  } else {
    const int64_t tiles = ceil_div(inner, 32);
    if (outer * tiles > 0x7fffffff) c.fail("too many columns");
    KERNEL_LAUNCH(sum_cols_kernel, static_cast<unsigned>(outer * tiles), dim3(32, 8), 0, c.stream)(out, x, n, inner, tiles);
  }
}

// One thread per (o, i): a sequential scan over n (first max wins; a NaN wins over numbers).
__global__ void max_axis_kernel(float* __restrict__ values, int32_t* __restrict__ indices, const float* __restrict__ x, int64_t outer, int64_t n, int64_t inner) {
  PB_GRID_STRIDE(j, outer * inner) {
    const int64_t o = j / inner, i = j % inner;
    const float* p = x + o * n * inner + i;
    float best = -INFINITY;
    int32_t arg = 0;
    for (int64_t k = 0; k < n; k++) {
      const float v = p[k * inner];
      if (v > best || (v != v && best == best)) { best = v; arg = static_cast<int32_t>(k); }
    }
    values[j] = best;
    indices[j] = arg;
  }
}

void max_axis(KernelCall& c) {
  c.need_ints(3);
  const int64_t outer = c.i(0), n = c.i(1), inner = c.i(2);
  float* values = c.outF(0, outer * inner);
  int32_t* indices = c.outI(1, outer * inner);
  const float* x = c.inF(0, outer * n * inner);
  if (outer * inner == 0) return;
  KERNEL_LAUNCH(max_axis_kernel, grid_1d(outer * inner), 256, 0, c.stream)(values, indices, x, outer, n, inner);
}

// dx[o, k, i] = g[o, i] if k = indices[o, i], else 0 — one thread per element of dx, no scatter.
__global__ void max_axis_backward_kernel(float* __restrict__ dx, const float* __restrict__ g, const int32_t* __restrict__ idx, int64_t n, int64_t inner, int64_t total) {
  PB_GRID_STRIDE(j, total) {
    const int64_t i = j % inner, k = (j / inner) % n, o = j / (inner * n);
    const int64_t r = o * inner + i;
    dx[j] = idx[r] == k ? g[r] : 0.f;
  }
}

void max_axis_backward(KernelCall& c) {
  c.need_ints(3);
  const int64_t outer = c.i(0), n = c.i(1), inner = c.i(2);
  const int64_t total = outer * n * inner;
  float* dx = c.outF(0, total);
  const float* g = c.inF(0, outer * inner);
  const int32_t* idx = c.inI(1, outer * inner);
  if (total == 0) return;
  KERNEL_LAUNCH(max_axis_backward_kernel, grid_1d(total), 256, 0, c.stream)(dx, g, idx, n, inner, total);
}

// out = x read with broadcast strides; copies 4-byte words, so it serves float32 and int32.
__global__ void broadcast_to_kernel(uint32_t* __restrict__ out, const uint32_t* __restrict__ x, Bcast g) {
  PB_GRID_STRIDE(i, g.n) {
    int64_t off[1];
    bcast_offsets<1>(g, i, off);
    out[i] = x[off[0]];
  }
}

void broadcast_to(KernelCall& c) {
  Bcast g = parse_bcast(c, 1);
  if (static_cast<int64_t>(c.out(0).numel) != g.n) c.fail("output has " + std::to_string(c.out(0).numel) + " elements, the shape needs " + std::to_string(g.n));
  if (c.out(0).dtype != c.in(0).dtype) c.fail("input and output dtypes differ");
  c.need_at_least(c.in(0), "input", bcast_extent(g, 0));
  if (g.n == 0) return;
  KERNEL_LAUNCH(broadcast_to_kernel, grid_1d(g.n), 256, 0, c.stream)(static_cast<uint32_t*>(c.out(0).ptr), static_cast<const uint32_t*>(c.in(0).ptr), g);
}

}  // namespace
}  // namespace pb

using namespace pb;
REGISTER_KERNEL("sum_axis", 1, 1, sum_axis);
REGISTER_KERNEL("max_axis", 2, 1, max_axis);
REGISTER_KERNEL("max_axis_backward", 1, 2, max_axis_backward);
REGISTER_KERNEL("broadcast_to", 1, 1, broadcast_to);
