// The SGEMM of native/kernels/matmul.cu, callable from other launchers (attention, LSTM):
// C[b] = op(A)[b]·op(B)[b] (+ C[b] if accumulate), the 'matmul' kernel's convention.
#pragma once
#include <cstdint>

#include "runtime.h"

namespace pb {
void gemm(Stream stream, float* C, const float* A, const float* B, int64_t batch, int64_t M, int64_t K, int64_t N, bool transA, bool transB, int64_t strideA,
          int64_t strideB, bool accumulate);
}
