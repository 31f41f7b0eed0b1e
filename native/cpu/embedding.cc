// Row lookups and their deterministic scatter-add backwards. The oracles are
// src/backend/cpu/embedding.ts (embedding, embedding_backward) and src/backend/cpu/indexing.ts
// (index_select, index_select_backward); an embedding IS index_select(weight, 0, ids), so the four
// kernels share one implementation here (gather / gather_backward are in indexing.cc).
//
//   embedding              outs [out [N,D]], ins [weight [V,D], ids i32 [N]], ints [N, V, D]
//                          out[i, :] = weight[ids[i], :]
//   embedding_backward     outs [dW [V,D]], ins [g [N,D], ids], ints [N, V, D]
//                          dW = 0; for i = 0 … N−1: dW[ids[i], :] += g[i, :]
//   index_select           outs [out [outer,k,inner]], ins [x [outer,n,inner], idx i32 [k]], ints [outer, n, inner, k]
//                          out[o, j, :] = x[o, idx[j], :]          (float32 or int32 x: a copy)
//   index_select_backward  outs [dx [outer,n,inner]], ins [g [outer,k,inner], idx], ints [outer, n, inner, k]
//                          dx = 0; for j = 0 … k−1: dx[o, idx[j], :] += g[o, j, :]
//
// Every index is checked first; the first one outside [0, n) is an error naming the kernel, the
// value, its position and the range.
//
// Forward: a row copy, the rows split over the threads.
// Backward (bit-identical to the oracle, whatever the thread count): the oracle adds the
// contributions to a destination row in increasing source position, in float32. Here the
// destination rows are cut into ranges of about equal work (hits + 1 per row: a skewed id
// distribution still splits evenly), a stable counting sort partitions the source positions by
// range (ascending within each), and a task owns one range × one block of columns: it zeroes its
// rows and adds its positions in ascending order. Every output element has one owner and the
// oracle's summation order: no atomics, no partial sums. The g rows of a task are read in
// increasing address order (streamed), which matters for short rows (PxByEmbed: D = 9).
#include "common.h"

namespace pb {
namespace cpu {
namespace {

/** Columns per backward task block (a few cache lines per row). */
constexpr int64_t kColBlock = 256;

/** The first index outside [0, n), as an error naming it, its position and the range. */
void check_indices(const KernelCall& c, const int32_t* idx, int64_t k, int64_t n, const char* what) {
  bool bad = false;
  for (int64_t j = 0; j < k; j++) bad |= (idx[j] < 0) | (idx[j] >= n);   // branch-free: vectorises
  if (!bad) return;
  for (int64_t j = 0; j < k; j++) {
    if (idx[j] < 0 || idx[j] >= n) {
      c.fail(std::string(what) + " " + std::to_string(idx[j]) + " at position " + std::to_string(j) + " is out of range [0, " + std::to_string(n) + ")");
    }
  }
}

void need_sizes(const KernelCall& c, int64_t outer, int64_t n, int64_t inner, int64_t k) {
  const std::string sizes = "[outer " + std::to_string(outer) + ", n " + std::to_string(n) + ", inner " + std::to_string(inner) + ", k " + std::to_string(k) + "]";
  if (outer < 0 || n < 0 || inner < 0 || k < 0) c.fail("negative size in " + sizes);
  constexpr int64_t kMax = int64_t{1} << 40;   // each is < 2^31 (int32 ints): products stay far from overflow
  if (outer * std::max(n, k) > kMax / std::max<int64_t>(inner, 1)) c.fail("sizes " + sizes + " are too large");
}

/** out[o, j, :] = x[o, idx[j], :] for 4-byte words; rows split over the pool. */
void select_rows(uint32_t* out, const uint32_t* x, const int32_t* idx, int64_t outer, int64_t n, int64_t inner, int64_t k) {
  const int64_t rows = outer * k;
  if (rows == 0 || inner == 0) return;
  parallel_for(rows, std::max<int64_t>(1, kElementwiseGrain / inner), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const int64_t o = r / k, j = r % k;
      const uint32_t* src = x + (o * n + idx[j]) * inner;
      uint32_t* dst = out + r * inner;
      for (int64_t i = 0; i < inner; i++) dst[i] = src[i];
    }
  });
}

/** dx[o, v, :] = Σ_{j ascending, idx[j] = v} g[o, j, :] (float32, the oracle's order), dx fully written. */
void scatter_add_rows(float* dx, const float* g, const int32_t* idx, int64_t outer, int64_t n, int64_t inner, int64_t k) {
  if (outer == 0 || n == 0 || inner == 0) return;
  // destination rows are cut into nr ranges of about equal work (hits + 1 zeroing pass per row)
  std::vector<int64_t> count(static_cast<size_t>(n), 0);
  for (int64_t j = 0; j < k; j++) count[idx[j]]++;
  const int64_t ncb = (inner + kColBlock - 1) / kColBlock;
  const int64_t want = outer * (k + n) * inner < 4 * kElementwiseGrain ? 1 : 4 * num_threads();
  const int64_t nr = std::min<int64_t>(n, std::max<int64_t>(1, (want + outer * ncb - 1) / (outer * ncb)));
  std::vector<int64_t> cut(static_cast<size_t>(nr) + 1, n);
  std::vector<int32_t> range_of(static_cast<size_t>(n));
  cut[0] = 0;
  for (int64_t v = 0, r = 0, acc = 0; v < n; v++) {
    while (r + 1 < nr && acc >= (k + n) * (r + 1) / nr) cut[++r] = v;
    range_of[v] = static_cast<int32_t>(r);
    acc += count[v] + 1;
  }
  // stable partition of the positions by range: order[start[r] … start[r+1]) ascending. A task
  // then reads its g rows in increasing address order (streamed, whatever the id distribution).
  std::vector<int64_t> start(static_cast<size_t>(nr) + 1, 0);
  for (int64_t v = 0; v < n; v++) start[range_of[v] + 1] += count[v];
  for (int64_t r = 0; r < nr; r++) start[r + 1] += start[r];
  std::vector<int32_t> order(static_cast<size_t>(k));
  {
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t j = 0; j < k; j++) order[fill[range_of[idx[j]]]++] = static_cast<int32_t>(j);
  }
  // task (o, range r, column block): zero its rows, then add its positions in ascending order
  parallel_tasks(outer * nr * ncb, [&](int64_t t) {
    const int64_t cb = t % ncb, r = (t / ncb) % nr, o = t / (ncb * nr);
    const int64_t c0 = cb * kColBlock, w = std::min(inner, c0 + kColBlock) - c0;
    float* db = dx + o * n * inner + c0;
    const float* gb = g + o * k * inner + c0;
    for (int64_t v = cut[r]; v < cut[r + 1]; v++) std::fill(db + v * inner, db + v * inner + w, 0.f);
    for (int64_t h = start[r]; h < start[r + 1]; h++) {
      const int64_t j = order[h];
      float* dst = db + static_cast<int64_t>(idx[j]) * inner;
      const float* src = gb + j * inner;
      for (int64_t i = 0; i < w; i++) dst[i] += src[i];
    }
  });
}

void embedding(KernelCall& c) {
  c.need_ints(3);
  const int64_t N = c.i(0), V = c.i(1), D = c.i(2);
  need_sizes(c, 1, V, D, N);
  float* out = c.outF(0, N * D);
  const float* w = c.inF(0, V * D);
  const int32_t* ids = c.inI(1, N);
  check_indices(c, ids, N, V, "id");
  select_rows(reinterpret_cast<uint32_t*>(out), reinterpret_cast<const uint32_t*>(w), ids, 1, V, D, N);
}

void embedding_backward(KernelCall& c) {
  c.need_ints(3);
  const int64_t N = c.i(0), V = c.i(1), D = c.i(2);
  need_sizes(c, 1, V, D, N);
  float* dW = c.outF(0, V * D);
  const float* g = c.inF(0, N * D);
  const int32_t* ids = c.inI(1, N);
  check_indices(c, ids, N, V, "id");
  scatter_add_rows(dW, g, ids, 1, V, D, N);
}

void index_select(KernelCall& c) {
  c.need_ints(4);
  const int64_t outer = c.i(0), n = c.i(1), inner = c.i(2), k = c.i(3);
  need_sizes(c, outer, n, inner, k);
  if (c.out(0).dtype != c.in(0).dtype) c.fail(std::string("x is ") + dtype_name(c.in(0).dtype) + " but the output is " + dtype_name(c.out(0).dtype));
  if (static_cast<int64_t>(c.out(0).numel) != outer * k * inner) c.fail("output has " + std::to_string(c.out(0).numel) + " elements, expected " + std::to_string(outer * k * inner));
  if (static_cast<int64_t>(c.in(0).numel) != outer * n * inner) c.fail("x has " + std::to_string(c.in(0).numel) + " elements, expected " + std::to_string(outer * n * inner));
  const int32_t* idx = c.inI(1, k);
  check_indices(c, idx, k, n, "index");
  select_rows(static_cast<uint32_t*>(c.out(0).ptr), static_cast<const uint32_t*>(c.in(0).ptr), idx, outer, n, inner, k);
}

void index_select_backward(KernelCall& c) {
  c.need_ints(4);
  const int64_t outer = c.i(0), n = c.i(1), inner = c.i(2), k = c.i(3);
  need_sizes(c, outer, n, inner, k);
  float* dx = c.outF(0, outer * n * inner);
  const float* g = c.inF(0, outer * k * inner);
  const int32_t* idx = c.inI(1, k);
  check_indices(c, idx, k, n, "index");
  scatter_add_rows(dx, g, idx, outer, n, inner, k);
}

}  // namespace
}  // namespace cpu
}  // namespace pb

REGISTER_KERNEL("embedding", 1, 2, pb::cpu::embedding);
REGISTER_KERNEL("embedding_backward", 1, 2, pb::cpu::embedding_backward);
REGISTER_KERNEL("index_select", 1, 2, pb::cpu::index_select);
REGISTER_KERNEL("index_select_backward", 1, 2, pb::cpu::index_select_backward);
