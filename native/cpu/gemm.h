// SGEMM of the CPU library (native/cpu/gemm*.cc): row-major, BLAS-like, called by the 'matmul'
// kernel and by every kernel whose work is a matrix product (LSTM, attention, conv2d, linear).
//
//   C[M×N] = alpha · op(A)[M×K] · op(B)[K×N] + beta · C
//
//   op(A) = A (stored [M, K], row stride lda)  or, with transA, Aᵀ where A is stored [K, M] (lda);
//   op(B) = B (stored [K, N], row stride ldb)  or, with transB, Bᵀ where B is stored [N, K] (ldb);
//   C stored [M, N] with row stride ldc. beta = 0: C is written without being read (NaN-safe).
//
// GotoBLAS/BLIS structure: B is packed into NR-wide panels per KC×NC block, A into MR-high panels,
// and a register-tiled MR×NR micro-kernel accumulates in vector registers over KC; products with
// few rows (M ≤ 4·MR) read B in place instead of packing it, narrow ones (N ≤ 2·NR) read A in
// place. The blocked driver (gemm_kernel.h) and its micro-kernel are compiled once per
// instruction set (gemm_avx512.cc: 14×32, gemm_avx2.cc: 6×16, gemm_generic.cc: 4×16) and picked
// at the first call from what the CPU supports (gemm.cc, which also splits large products over
// the thread pool).
#pragma once
#include <cstdint>

namespace pb {
namespace cpu {

/** Multithreaded over the pool when the product is large enough and the caller is not already
 *  inside a parallel region (then it runs serially on the calling thread). */
void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
           int64_t ldc);

/** The instruction set the micro-kernel uses: "avx512", "avx2+fma" or "generic". */
const char* gemm_isa();
/** Forces an instruction set ("avx512", "avx2+fma", "generic"; others are ignored) — for tests and
 *  the benchmark; returns false when the CPU lacks it. */
bool gemm_set_isa(const char* isa);

}  // namespace cpu
}  // namespace pb
