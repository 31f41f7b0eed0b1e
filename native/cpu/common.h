// Included by every native/cpu/*.cc kernel file. CPU kernels follow the engine's calling
// convention exactly (the same names, outs/ins/ints/floats as src/backend/cpu/*.ts, their oracles):
//
//   void my_kernel(pb::KernelCall& c) { c.need_ints(3); const float* x = c.inF(0, n); ... }
//   REGISTER_KERNEL("my_kernel", nOut, nIn, my_kernel);
//
// Buffers are the JS typed arrays' own memory (no copies): DeviceBuffer::ptr points into the
// ArrayBuffer. Kernels run synchronously on the calling thread and split work with
// parallel_for / parallel_tasks (parallel.h); an exception (c.fail(...)) becomes a JS Error that
// names the kernel.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../src/registry.h"
#include "gemm.h"
#include "parallel.h"

namespace pb {
namespace cpu {

constexpr int kMaxDims = 8;

/**
 * Broadcast geometry as the CPU kernels pass it: ints = [nd, ...shape, ...strides₀, …, ...strides_{k−1}]
 * (a stride of 0 repeats that operand along the dimension).
 */
struct Bcast {
  int nd = 0;
  int64_t shape[kMaxDims] = {0};
  int64_t strides[3][kMaxDims] = {{0}};
  int64_t numel = 1;
  Bcast(const KernelCall& c, int operands) {
    nd = static_cast<int>(c.i(0));
    if (nd < 0 || nd > kMaxDims) c.fail("rank " + std::to_string(nd) + " is not in [0, " + std::to_string(kMaxDims) + "]");
    c.need_ints(1 + static_cast<size_t>(nd) * (1 + operands));
    for (int d = 0; d < nd; d++) {
      shape[d] = c.i(1 + d);
      numel *= shape[d];
    }
    for (int k = 0; k < operands; k++)
      for (int d = 0; d < nd; d++) strides[k][d] = c.i(1 + nd * (1 + k) + d);
  }
  /** Offset of flat output index i in operand k. */
  int64_t offset(int k, int64_t i) const {
    int64_t off = 0;
    for (int d = nd - 1; d >= 0; d--) {
      const int64_t q = i % shape[d];
      i /= shape[d];
      off += q * strides[k][d];
    }
    return off;
  }
};

/** Elements per parallel chunk for cheap elementwise loops (below this, one thread). */
constexpr int64_t kElementwiseGrain = 1 << 15;

}  // namespace cpu
}  // namespace pb
