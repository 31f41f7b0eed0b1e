// Kernel 'matmul' (src/backend/cpu/matmul.ts is its oracle and documents the convention):
//   outs = [C], ins = [A, B], ints = [batch, M, K, N, transA, transB, strideA, strideB, accumulate]
//   C[b] (M×N, batch stride M·N) = op(A)[b]·op(B)[b] (+ C[b] if accumulate)
// Each batch entry is one sgemm. A batch of small products (or many entries) is split over the
// pool by entry (sgemm then runs serially inside) when it is worth a fork-join in all; a few large
// products are split inside sgemm.
// A batch that shares B (strideB = 0) over contiguous row-major A entries is one sgemm with
// batch·M rows: one packing of B and better tiles than batch separate calls.
#include "common.h"

namespace pb {
namespace cpu {
namespace {

void matmul(KernelCall& c) {
  c.need_ints(9);
  const int64_t batch = c.i(0), M = c.i(1), K = c.i(2), N = c.i(3), strideA = c.i(6), strideB = c.i(7);
  const bool transA = c.i(4) != 0, transB = c.i(5) != 0, accumulate = c.i(8) != 0;
  if (batch < 0 || M < 0 || K < 0 || N < 0 || strideA < 0 || strideB < 0) c.fail("negative size or stride");
  float* C = c.outF(0, batch * M * N);
  const float* A = c.inF(0);
  const float* B = c.inF(1);
  if (batch == 0 || M == 0 || N == 0) return;
  c.need_at_least(c.in(0), "A", (batch - 1) * strideA + M * K);
  c.need_at_least(c.in(1), "B", (batch - 1) * strideB + K * N);
  const int64_t lda = transA ? M : K, ldb = transB ? K : N;
  const float beta = accumulate ? 1.f : 0.f;
  if (batch > 1 && strideB == 0 && !transA && strideA == M * K) {   // [batch·M, K] · B
    sgemm(false, transB, batch * M, N, K, 1.f, A, K, B, ldb, beta, C, N);
    return;
  }
  auto one = [&](int64_t b) { sgemm(transA, transB, M, N, K, 1.f, A + b * strideA, lda, B + b * strideB, ldb, beta, C + b * M * N, N); };
  // small products, or enough of them to balance: one per task; otherwise sgemm splits each one.
  // A batch with less work in all than sgemm's own threading threshold (1 M multiply-adds per
  // thread, ~20 µs) runs serially: a fork-join would gain little or lose.
  const int64_t macs = M * N * K;
  if (batch > 1 && batch * macs >= (int64_t{1} << 20) * num_threads() && (macs < (int64_t{1} << 21) || batch >= 4 * num_threads())) parallel_tasks(batch, one);
  else for (int64_t b = 0; b < batch; b++) one(b);
}

}  // namespace
}  // namespace cpu
}  // namespace pb

REGISTER_KERNEL("matmul", 1, 2, pb::cpu::matmul);
