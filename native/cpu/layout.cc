// Layout kernels (src/backend/cpu/layout.ts is their oracle and documents the conventions). Each
// one moves 4-byte words (float32 or int32: a copy moves bits), so one kernel serves both dtypes.
//
//   permute         outs [out], ins [x], ints [nd, ...xShape, ...perm]       out.shape[d] = xShape[perm[d]]
//   slice           outs [out], ins [x], ints [nd, ...outShape, offset, ...strides]
//                   out[idx] = x[offset + Σ_d idx_d·strides[d]]   (strides may be negative: flip)
//   slice_backward  outs [dx], ins [g], ints as slice: dx = 0, then dx[offset + Σ idx_d·strides[d]] = g[idx]
//   concat          outs [out], ins [x_0 … x_{K−1}], ints [outer, inner, n_0 … n_{K−1}]
//                   out viewed [outer, Σ n_k, inner]; input k lands at axis offset Σ_{j<k} n_j
//
// permute, slice and slice_backward are one strided copy between a dense side (walked in row-major
// order) and a strided side (offset + Σ idx·stride). As in the oracle, length-1 dimensions are
// dropped and neighbours contiguous on the strided side merged first. Then:
//   * the strided side's innermost stride is ±1 or no dimension has stride 1: rows — the dense
//     range is split into equal element ranges, one per thread, each walked with an odometer
//     (a unit-stride row is a plain copy loop the compiler vectorises);
//   * some outer dimension j has stride 1 (a permute that moves the contiguous axis, e.g. the
//     PxByEmbed [N, 3, 3, E] → [N, E, 3, 3]): a blocked transpose of (j, last) in 16×16 tiles,
//     so reads and writes both stay inside a few cache lines; tiles are split over the threads.
// Every strided position is range-checked up front (lowest and highest position against the
// buffer). slice_backward writes distinct positions when the strides do not overlap (checked: the
// dimensions sorted by |stride| must each step past the span of the smaller ones); an overlapping
// geometry runs serially in the oracle's order (last write wins), so it is never a data race.
#include "common.h"

namespace pb {
namespace cpu {
namespace {

using word = uint32_t;
constexpr int64_t kTile = 16;

/** A strided walk: dense element i (row-major over shape) ↔ strided position offset + Σ idx_d·stride[d]. */
struct Walk {
  int nd = 0;
  int64_t n = 1;
  int64_t offset = 0;
  int64_t shape[kMaxDims] = {0};
  int64_t stride[kMaxDims] = {0};
};

/** Drops length-1 dimensions and merges (d, d+1) when stride[d] = stride[d+1]·shape[d+1]. */
Walk make_walk(const KernelCall& c, const int64_t* shape, const int64_t* strides, int nd, int64_t offset) {
  Walk w;
  w.offset = offset;
  for (int d = 0; d < nd; d++) {
    if (shape[d] < 0) c.fail("dimension " + std::to_string(d) + " has negative size " + std::to_string(shape[d]));
    if (w.n != 0 && shape[d] > (int64_t{1} << 62) / w.n) c.fail("the shape's element count overflows");
    w.n *= shape[d];
  }
  for (int d = 0; d < nd; d++) {
    if (shape[d] == 1) continue;
    if (w.nd > 0 && w.stride[w.nd - 1] == strides[d] * shape[d]) {
      w.shape[w.nd - 1] *= shape[d];
      w.stride[w.nd - 1] = strides[d];
      continue;
    }
    w.shape[w.nd] = shape[d];
    w.stride[w.nd] = strides[d];
    w.nd++;
  }
  return w;
}

/** Lowest and highest strided position must lie inside a buffer of `numel` words. */
void check_range(const KernelCall& c, const Walk& w, int64_t numel, const char* what) {
  if (w.n == 0) return;
  int64_t lo = w.offset, hi = w.offset;
  for (int d = 0; d < w.nd; d++) {
    const int64_t e = (w.shape[d] - 1) * w.stride[d];
    if (e < 0) lo += e; else hi += e;
  }
  if (lo < 0 || hi >= numel) {
    c.fail(std::string(what) + " positions [" + std::to_string(lo) + ", " + std::to_string(hi) + "] fall outside its " + std::to_string(numel) + " elements");
  }
}

/** True when distinct indices always reach distinct positions (dimensions sorted by |stride|
 *  each step past the span of all smaller ones). */
bool non_overlapping(const Walk& w) {
  int64_t st[kMaxDims], sh[kMaxDims];
  for (int d = 0; d < w.nd; d++) {   // insertion sort by |stride| (at most 8 dimensions)
    const int64_t s = std::llabs(w.stride[d]), n = w.shape[d];
    int e = d;
    for (; e > 0 && st[e - 1] > s; e--) { st[e] = st[e - 1]; sh[e] = sh[e - 1]; }
    st[e] = s;
    sh[e] = n;
  }
  int64_t span = 0;   // the largest offset the smaller dimensions reach
  for (int d = 0; d < w.nd; d++) {
    if (st[d] <= span) return false;
    span += (sh[d] - 1) * st[d];
  }
  return true;
}

/**
 * Dense elements [e0, e1): dense[e] ↔ strided[pos(e)]. Scatter = false copies strided → dense,
 * true dense → strided. The odometer starts from e0's coordinates.
 */
template <bool Scatter>
void walk_rows(word* dense, word* strided, const Walk& w, int64_t e0, int64_t e1) {
  const int nd = w.nd;
  const int64_t inner = w.shape[nd - 1], si = w.stride[nd - 1];
  int64_t idx[kMaxDims];
  int64_t base = w.offset, rest = e0 / inner;
  for (int d = nd - 2; d >= 0; d--) {
    idx[d] = rest % w.shape[d];
    rest /= w.shape[d];
    base += idx[d] * w.stride[d];
  }
  int64_t j = e0 % inner, e = e0;
  while (e < e1) {
    const int64_t len = std::min(inner - j, e1 - e);
    word* dp = dense + e;
    word* sp = strided + base + j * si;
    if (si == 1) {
      if (Scatter) for (int64_t t = 0; t < len; t++) sp[t] = dp[t];
      else for (int64_t t = 0; t < len; t++) dp[t] = sp[t];
    } else {
      if (Scatter) for (int64_t t = 0; t < len; t++) sp[t * si] = dp[t];
      else for (int64_t t = 0; t < len; t++) dp[t] = sp[t * si];
    }
    e += len;
    j = 0;
    for (int d = nd - 2; d >= 0; d--) {   // odometer over the outer dimensions
      base += w.stride[d];
      if (++idx[d] < w.shape[d]) break;
      base -= w.stride[d] * w.shape[d];
      idx[d] = 0;
    }
  }
}

/**
 * Dimension j (< nd−1) has stride 1 on the strided side: blocked transpose of (j, last). Units are
 * (outer index over the other dimensions, 16-row tile of j); units [u0, u1) are done here. With
 * long strided lines a tile goes through a 16×16 local buffer so that both sides are touched in
 * whole contiguous runs (read straight from lines 2^k floats apart, a tile would thrash one L1 set).
 */
template <bool Scatter>
void walk_transpose(word* dense, word* strided, const Walk& w, int j, int64_t u0, int64_t u1) {
  const int nd = w.nd, last = nd - 1;
  int64_t dstride[kMaxDims];   // the dense side's row-major strides
  for (int d = nd - 1, s = 1; d >= 0; d--) { dstride[d] = s; s *= w.shape[d]; }
  const int64_t A = w.shape[j], Bn = w.shape[last], sB = w.stride[last], oj = dstride[j];
  const int64_t tiles = (A + kTile - 1) / kTile;
  word tmp[kTile * kTile];   // tmp[a·kTile + b]
  for (int64_t u = u0; u < u1; u++) {
    int64_t outer = u / tiles, sbase = w.offset, dbase = 0;
    for (int d = nd - 2; d >= 0; d--) {
      if (d == j) continue;
      const int64_t q = outer % w.shape[d];
      outer /= w.shape[d];
      sbase += q * w.stride[d];
      dbase += q * dstride[d];
    }
    const int64_t a0 = (u % tiles) * kTile, na = std::min(A - a0, kTile);
    for (int64_t b0 = 0; b0 < Bn; b0 += kTile) {
      const int64_t nb = std::min(Bn - b0, kTile);
      word* sp = strided + sbase + a0 + b0 * sB;   // strided line b: sp[b·sB + a], contiguous in a
      word* dp = dense + dbase + a0 * oj + b0;     // dense row a: dp[a·oj + b], contiguous in b
      if (std::llabs(sB) < 64) {   // short strided lines (small matrices): no set conflicts, copy directly
        if (Scatter) for (int64_t a = 0; a < na; a++) for (int64_t b = 0; b < nb; b++) sp[b * sB + a] = dp[a * oj + b];
        else for (int64_t a = 0; a < na; a++) for (int64_t b = 0; b < nb; b++) dp[a * oj + b] = sp[b * sB + a];
      } else if (Scatter) {
        for (int64_t a = 0; a < na; a++) for (int64_t b = 0; b < nb; b++) tmp[a * kTile + b] = dp[a * oj + b];
        for (int64_t b = 0; b < nb; b++) for (int64_t a = 0; a < na; a++) sp[b * sB + a] = tmp[a * kTile + b];
      } else {
        for (int64_t b = 0; b < nb; b++) for (int64_t a = 0; a < na; a++) tmp[a * kTile + b] = sp[b * sB + a];
        for (int64_t a = 0; a < na; a++) for (int64_t b = 0; b < nb; b++) dp[a * oj + b] = tmp[a * kTile + b];
      }
    }
  }
}

/** Copies between dense (w.n words, row-major) and strided, over the pool. `serial` keeps the oracle's order. */
template <bool Scatter>
void strided_copy(word* dense, word* strided, const Walk& w, bool serial = false) {
  if (w.n == 0) return;
  if (w.nd == 0) {
    if (Scatter) strided[w.offset] = dense[0]; else dense[0] = strided[w.offset];
    return;
  }
  const int last = w.nd - 1;
  int j = -1;
  if (w.stride[last] != 1 && w.stride[last] != -1 && !serial)
    for (int d = 0; d < last; d++) if (w.stride[d] == 1) j = d;
  if (j < 0) {
    if (serial) { walk_rows<Scatter>(dense, strided, w, 0, w.n); return; }
    parallel_for(w.n, kElementwiseGrain, [&](int64_t e0, int64_t e1) { walk_rows<Scatter>(dense, strided, w, e0, e1); });
    return;
  }
  const int64_t tiles = (w.shape[j] + kTile - 1) / kTile;
  const int64_t units = w.n / (w.shape[j] * w.shape[last]) * tiles;
  const int64_t per_unit = std::min<int64_t>(w.shape[j], kTile) * w.shape[last];
  parallel_for(units, std::max<int64_t>(1, kElementwiseGrain / per_unit), [&](int64_t u0, int64_t u1) { walk_transpose<Scatter>(dense, strided, w, j, u0, u1); });
}

void fill_zero(word* p, int64_t n) {
  parallel_for(n, 4 * kElementwiseGrain, [&](int64_t a, int64_t b) { std::memset(p + a, 0, static_cast<size_t>(b - a) * sizeof(word)); });
}

word* out_words(const KernelCall& c, size_t k) { return static_cast<word*>(c.out(k).ptr); }
word* in_words(const KernelCall& c, size_t k) { return static_cast<word*>(c.in(k).ptr); }

void same_dtype(const KernelCall& c) {
  if (c.out(0).dtype != c.in(0).dtype) c.fail(std::string("input is ") + dtype_name(c.in(0).dtype) + " but the output is " + dtype_name(c.out(0).dtype));
}

int read_rank(const KernelCall& c, size_t extra) {
  const int64_t nd = c.i(0);
  if (nd < 0 || nd > kMaxDims) c.fail("rank " + std::to_string(nd) + " is not in [0, " + std::to_string(kMaxDims) + "]");
  c.need_ints(1 + 2 * static_cast<size_t>(nd) + extra);
  return static_cast<int>(nd);
}

void permute(KernelCall& c) {
  const int nd = read_rank(c, 0);
  same_dtype(c);
  int64_t shape[kMaxDims], xs[kMaxDims], oshape[kMaxDims], ostr[kMaxDims];
  bool seen[kMaxDims] = {false};
  for (int d = 0; d < nd; d++) shape[d] = c.i(1 + d);
  for (int d = nd - 1, s = 1; d >= 0; d--) { xs[d] = s; s *= std::max<int64_t>(shape[d], 0); }
  for (int d = 0; d < nd; d++) {
    const int64_t p = c.i(1 + nd + d);
    if (p < 0 || p >= nd || seen[p]) c.fail("perm entry " + std::to_string(p) + " at position " + std::to_string(d) + " is out of range [0, " + std::to_string(nd) + ") or repeated: perm must be a permutation");
    seen[p] = true;
    oshape[d] = shape[p];
    ostr[d] = xs[p];
  }
  const Walk w = make_walk(c, oshape, ostr, nd, 0);
  if (static_cast<int64_t>(c.out(0).numel) != w.n || static_cast<int64_t>(c.in(0).numel) != w.n) {
    c.fail("input has " + std::to_string(c.in(0).numel) + " and output " + std::to_string(c.out(0).numel) + " elements, the shape has " + std::to_string(w.n));
  }
  strided_copy<false>(out_words(c, 0), in_words(c, 0), w);
}

Walk slice_walk(const KernelCall& c) {
  const int nd = read_rank(c, 1);
  int64_t shape[kMaxDims], strides[kMaxDims];
  for (int d = 0; d < nd; d++) { shape[d] = c.i(1 + d); strides[d] = c.i(2 + nd + d); }
  return make_walk(c, shape, strides, nd, c.i(1 + nd));
}

void slice(KernelCall& c) {
  same_dtype(c);
  const Walk w = slice_walk(c);
  if (static_cast<int64_t>(c.out(0).numel) != w.n) c.fail("output has " + std::to_string(c.out(0).numel) + " elements, the shape has " + std::to_string(w.n));
  check_range(c, w, static_cast<int64_t>(c.in(0).numel), "input");
  strided_copy<false>(out_words(c, 0), in_words(c, 0), w);
}

void slice_backward(KernelCall& c) {
  same_dtype(c);
  const Walk w = slice_walk(c);
  const int64_t dn = static_cast<int64_t>(c.out(0).numel);
  if (static_cast<int64_t>(c.in(0).numel) != w.n) c.fail("g has " + std::to_string(c.in(0).numel) + " elements, the shape has " + std::to_string(w.n));
  check_range(c, w, dn, "dx");
  const bool distinct = non_overlapping(w);
  // distinct positions covering all of dx (a flip, a full slice): every element is written anyway
  if (!(distinct && w.n == dn)) fill_zero(out_words(c, 0), dn);
  strided_copy<true>(in_words(c, 0), out_words(c, 0), w, !distinct);
}

void concat(KernelCall& c) {
  const size_t K = c.ins.size();
  c.need_ints(2 + K);
  const int64_t outer = c.i(0), inner = c.i(1);
  if (outer < 0 || inner < 0) c.fail("negative outer " + std::to_string(outer) + " or inner " + std::to_string(inner));
  std::vector<int64_t> block(K), start(K + 1, 0);   // words per outer row of input k, and where it lands in an output row
  for (size_t k = 0; k < K; k++) {
    const int64_t nk = c.i(2 + k);
    if (nk < 0) c.fail("input " + std::to_string(k) + " has a negative axis length " + std::to_string(nk));
    if (c.in(k).dtype != c.out(0).dtype) c.fail("input " + std::to_string(k) + " is " + dtype_name(c.in(k).dtype) + " but the output is " + dtype_name(c.out(0).dtype));
    block[k] = nk * inner;
    if (static_cast<int64_t>(c.in(k).numel) != outer * block[k]) {
      c.fail("input " + std::to_string(k) + " has " + std::to_string(c.in(k).numel) + " elements, expected " + std::to_string(outer * block[k]));
    }
    start[k + 1] = start[k] + block[k];
  }
  const int64_t row = start[K], total = outer * row;
  if (static_cast<int64_t>(c.out(0).numel) != total) c.fail("output has " + std::to_string(c.out(0).numel) + " elements, expected " + std::to_string(total));
  if (total == 0) return;
  word* out = out_words(c, 0);
  std::vector<const word*> xs(K);
  for (size_t k = 0; k < K; k++) xs[k] = in_words(c, k);
  // output elements [e0, e1), piece by piece (a piece: one input's block within one output row)
  parallel_for(total, kElementwiseGrain, [&](int64_t e0, int64_t e1) {
    int64_t o = e0 / row, at = e0 % row;
    size_t k = static_cast<size_t>(std::upper_bound(start.begin(), start.end(), at) - start.begin() - 1);
    for (int64_t e = e0; e < e1;) {
      while (at >= start[k + 1]) k++;   // skips empty inputs too
      const int64_t j = at - start[k], len = std::min(block[k] - j, e1 - e);
      std::memcpy(out + e, xs[k] + o * block[k] + j, static_cast<size_t>(len) * sizeof(word));
      e += len;
      at += len;
      if (at == row) { at = 0; o++; k = 0; }
    }
  });
}

}  // namespace
}  // namespace cpu
}  // namespace pb

REGISTER_KERNEL("permute", 1, 1, pb::cpu::permute);
REGISTER_KERNEL("slice", 1, 1, pb::cpu::slice);
REGISTER_KERNEL("slice_backward", 1, 1, pb::cpu::slice_backward);
REGISTER_KERNEL("concat", 1, -1, pb::cpu::concat);
