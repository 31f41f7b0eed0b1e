// Included by every native/kernels/*.cu file. Under nvcc it is plain CUDA; under g++ (the
// pixelbytes_emu build) it pulls in the SIMT emulator, which supplies threadIdx & co., barriers,
// shuffles, atomics and the launch macro. Kernel code is written once, for both.
//
//   KERNEL_LAUNCH(kernel, grid, block, smem, stream)(args…)   ≡ kernel<<<grid, block, smem, stream>>>(args…)
//   PB_EXTERN_SHARED(T, name);                               ≡ extern __shared__ T name[];
//
// Rules that keep a kernel correct on both: every thread of a block reaches every __syncthreads()
// (no early `return` before a barrier — guard the work instead); launch nothing with an empty grid
// (return early in the launcher when there is no work); warp shuffles with the full mask need all
// 32 lanes present (blockDim.x a multiple of 32 for warp-level code).
#pragma once
#if defined(__CUDACC__)
#include <cuda_runtime.h>
#define KERNEL_LAUNCH(kernel, grid, block, smem, stream) kernel<<<(grid), (block), (smem), (stream)>>>
#define PB_EXTERN_SHARED(T, name) \
  extern __shared__ __align__(16) unsigned char pb_dynamic_smem_[]; \
  T* name = reinterpret_cast<T*>(pb_dynamic_smem_)
#else
#include "../emu/simt.h"
#endif

#include <cstdint>
#include <string>

#include "allocator.h"
#include "registry.h"
#include "runtime.h"

namespace pb {

constexpr int kMaxDims = 8;

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/** Blocks for a grid-stride loop over n items: enough to fill a GPU, never an empty grid. */
inline unsigned grid_1d(int64_t n, int threads = 256, int64_t cap = 8192) {
  int64_t b = ceil_div(n, threads);
  if (b > cap) b = cap;
  return static_cast<unsigned>(b < 1 ? 1 : b);
}

#define PB_GRID_STRIDE(i, n) \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); i += static_cast<int64_t>(blockDim.x) * gridDim.x)

/**
 * Broadcast geometry as the CPU kernels pass it: ints = [nd, ...shape, ...strides₀, …, ...strides_{k−1}]
 * (a stride of 0 repeats that operand along the dimension).
 */
struct Bcast {
  int nd;
  int64_t n;  // elements of the output
  int64_t shape[kMaxDims];
  int64_t stride[4][kMaxDims];
};

inline Bcast parse_bcast(const KernelCall& call, int operands) {
  Bcast g{};
  const int64_t nd = call.i(0);
  if (nd < 0 || nd > kMaxDims) call.fail("supports at most " + std::to_string(kMaxDims) + " dimensions, got " + std::to_string(nd));
  call.need_ints(static_cast<size_t>(1 + nd * (1 + operands)));
  g.nd = static_cast<int>(nd);
  g.n = 1;
  for (int d = 0; d < nd; d++) {
    g.shape[d] = call.i(1 + d);
    g.n *= g.shape[d];
    for (int k = 0; k < operands; k++) g.stride[k][d] = call.i(static_cast<size_t>(1 + nd * (1 + k) + d));
  }
  return g;
}

/** Elements an operand with these strides must have (1 + the largest offset it reads). */
inline int64_t bcast_extent(const Bcast& g, int k) {
  if (g.n == 0) return 0;
  int64_t m = 0;
  for (int d = 0; d < g.nd; d++) m += (g.shape[d] - 1) * g.stride[k][d];
  return m + 1;
}

/** True when every operand is laid out exactly like the output (one flat loop). */
inline bool bcast_flat(const Bcast& g, int operands) {
  for (int k = 0; k < operands; k++) {
    int64_t s = 1;
    for (int d = g.nd - 1; d >= 0; d--) {
      if (g.shape[d] != 1 && g.stride[k][d] != s) return false;
      s *= g.shape[d];
    }
  }
  return true;
}

/** Offsets of output element i in each operand. */
template <int K>
__device__ __forceinline__ void bcast_offsets(const Bcast& g, int64_t i, int64_t (&off)[K]) {
  for (int k = 0; k < K; k++) off[k] = 0;
  for (int d = g.nd - 1; d >= 0; d--) {
    const int64_t c = i % g.shape[d];
    i /= g.shape[d];
    for (int k = 0; k < K; k++) off[k] += c * g.stride[k][d];
  }
}

/** JavaScript's ToInt32 (what storing a number into an Int32Array does): NaN/±∞ → 0, else wrap. */
__device__ __host__ __forceinline__ int32_t js_to_int32(double v) {
  if (!(v == v) || v == INFINITY || v == -INFINITY) return 0;
  double t = trunc(v);
  double m = fmod(t, 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(m));
}

// ---- warp and block reductions (blockDim.x a multiple of 32; every thread must call) -------------
__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

/** Sum over a 1-D block (≤ 1024 threads, a multiple of 32); every thread gets the total. */
__device__ __forceinline__ float block_sum(float v, float* scratch /* ≥ 33 floats of shared memory */) {
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[w] = v;
  __syncthreads();
  if (w == 0) {
    float t = lane < nw ? scratch[lane] : 0.f;
    t = warp_sum(t);
    if (lane == 0) scratch[32] = t;
  }
  __syncthreads();
  return scratch[32];
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[w] = v;
  __syncthreads();
  if (w == 0) {
    float t = lane < nw ? scratch[lane] : -INFINITY;
    t = warp_max(t);
    if (lane == 0) scratch[32] = t;
  }
  __syncthreads();
  return scratch[32];
}

__device__ __forceinline__ float sigmoidf_(float x) {
  // the CPU oracle's two-sided form: no overflow for large |x|
  return x >= 0.f ? 1.f / (1.f + expf(-x)) : expf(x) / (1.f + expf(x));
}

/**
 * Scratch device memory for one launcher call, from the caching allocator. Released when the
 * launcher returns: the block goes back to the cache, and since every kernel runs on one stream,
 * a later reuse is ordered after the kernels that read it here.
 */
class TempBuffer {
 public:
  explicit TempBuffer(size_t bytes) : bytes_(bytes) { ptr_ = allocator().allocate(bytes, &block_); }
  ~TempBuffer() { allocator().release(ptr_, block_, bytes_); }
  TempBuffer(const TempBuffer&) = delete;
  TempBuffer& operator=(const TempBuffer&) = delete;
  template <typename T> T* as() const { return static_cast<T*>(ptr_); }
 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0, block_ = 0;
};

/** x·y in double, rounded once to float: the CPU oracle's `float32 = number · number`. */
__device__ __forceinline__ float mul_rd(float x, double y) { return static_cast<float>(static_cast<double>(x) * y); }

/** splitmix32 and hashUniform's integer part, exactly as src/util/rng.ts (uint32 arithmetic). */
__device__ __host__ __forceinline__ uint32_t splitmix32(uint32_t a) {
  a += 0x9e3779b9u;
  uint32_t z = a;
  z = (z ^ (z >> 16)) * 0x85ebca6bu;
  z = (z ^ (z >> 13)) * 0xc2b2ae35u;
  return z ^ (z >> 16);
}
/** hashUniform(seed, i)·2³² as an integer: keep an element iff hash ≥ ceil(p·2³²). */
__device__ __forceinline__ uint32_t hash_bits(uint32_t hashed_seed, uint32_t i) { return splitmix32((i * 0x27d4eb2du) ^ hashed_seed); }

}  // namespace pb
