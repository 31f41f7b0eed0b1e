// Layout kernels: twins of src/backend/cpu/layout.ts. Every one moves 4-byte words (float32 or
// int32), so one kernel serves both dtypes.
//
//   permute         outs [out], ins [x], ints [nd, ...xShape, ...perm]          out.shape[d] = xShape[perm[d]]
//   slice           outs [out], ins [x], ints [nd, ...outShape, offset, ...strides]
//                   out[idx] = x[offset + Σ idx_d·strides_d]   (strides may be negative: flip)
//   slice_backward  outs [dx], ins [g], ints as slice: dx = 0, then dx[offset + Σ idx_d·strides_d] = g[idx]
//   concat          outs [out], ins [x_0 … x_{K−1}], ints [outer, inner, n_0 … n_{K−1}]
//
// permute and slice are one strided gather: a thread per output element decomposes its index over
// the output shape (dimensions of length 1 dropped, contiguous neighbours merged first, as the CPU
// does). slice_backward is the same walk with the store on the strided side (positions distinct).
#include <vector>

#include "../src/common.cuh"

namespace pb {
namespace {

struct Strided {
  int nd;
  int64_t n;
  int64_t offset;
  int64_t shape[kMaxDims];
  int64_t stride[kMaxDims];
};

/** Drops length-1 dimensions and merges contiguous neighbours (fewer divisions per element). */
Strided make_strided(KernelCall& c, const std::vector<int64_t>& shape, const std::vector<int64_t>& strides, int64_t offset) {
  Strided s{};
  s.offset = offset;
  s.n = 1;
  for (int64_t d : shape) s.n *= d;
  std::vector<int64_t> sh, st;
  for (size_t d = 0; d < shape.size(); d++) {
    if (shape[d] == 1) continue;
    if (!sh.empty() && st.back() == strides[d] * shape[d]) { sh.back() *= shape[d]; st.back() = strides[d]; continue; }
    sh.push_back(shape[d]);
    st.push_back(strides[d]);
  }
  if (sh.size() > static_cast<size_t>(kMaxDims)) c.fail("supports at most 8 non-mergeable dimensions");
  s.nd = static_cast<int>(sh.size());
  for (int d = 0; d < s.nd; d++) { s.shape[d] = sh[d]; s.stride[d] = st[d]; }
  return s;
}

/** Lowest and highest strided position read/written, to check them against the buffer. */
void check_range(KernelCall& c, const Strided& s, const DeviceBuffer& b, const char* what) {
  if (s.n == 0) return;
  int64_t lo = s.offset, hi = s.offset;
  for (int d = 0; d < s.nd; d++) {
    const int64_t e = (s.shape[d] - 1) * s.stride[d];
    if (e < 0) lo += e; else hi += e;
  }
  if (lo < 0 || hi >= static_cast<int64_t>(b.numel)) c.fail(std::string(what) + " positions [" + std::to_string(lo) + ", " + std::to_string(hi) + "] fall outside its " + std::to_string(b.numel) + " elements");
}

__device__ __forceinline__ int64_t strided_pos(const Strided& s, int64_t i) {
  int64_t p = s.offset;
  for (int d = s.nd - 1; d >= 0; d--) {
    const int64_t q = i / s.shape[d];
    p += (i - q * s.shape[d]) * s.stride[d];
    i = q;
  }
  return p;
}

__global__ void gather_strided_kernel(uint32_t* __restrict__ out, const uint32_t* __restrict__ x, Strided s) {
  PB_GRID_STRIDE(i, s.n) out[i] = x[strided_pos(s, i)];
}

__global__ void scatter_strided_kernel(uint32_t* __restrict__ dx, const uint32_t* __restrict__ g, Strided s) {
  PB_GRID_STRIDE(i, s.n) dx[strided_pos(s, i)] = g[i];
}

void check_words(KernelCall& c) {
  if (c.out(0).dtype != c.in(0).dtype) c.fail("input and output dtypes differ");
}

void permute(KernelCall& c) {
  const int64_t nd = c.i(0);
  if (nd < 0 || nd > kMaxDims) c.fail("supports at most 8 dimensions");
  c.need_ints(static_cast<size_t>(1 + 2 * nd));
  check_words(c);
  std::vector<int64_t> shape(nd), xs(nd), outShape(nd), strides(nd);
  for (int64_t d = 0; d < nd; d++) shape[d] = c.i(1 + d);
  for (int64_t d = nd - 1, acc = 1; d >= 0; d--) { xs[d] = acc; acc *= shape[d]; }
  for (int64_t d = 0; d < nd; d++) {
    const int64_t p = c.i(1 + nd + d);
    if (p < 0 || p >= nd) c.fail("perm entry " + std::to_string(p) + " out of range");
    outShape[d] = shape[p];
    strides[d] = xs[p];
  }
  Strided s = make_strided(c, outShape, strides, 0);
  if (static_cast<int64_t>(c.out(0).numel) != s.n || static_cast<int64_t>(c.in(0).numel) != s.n) c.fail("input/output sizes do not match the shape");
  if (s.n == 0) return;
  KERNEL_LAUNCH(gather_strided_kernel, grid_1d(s.n), 256, 0, c.stream)(static_cast<uint32_t*>(c.out(0).ptr), static_cast<const uint32_t*>(c.in(0).ptr), s);
}

Strided slice_geometry(KernelCall& c) {
  const int64_t nd = c.i(0);
  if (nd < 0 || nd > kMaxDims) c.fail("supports at most 8 dimensions");
  c.need_ints(static_cast<size_t>(2 + 2 * nd));
  std::vector<int64_t> shape(nd), strides(nd);
  for (int64_t d = 0; d < nd; d++) { shape[d] = c.i(1 + d); strides[d] = c.i(2 + nd + d); }
  return make_strided(c, shape, strides, c.i(1 + nd));
}

void slice(KernelCall& c) {
  check_words(c);
  Strided s = slice_geometry(c);
  if (static_cast<int64_t>(c.out(0).numel) != s.n) c.fail("output size does not match the shape");
  check_range(c, s, c.in(0), "input");
  if (s.n == 0) return;
  KERNEL_LAUNCH(gather_strided_kernel, grid_1d(s.n), 256, 0, c.stream)(static_cast<uint32_t*>(c.out(0).ptr), static_cast<const uint32_t*>(c.in(0).ptr), s);
}

void slice_backward(KernelCall& c) {
  check_words(c);
  Strided s = slice_geometry(c);
  if (static_cast<int64_t>(c.in(0).numel) != s.n) c.fail("g size does not match the shape");
  check_range(c, s, c.out(0), "dx");
  rt::memset_async(c.out(0).ptr, 0, c.out(0).bytes, c.stream);
  if (s.n == 0) return;
  KERNEL_LAUNCH(scatter_strided_kernel, grid_1d(s.n), 256, 0, c.stream)(static_cast<uint32_t*>(c.out(0).ptr), static_cast<const uint32_t*>(c.in(0).ptr), s);
}

// out[o, off + j] = x[o, j] for j < block (rows of `block` words out of rows of `row` words)
__global__ void concat_kernel(uint32_t* __restrict__ out, const uint32_t* __restrict__ x, int64_t outer, int64_t block, int64_t row, int64_t off) {
  PB_GRID_STRIDE(e, outer * block) {
    const int64_t o = e / block, j = e - o * block;
    out[o * row + off + j] = x[e];
  }
}

void concat(KernelCall& c) {
  const size_t K = c.ins.size();
  c.need_ints(2 + K);
  const int64_t outer = c.i(0), inner = c.i(1);
  int64_t total = 0;
  for (size_t k = 0; k < K; k++) {
    total += c.i(2 + k);
    if (c.in(k).dtype != c.out(0).dtype) c.fail("input " + std::to_string(k) + " has another dtype than the output");
    if (static_cast<int64_t>(c.in(k).numel) != outer * c.i(2 + k) * inner) c.fail("input " + std::to_string(k) + " has the wrong size");
  }
  if (static_cast<int64_t>(c.out(0).numel) != outer * total * inner) c.fail("output has the wrong size");
  const int64_t row = total * inner;
  int64_t off = 0;
  for (size_t k = 0; k < K; k++) {
    const int64_t block = c.i(2 + k) * inner;
    if (outer * block > 0)
      KERNEL_LAUNCH(concat_kernel, grid_1d(outer * block), 256, 0, c.stream)(static_cast<uint32_t*>(c.out(0).ptr), static_cast<const uint32_t*>(c.in(k).ptr), outer, block, row, off);
    off += block;
  }
}

}  // namespace
}  // namespace pb

using namespace pb;
REGISTER_KERNEL("permute", 1, 1, permute);
REGISTER_KERNEL("slice", 1, 1, slice);
REGISTER_KERNEL("slice_backward", 1, 1, slice_backward);
REGISTER_KERNEL("concat", 1, -1, concat);
