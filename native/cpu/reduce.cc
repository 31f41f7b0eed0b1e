// Reductions along one axis: twins of src/backend/cpu/reduce.ts (the oracle). A tensor is viewed
// as [outer, n, inner] around the reduced axis.
//
//   sum_axis           outs [out (outer·inner)], ins [x], ints [outer, n, inner]
//   max_axis           outs [values, indices int32 (outer·inner)], ins [x], ints [outer, n, inner]
//                      the first k that reaches the max; a NaN wins (the first NaN), as torch
//   max_axis_backward  outs [dx (outer·n·inner)], ins [g (outer·inner), indices int32], ints [outer, n, inner]
//   broadcast_to       outs [out], ins [x], ints [nd, ...outShape, ...xStrides]   (float32 or int32)
//
// Memory order decides the algorithm, never a stride-`inner` walk per output element:
//  - inner = 1: each output is a contiguous row of n. Sums use kLanes independent float partial
//    sums (the compiler vectorises them; IEEE addition is not reassociated behind our back), the
//    lanes added in a fixed order. Rows longer than kRowChunk are cut into fixed chunks whose sums
//    are added in order, so one long row (a sum of everything) is split over the pool too. max_axis
//    takes the row max (vectorised, NaN ignored) and whether a NaN occurs, then searches the first
//    index holding the answer.
//  - inner > 1: the n rows of inner values are added (or max-ed) into an inner-long accumulator, row
//    after row (contiguous, vectorised) — the oracle's own order, so these results are bit-identical
//    to it. Work is split over (outer, block of columns); when that gives too few tasks, a sum cuts
//    n into fixed chunks too, their partial vectors added in order.
// Every split depends on the sizes only, never on the thread count: the bits are deterministic.
#include "common.h"

namespace pb {
namespace cpu {
namespace {

constexpr int kLanes = 16;                      // partial sums per row (4 SSE / 2 AVX / 1 AVX-512 vector)
constexpr int64_t kRowChunk = 1 << 14;          // elements of one row summed as one task
constexpr int64_t kColBlock = 1024;             // columns of one accumulator (4 KiB: stays in L1)
constexpr int64_t kTaskWork = 1 << 15;          // elements per task below which we do not split further

// Σ x[0..n) with kLanes partial sums; the tail (and rows shorter than kLanes) added in order.
float row_sum(const float* __restrict__ x, int64_t n) {
  float acc[kLanes] = {0.f};
  int64_t k = 0;
  for (; k + kLanes <= n; k += kLanes)
    for (int l = 0; l < kLanes; l++) acc[l] += x[k + l];
  float s = 0.f;
  if (k > 0) {
    // pairwise over the lanes: a fixed tree
    for (int w = kLanes / 2; w > 0; w /= 2)
      for (int l = 0; l < w; l++) acc[l] += acc[l + w];
    s = acc[0];
  }
  for (; k < n; k++) s += x[k];
  return s;
}

// max_k x[k] by the oracle's rule `v > m` (a NaN never becomes the max; −∞ for an empty row), and
// whether a NaN occurs. GCC vector types: the compiler does not vectorise a max reduction by itself
// without -ffinite-math-only (it cannot know that the order of a NaN-ignoring max is irrelevant).
typedef float f32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));

float row_max(const float* x, int64_t n, bool* has_nan) {
  f32x4 a = {-INFINITY, -INFINITY, -INFINITY, -INFINITY}, b = a;
  i32x4 nan = {0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    f32x4 u, v;
    std::memcpy(&u, x + k, 16);
    std::memcpy(&v, x + k + 4, 16);
    a = u > a ? u : a;
    b = v > b ? v : b;
    nan |= (u != u) | (v != v);
  }
  float m = -INFINITY;
  bool seen = false;
  for (int l = 0; l < 4; l++) {
    m = a[l] > m ? a[l] : m;
    m = b[l] > m ? b[l] : m;
    seen = seen || nan[l] != 0;
  }
  for (; k < n; k++) {
    m = x[k] > m ? x[k] : m;
    seen = seen || x[k] != x[k];
  }
  *has_nan = seen;
  return m;
}

void check_dims(const KernelCall& c, int64_t outer, int64_t n, int64_t inner) {
  if (outer < 0 || n < 0 || inner < 0)
    c.fail("negative size [outer " + std::to_string(outer) + ", n " + std::to_string(n) + ", inner " + std::to_string(inner) + "]");
}

// ---- sum_axis ------------------------------------------------------------------------------------
void sum_axis(KernelCall& c) {
  c.need_ints(3);
  const int64_t outer = c.i(0), n = c.i(1), inner = c.i(2);
  check_dims(c, outer, n, inner);
  float* out = c.outF(0, outer * inner);
  const float* x = c.inF(0, outer * n * inner);
  if (outer * inner == 0) return;
  if (n == 0) { std::fill(out, out + outer * inner, 0.f); return; }

  if (inner == 1) {
    // rows: out[o] = Σ_k x[o, k]
    const int64_t chunks = (n + kRowChunk - 1) / kRowChunk;
    if (chunks == 1) {
      parallel_for(outer, std::max<int64_t>(1, kTaskWork / n), [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; o++) out[o] = row_sum(x + o * n, n);
      });
      return;
    }
    std::vector<float> part(static_cast<size_t>(outer * chunks));
    parallel_tasks(outer * chunks, [&](int64_t t) {
      const int64_t o = t / chunks, q = t % chunks, k0 = q * kRowChunk;
      part[t] = row_sum(x + o * n + k0, std::min(kRowChunk, n - k0));
    });
    for (int64_t o = 0; o < outer; o++) {
      float s = 0.f;
      for (int64_t q = 0; q < chunks; q++) s += part[o * chunks + q];
      out[o] = s;
    }
    return;
  }

  // columns: out[o, i] = Σ_k x[o, k, i], accumulated row by row over a block of columns
  const int64_t blocks = (inner + kColBlock - 1) / kColBlock;
  const int64_t tasks = outer * blocks;
  // cut n into fixed chunks only when (outer, block) tasks are few and each is long
  int64_t nchunks = 1;
  if (tasks < 8 && n * std::min(inner, kColBlock) >= 4 * kTaskWork)
    nchunks = std::min<int64_t>((8 + tasks - 1) / tasks, std::max<int64_t>(1, n / 64));
  const int64_t rows_per = (n + nchunks - 1) / nchunks;
  nchunks = (n + rows_per - 1) / rows_per;   // no empty chunk
  // chunk q of task t sums rows [q·rows_per, …) into dst (the output itself when there is one chunk)
  std::vector<float> part(nchunks > 1 ? static_cast<size_t>(nchunks * outer * inner) : 0);
  auto run = [&](int64_t t, int64_t q) {
    const int64_t o = t / blocks, i0 = (t % blocks) * kColBlock, w = std::min(kColBlock, inner - i0);
    const int64_t k0 = q * rows_per, k1 = std::min(n, k0 + rows_per);
    float* __restrict__ dst = nchunks > 1 ? part.data() + (q * outer + o) * inner + i0 : out + o * inner + i0;
    const float* src = x + (o * n + k0) * inner + i0;
    for (int64_t i = 0; i < w; i++) dst[i] = 0.f + src[i];   // 0 + x, as the oracle (−0 becomes +0)
    for (int64_t k = k0 + 1; k < k1; k++) {
      src += inner;
      for (int64_t i = 0; i < w; i++) dst[i] += src[i];
    }
  };
  if (nchunks == 1) {
    const int64_t grain = std::max<int64_t>(1, kTaskWork / (n * std::min(inner, kColBlock)));
    parallel_for(tasks, grain, [&](int64_t b, int64_t e) { for (int64_t t = b; t < e; t++) run(t, 0); });
    return;
  }
  parallel_tasks(tasks * nchunks, [&](int64_t u) { run(u / nchunks, u % nchunks); });
  for (int64_t j = 0; j < outer * inner; j++) {
    float s = part[j];
    for (int64_t q = 1; q < nchunks; q++) s += part[q * outer * inner + j];
    out[j] = s;
  }
}

// ---- max_axis ------------------------------------------------------------------------------------
// The oracle's rule, one step: v replaces best when v > best, or when v is the first NaN.
inline bool takes(float v, float best) { return v > best || (v != v && best == best); }

void max_axis(KernelCall& c) {
  c.need_ints(3);
  const int64_t outer = c.i(0), n = c.i(1), inner = c.i(2);
  check_dims(c, outer, n, inner);
  if (n > INT32_MAX) c.fail("axis length " + std::to_string(n) + " does not fit the int32 indices");
  float* values = c.outF(0, outer * inner);
  int32_t* indices = c.outI(1, outer * inner);
  const float* x = c.inF(0, outer * n * inner);
  if (outer * inner == 0) return;

  if (inner == 1) {
    // rows: one pass for the max (NaN ignored) and whether a NaN occurs, then the first index that
    // holds it — the first NaN if there is one (NaN wins), else the first max: the oracle's answer
    parallel_for(outer, std::max<int64_t>(1, kTaskWork / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; o++) {
        const float* r = x + o * n;
        bool nan = false;
        const float m = row_max(r, n, &nan);
        int64_t k = 0;
        if (nan) while (r[k] == r[k]) k++;
        else while (k < n && r[k] != m) k++;
        values[o] = k < n ? r[k] : -INFINITY;   // n = 0: −∞ at index 0, as the oracle
        indices[o] = static_cast<int32_t>(k < n ? k : 0);
      }
    });
    return;
  }

  // columns: running best/arg vectors updated row by row (the oracle's order per column)
  const int64_t blocks = (inner + kColBlock - 1) / kColBlock;
  const int64_t grain = std::max<int64_t>(1, kTaskWork / (std::max<int64_t>(n, 1) * std::min(inner, kColBlock)));
  parallel_for(outer * blocks, grain, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; t++) {
      const int64_t o = t / blocks, i0 = (t % blocks) * kColBlock, w = std::min(kColBlock, inner - i0);
      float* __restrict__ vb = values + o * inner + i0;
      int32_t* __restrict__ ib = indices + o * inner + i0;
      for (int64_t i = 0; i < w; i++) { vb[i] = -INFINITY; ib[i] = 0; }
      const float* src = x + o * n * inner + i0;
      for (int64_t k = 0; k < n; k++, src += inner) {
        const int32_t kk = static_cast<int32_t>(k);
        for (int64_t i = 0; i < w; i++) {
          const float v = src[i];
          const bool tk = takes(v, vb[i]);
          vb[i] = tk ? v : vb[i];
          ib[i] = tk ? kk : ib[i];
        }
      }
    }
  });
}

// dx[o, k, i] = g[o, i] where k = indices[o, i], else 0
void max_axis_backward(KernelCall& c) {
  c.need_ints(3);
  const int64_t outer = c.i(0), n = c.i(1), inner = c.i(2);
  check_dims(c, outer, n, inner);
  float* dx = c.outF(0, outer * n * inner);
  const float* g = c.inF(0, outer * inner);
  const int32_t* idx = c.inI(1, outer * inner);
  for (int64_t j = 0; j < outer * inner; j++)
    if (idx[j] < 0 || idx[j] >= n)
      c.fail("index " + std::to_string(idx[j]) + " is out of range [0, " + std::to_string(n) + ") at position " + std::to_string(j));
  if (outer * n * inner == 0) return;
  // each task owns whole [n, inner] slabs: zero, then scatter its own outputs
  parallel_for(outer, std::max<int64_t>(1, kTaskWork / (n * inner)), [&](int64_t b, int64_t e) {
    std::fill(dx + b * n * inner, dx + e * n * inner, 0.f);
    for (int64_t o = b; o < e; o++)
      for (int64_t i = 0; i < inner; i++) dx[(o * n + idx[o * inner + i]) * inner + i] = g[o * inner + i];
  });
}

// ---- broadcast_to --------------------------------------------------------------------------------
// out = x read with strides (0 repeats); 4-byte words, so float32 and int32 alike. Rows of the last
// dimension: a contiguous copy when its stride is 1, a fill when 0.
void broadcast_to(KernelCall& c) {
  const Bcast geo(c, 1);
  DeviceBuffer& ob = c.out(0);
  DeviceBuffer& xb = c.in(0);
  if (ob.dtype != xb.dtype) c.fail(std::string("input is ") + dtype_name(xb.dtype) + ", output is " + dtype_name(ob.dtype));
  for (int d = 0; d < geo.nd; d++)
    if (geo.shape[d] < 0) c.fail("negative size " + std::to_string(geo.shape[d]) + " in dimension " + std::to_string(d));
  if (static_cast<int64_t>(ob.numel) != geo.numel)
    c.fail("output has " + std::to_string(ob.numel) + " elements, the shape needs " + std::to_string(geo.numel));
  if (geo.numel == 0) return;
  // the offsets reached lie in [lo, hi]: they must lie inside x
  int64_t lo = 0, hi = 0;
  for (int d = 0; d < geo.nd; d++) {
    const int64_t span = (geo.shape[d] - 1) * geo.strides[0][d];
    (span < 0 ? lo : hi) += span;
  }
  if (lo < 0 || hi >= static_cast<int64_t>(xb.numel))
    c.fail("strides reach offsets [" + std::to_string(lo) + ", " + std::to_string(hi) + "], the input has " + std::to_string(xb.numel) + " elements");
  uint32_t* out = static_cast<uint32_t*>(ob.ptr);
  const uint32_t* x = static_cast<const uint32_t*>(xb.ptr);
  if (geo.nd == 0) { out[0] = x[0]; return; }
  const int nd = geo.nd;
  const int64_t inner = geo.shape[nd - 1], sx = geo.strides[0][nd - 1];
  const int64_t rows = geo.numel / inner;
  parallel_for(rows, std::max<int64_t>(1, kElementwiseGrain / inner), [&](int64_t b, int64_t e) {
    // the multi-index of row b, then an odometer over the outer dimensions
    int64_t idx[kMaxDims] = {0};
    int64_t off = 0;
    for (int64_t r = b, d = nd - 2; d >= 0; d--) {
      idx[d] = r % geo.shape[d];
      r /= geo.shape[d];
      off += idx[d] * geo.strides[0][d];
    }
    for (int64_t r = b; r < e; r++) {
      uint32_t* dst = out + r * inner;
      if (sx == 1) std::memcpy(dst, x + off, static_cast<size_t>(inner) * 4);
      else if (sx == 0) std::fill(dst, dst + inner, x[off]);
      else for (int64_t j = 0; j < inner; j++) dst[j] = x[off + j * sx];
      for (int d = nd - 2; d >= 0; d--) {
        off += geo.strides[0][d];
        if (++idx[d] < geo.shape[d]) break;
        off -= geo.strides[0][d] * geo.shape[d];
        idx[d] = 0;
      }
    }
  });
}

}  // namespace
}  // namespace cpu
}  // namespace pb

REGISTER_KERNEL("sum_axis", 1, 1, pb::cpu::sum_axis);
REGISTER_KERNEL("max_axis", 2, 1, pb::cpu::max_axis);
REGISTER_KERNEL("max_axis_backward", 1, 2, pb::cpu::max_axis_backward);
REGISTER_KERNEL("broadcast_to", 1, 1, pb::cpu::broadcast_to);
