// Gathers and their deterministic scatter-add backwards: twins of src/backend/cpu/embedding.ts and
// indexing.ts.
//
//   embedding               outs [out [N,D]], ins [weight [V,D], ids i32 [N]], ints [N, V, D]
//   embedding_backward      outs [dW [V,D]], ins [g [N,D], ids], ints [N, V, D]
//   index_select            outs [out [outer,k,inner]], ins [x [outer,n,inner], idx i32 [k]], ints [outer, n, inner, k]
//   index_select_backward   outs [dx [outer,n,inner]], ins [g, idx], ints [outer, n, inner, k]
//   gather                  outs [out], ins [x, index i32], ints [nd, ...indexShape, ...xStrides (axis → 0), axisStride]
//   gather_backward         outs [dx], ins [g, index], ints as gather
//
// Determinism (the CPU adds contributions in increasing source position, in float32): the device
// keeps exactly that order, so the results are bit-identical and run-to-run reproducible —
//   * embedding_backward / index_select_backward: one block per destination row v. It streams
//     the ids in order, compacts the positions j with ids[j] = v into shared memory (warp ballots +
//     an in-order prefix over the warps), and its threads, one per column, add g[j, :] in that
//     order. No atomics. Cost O(V·N) id reads + O(N·D) g reads: right for byte/palette vocabularies
//     (V of a few hundred); a sort by id would be the route for very large V.
//   * gather_backward: the contributions to one dx element all lie on one "line" (the index
//     positions that share every coordinate but the axis); a thread per line walks the axis in order.
// Out-of-range ids are checked on the host by the ops; here they write NaN (forward) or are skipped.
#include "../src/common.cuh"

namespace pb {
namespace {

// out[o, j, i] = x[o, idx[j], i]; embedding is outer = 1.
__global__ void index_select_kernel(float* __restrict__ out, const float* __restrict__ x, const int32_t* __restrict__ idx, int64_t outer, int64_t n, int64_t inner,
                                    int64_t k) {
  PB_GRID_STRIDE(e, outer * k * inner) {
    const int64_t i = e % inner, j = (e / inner) % k, o = e / (inner * k);
    const int32_t v = idx[j];
    out[e] = (v >= 0 && v < n) ? x[(o * n + v) * inner + i] : NAN;
  }
}

/**
 * Block (o, v): dx[o, v, :] = Σ_{j ascending, idx[j] = v} g[o, j, :]. blockDim.x a multiple of
 * 32; every thread reaches every barrier (the column loop and the id loop have block-uniform bounds).
 */
__global__ void index_add_rows_kernel(float* __restrict__ dx, const float* __restrict__ g, const int32_t* __restrict__ idx, int64_t n, int64_t inner, int64_t k) {
  __shared__ int32_t pos[256];
  __shared__ int32_t warp_base[9];
  const int64_t o = blockIdx.x / n, v = blockIdx.x % n;
  const int t = threadIdx.x, lane = t & 31, w = t >> 5, nw = blockDim.x >> 5;
  const float* gb = g + o * k * inner;
  float* dst = dx + (o * n + v) * inner;
  for (int64_t col0 = 0; col0 < inner; col0 += blockDim.x) {
    const int64_t col = col0 + t;
    float acc = 0.f;
    for (int64_t j0 = 0; j0 < k; j0 += blockDim.x) {
      const int64_t j = j0 + t;
      const bool hit = j < k && idx[j] == v;
      const unsigned ballot = __ballot_sync(0xffffffffu, hit);
      if (lane == 0) warp_base[w] = __popc(ballot);
      __syncthreads();
      if (t == 0) {  // in-order exclusive prefix over the warps
        int s = 0;
        for (int q = 0; q < nw; q++) { const int cnt = warp_base[q]; warp_base[q] = s; s += cnt; }
        warp_base[nw] = s;
      }
      __syncthreads();
      if (hit) pos[warp_base[w] + __popc(ballot & ((1u << lane) - 1u))] = static_cast<int32_t>(j);
      __syncthreads();
      const int hits = warp_base[nw];
      if (col < inner)
        for (int h = 0; h < hits; h++) acc += gb[static_cast<int64_t>(pos[h]) * inner + col];
      __syncthreads();  // pos and warp_base are rewritten by the next chunk
    }
    if (col < inner) dst[col] = acc;
  }
}

void launch_index_select(KernelCall& c, int64_t outer, int64_t n, int64_t inner, int64_t k, bool embedding) {
  float* out = c.outF(0, outer * k * inner);
  const float* x = c.inF(0, outer * n * inner);
  const int32_t* idx = c.inI(1, k);
  (void)embedding;
  if (outer * k * inner == 0) return;
  KERNEL_LAUNCH(index_select_kernel, grid_1d(outer * k * inner), 256, 0, c.stream)(out, x, idx, outer, n, inner, k);
}

void launch_index_add(KernelCall& c, int64_t outer, int64_t n, int64_t inner, int64_t k) {
  float* dx = c.outF(0, outer * n * inner);
  const float* g = c.inF(0, outer * k * inner);
  const int32_t* idx = c.inI(1, k);
  if (outer * n * inner == 0) return;
  if (outer * n > 0x7fffffff) c.fail("too many destination rows");
  const int threads = inner >= 256 ? 256 : (inner > 64 ? 128 : 64);
  KERNEL_LAUNCH(index_add_rows_kernel, static_cast<unsigned>(outer * n), threads, 0, c.stream)(dx, g, idx, n, inner, k);
}

void embedding(KernelCall& c) {
  c.need_ints(3);
  launch_index_select(c, 1, c.i(1), c.i(2), c.i(0), true);  // [N, V, D]
}
void embedding_backward(KernelCall& c) {
  c.need_ints(3);
  launch_index_add(c, 1, c.i(1), c.i(2), c.i(0));
}
void index_select(KernelCall& c) {
  c.need_ints(4);
  launch_index_select(c, c.i(0), c.i(1), c.i(2), c.i(3), false);
}
void index_select_backward(KernelCall& c) {
  c.need_ints(4);
  launch_index_add(c, c.i(0), c.i(1), c.i(2), c.i(3));
}

// ---- gather along an axis ----------------------------------------------------------------------
struct GatherGeom {
  int nd, axis;
  int64_t n;  // elements of the index
  int64_t shape[kMaxDims];
  int64_t xstride[kMaxDims];
  int64_t axisStride;
};

GatherGeom gather_geom(KernelCall& c) {
  GatherGeom gg{};
  const int64_t nd = c.i(0);
  if (nd < 1 || nd > kMaxDims) c.fail("supports 1 to 8 dimensions");
  c.need_ints(static_cast<size_t>(2 + 2 * nd));
  gg.nd = static_cast<int>(nd);
  gg.n = 1;
  gg.axis = -1;
  for (int d = 0; d < nd; d++) {
    gg.shape[d] = c.i(1 + d);
    gg.xstride[d] = c.i(1 + nd + d);
    gg.n *= gg.shape[d];
    if (gg.xstride[d] == 0 && gg.axis < 0) gg.axis = d;
  }
  gg.axisStride = c.i(1 + 2 * nd);
  if (gg.axis < 0) gg.axis = 0;  // (only when x has no element with a zero stride: empty tensors)
  return gg;
}

__global__ void gather_kernel(float* __restrict__ out, const float* __restrict__ x, const int32_t* __restrict__ index, GatherGeom gg, int64_t xn) {
  PB_GRID_STRIDE(p, gg.n) {
    int64_t q = p, base = 0;
    for (int d = gg.nd - 1; d >= 0; d--) {
      const int64_t c = q % gg.shape[d];
      q /= gg.shape[d];
      base += c * gg.xstride[d];
    }
    const int64_t src = base + static_cast<int64_t>(index[p]) * gg.axisStride;
    out[p] = (src >= 0 && src < xn) ? x[src] : NAN;
  }
}

// One thread per line (all index coordinates but the axis): walk the axis in order, scatter-add.
__global__ void gather_backward_kernel(float* __restrict__ dx, const float* __restrict__ g, const int32_t* __restrict__ index, GatherGeom gg, int64_t lines, int64_t xn) {
  PB_GRID_STRIDE(line, lines) {
    // decompose the line over the non-axis dimensions
    int64_t q = line, base = 0, p0 = 0, pstride = 1, axisPStride = 1;
    for (int d = gg.nd - 1; d >= 0; d--) {
      if (d == gg.axis) { axisPStride = pstride; pstride *= gg.shape[d]; continue; }
      const int64_t c = q % gg.shape[d];
      q /= gg.shape[d];
      base += c * gg.xstride[d];
      p0 += c * pstride;
      pstride *= gg.shape[d];
    }
    for (int64_t a = 0; a < gg.shape[gg.axis]; a++) {
      const int64_t p = p0 + a * axisPStride;
      const int64_t dst = base + static_cast<int64_t>(index[p]) * gg.axisStride;
      if (dst >= 0 && dst < xn) dx[dst] += g[p];
    }
  }
}

void gather(KernelCall& c) {
  GatherGeom gg = gather_geom(c);
  float* out = c.outF(0, gg.n);
  const int32_t* index = c.inI(1, gg.n);
  const float* x = c.inF(0);
  if (gg.n) KERNEL_LAUNCH(gather_kernel, grid_1d(gg.n), 256, 0, c.stream)(out, x, index, gg, static_cast<int64_t>(c.in(0).numel));
}

void gather_backward(KernelCall& c) {
  GatherGeom gg = gather_geom(c);
  float* dx = c.outF(0);
  const float* g = c.inF(0, gg.n);
  const int32_t* index = c.inI(1, gg.n);
  rt::memset_async(dx, 0, c.out(0).bytes, c.stream);
  if (gg.n == 0) return;
  const int64_t lines = gg.n / gg.shape[gg.axis];
  KERNEL_LAUNCH(gather_backward_kernel, grid_1d(lines), 256, 0, c.stream)(dx, g, index, gg, lines, static_cast<int64_t>(c.out(0).numel));
}

}  // namespace
}  // namespace pb

using namespace pb;
REGISTER_KERNEL("embedding", 1, 2, embedding);
REGISTER_KERNEL("embedding_backward", 1, 2, embedding_backward);
REGISTER_KERNEL("index_select", 1, 2, index_select);
REGISTER_KERNEL("index_select_backward", 1, 2, index_select_backward);
REGISTER_KERNEL("gather", 1, 2, gather);
REGISTER_KERNEL("gather_backward", 1, 2, gather_backward);
