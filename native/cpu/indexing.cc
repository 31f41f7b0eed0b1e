// gather (torch.gather) and its deterministic scatter-add backward; the oracle is
// src/backend/cpu/indexing.ts. (index_select and embedding, row lookups, are in embedding.cc.)
//
//   gather           outs [out], ins [x, index i32 (same rank)], ints [nd, ...indexShape, ...xStrides (axis → 0), axisStride]
//                    out[p] = x[Σ_d p_d·xStrides[d] + index[p]·axisStride]     (float32 or int32 x: a copy)
//   gather_backward  outs [dx], ins [g (index's shape), index], ints as gather
//                    dx = 0; for p ascending: dx[Σ_d p_d·xStrides[d] + index[p]·axisStride] += g[p]
//
// The ints do not carry x's shape, so it is rebuilt from its row-major strides (the axis's own
// stride is axisStride) and the buffer's element count, and then checked: the strides must be
// row-major, index.shape[d] ≤ x.shape[d] off the axis, and every index in [0, x.shape[axis]) — the
// first bad one is an error naming its value, flat position and the range. Together these bound
// every read and write, and make two index positions collide in dx only when they share every
// coordinate but the axis (a "line") and hold the same index.
//
// Forward: elementwise over the index, split in equal element ranges (odometer per range).
// Backward (bit-identical to the oracle for any thread count): the contributions to one dx element
// all come from one line, and the oracle adds them in increasing axis coordinate. A task owns a set
// of lines — axis last: whole index rows; otherwise a block of last-dimension columns of one outer
// position, walked axis step by axis step — so each dx element has one owner adding in the
// oracle's order (float32, no atomics).
#include "common.h"

namespace pb {
namespace cpu {
namespace {

struct Gather {
  int nd = 0, axis = 0;
  int64_t n = 1;                  // elements of the index
  int64_t shape[kMaxDims] = {0};  // the index's shape
  int64_t xs[kMaxDims] = {0};     // x's strides, 0 on the axis (as passed)
  int64_t xshape[kMaxDims] = {0};
  int64_t sAxis = 0;
};

Gather gather_geometry(const KernelCall& c, int64_t xnumel, const char* xname) {
  Gather G;
  const int64_t nd = c.i(0);
  if (nd < 1 || nd > kMaxDims) c.fail("rank " + std::to_string(nd) + " is not in [1, " + std::to_string(kMaxDims) + "]");
  c.need_ints(static_cast<size_t>(2 + 2 * nd));
  G.nd = static_cast<int>(nd);
  G.axis = -1;
  for (int d = 0; d < G.nd; d++) {
    G.shape[d] = c.i(1 + d);
    G.xs[d] = c.i(1 + nd + d);
    if (G.shape[d] < 0) c.fail("index dimension " + std::to_string(d) + " has negative size " + std::to_string(G.shape[d]));
    if (G.shape[d] > 0 && G.n > (int64_t{1} << 40) / G.shape[d]) c.fail("the index shape's element count is too large");
    G.n *= G.shape[d];
    if (G.xs[d] == 0 && G.axis < 0) G.axis = d;
  }
  G.sAxis = c.i(1 + 2 * nd);
  if (G.n == 0) return G;   // nothing is read or written (dx is still zeroed)
  if (G.axis < 0) c.fail("no x stride is 0: the gather axis is the one whose stride is 0");
  // x's shape from its row-major strides S (S[axis] = axisStride): X[d] = S[d−1] / S[d], X[0] = numel / S[0]
  int64_t S[kMaxDims];
  for (int d = 0; d < G.nd; d++) S[d] = d == G.axis ? G.sAxis : G.xs[d];
  bool ok = S[G.nd - 1] == 1;
  for (int d = G.nd - 1; d >= 1 && ok; d--) {
    ok = S[d] > 0 && S[d - 1] > 0 && S[d - 1] % S[d] == 0;
    if (ok) G.xshape[d] = S[d - 1] / S[d];
  }
  if (ok) {
    G.xshape[0] = xnumel / S[0];
    ok = G.xshape[0] * S[0] == xnumel;
  }
  if (!ok) {
    std::string s;
    for (int d = 0; d < G.nd; d++) s += (d ? ", " : "") + std::to_string(S[d]);
    c.fail("strides [" + s + "] (axis " + std::to_string(G.axis) + " → axisStride) are not the row-major strides of " + xname + " with " + std::to_string(xnumel) + " elements");
  }
  for (int d = 0; d < G.nd; d++) {
    if (d != G.axis && G.shape[d] > G.xshape[d]) {
      c.fail("index dimension " + std::to_string(d) + " has size " + std::to_string(G.shape[d]) + ", larger than " + xname + "'s " + std::to_string(G.xshape[d]));
    }
  }
  return G;
}

void check_index(const KernelCall& c, const int32_t* index, int64_t n, int64_t range, int axis) {
  bool bad = false;
  for (int64_t p = 0; p < n; p++) bad |= (index[p] < 0) | (index[p] >= range);   // branch-free: vectorises
  if (!bad) return;
  for (int64_t p = 0; p < n; p++) {
    if (index[p] < 0 || index[p] >= range) {
      c.fail("index " + std::to_string(index[p]) + " at position " + std::to_string(p) + " is out of range [0, " + std::to_string(range) + ") along axis " + std::to_string(axis));
    }
  }
}

/** out[p] = x[base(p) + index[p]·sAxis] for p ∈ [p0, p1), 4-byte words. */
void gather_range(uint32_t* out, const uint32_t* x, const int32_t* index, const Gather& G, int64_t p0, int64_t p1) {
  const int nd = G.nd;
  const int64_t inner = G.shape[nd - 1], si = G.xs[nd - 1];
  int64_t idx[kMaxDims], base = 0, rest = p0 / inner;
  for (int d = nd - 2; d >= 0; d--) {
    idx[d] = rest % G.shape[d];
    rest /= G.shape[d];
    base += idx[d] * G.xs[d];
  }
  int64_t j = p0 % inner;
  for (int64_t p = p0; p < p1;) {
    const int64_t len = std::min(inner - j, p1 - p);
    for (int64_t t = 0; t < len; t++) out[p + t] = x[base + (j + t) * si + static_cast<int64_t>(index[p + t]) * G.sAxis];
    p += len;
    j = 0;
    for (int d = nd - 2; d >= 0; d--) {
      base += G.xs[d];
      if (++idx[d] < G.shape[d]) break;
      base -= G.xs[d] * G.shape[d];
      idx[d] = 0;
    }
  }
}

void gather(KernelCall& c) {
  const Gather G = gather_geometry(c, static_cast<int64_t>(c.in(0).numel), "x");
  if (c.out(0).dtype != c.in(0).dtype) c.fail(std::string("x is ") + dtype_name(c.in(0).dtype) + " but the output is " + dtype_name(c.out(0).dtype));
  if (static_cast<int64_t>(c.out(0).numel) != G.n) c.fail("output has " + std::to_string(c.out(0).numel) + " elements, the index " + std::to_string(G.n));
  const int32_t* index = c.inI(1, G.n);
  if (G.n == 0) return;
  check_index(c, index, G.n, G.xshape[G.axis], G.axis);
  uint32_t* out = static_cast<uint32_t*>(c.out(0).ptr);
  const uint32_t* x = static_cast<const uint32_t*>(c.in(0).ptr);
  parallel_for(G.n, kElementwiseGrain, [&](int64_t p0, int64_t p1) { gather_range(out, x, index, G, p0, p1); });
}

void gather_backward(KernelCall& c) {
  float* dx = c.outF(0);
  const int64_t xn = static_cast<int64_t>(c.out(0).numel);
  const Gather G = gather_geometry(c, xn, "dx");
  const float* g = c.inF(0, G.n);
  const int32_t* index = c.inI(1, G.n);
  if (G.n > 0) check_index(c, index, G.n, G.xshape[G.axis], G.axis);
  parallel_for(xn, 4 * kElementwiseGrain, [&](int64_t a, int64_t b) { std::memset(dx + a, 0, static_cast<size_t>(b - a) * sizeof(float)); });
  if (G.n == 0) return;
  const int nd = G.nd, last = nd - 1, axis = G.axis;
  const int64_t L = G.shape[last], A = G.shape[axis];
  if (axis == last) {
    // a task owns whole index rows: row r's contributions land in x row r only, added in order
    const int64_t rows = G.n / L;
    parallel_for(rows, std::max<int64_t>(1, kElementwiseGrain / L), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; r++) {
        int64_t rest = r, base = 0;
        for (int d = nd - 2; d >= 0; d--) { base += (rest % G.shape[d]) * G.xs[d]; rest /= G.shape[d]; }
        const float* gr = g + r * L;
        const int32_t* ir = index + r * L;
        for (int64_t j = 0; j < L; j++) dx[base + ir[j]] += gr[j];   // (the last stride is 1)
      }
    });
    return;
  }
  // axis < last: units = (outer position over the dims other than axis and last) × column block
  constexpr int64_t kCols = 256;
  const int64_t ncb = (L + kCols - 1) / kCols, outer = G.n / (A * L);
  int64_t pstride[kMaxDims];   // the index's row-major strides
  for (int d = nd - 1, s = 1; d >= 0; d--) { pstride[d] = s; s *= G.shape[d]; }
  parallel_for(outer * ncb, std::max<int64_t>(1, kElementwiseGrain / (A * std::min(L, kCols))), [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; u++) {
      int64_t rest = u / ncb, xb = 0, pb = 0;
      for (int d = nd - 2; d >= 0; d--) {
        if (d == axis) continue;
        const int64_t q = rest % G.shape[d];
        rest /= G.shape[d];
        xb += q * G.xs[d];
        pb += q * pstride[d];
      }
      const int64_t c0 = (u % ncb) * kCols, c1 = std::min(L, c0 + kCols);
      for (int64_t a = 0; a < A; a++) {   // the axis in increasing order: the oracle's order per line
        const int64_t p = pb + a * pstride[axis];
        for (int64_t j = c0; j < c1; j++) dx[xb + j + static_cast<int64_t>(index[p + j]) * G.sAxis] += g[p + j];
      }
    }
  });
}

}  // namespace
}  // namespace cpu
}  // namespace pb

REGISTER_KERNEL("gather", 1, 2, pb::cpu::gather);
REGISTER_KERNEL("gather_backward", 1, 2, pb::cpu::gather_backward);
