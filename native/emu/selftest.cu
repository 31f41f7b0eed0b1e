// Kernels with known results that test the SIMT emulator itself (compiled into pixelbytes_emu
// only; test/native/emulator.test.ts drives them). Each is ordinary CUDA.
#include "../src/common.cuh"

namespace pb {
namespace {

// Block reduction through shared memory: a tree with a barrier per level. out[block] = Σ chunk.
__global__ void block_reduce_kernel(float* out, const float* x, int n) {
  __shared__ float s[256];
  const int t = threadIdx.x, i = blockIdx.x * blockDim.x + t;
  s[t] = i < n ? x[i] : 0.f;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (t < stride) s[t] += s[t + stride];
    __syncthreads();
  }
  if (t == 0) out[blockIdx.x] = s[0];
}

void block_reduce(KernelCall& c) {
  const int n = static_cast<int>(c.i(0));
  const int blocks = static_cast<int>(ceil_div(n, 256));
  KERNEL_LAUNCH(block_reduce_kernel, blocks, 256, 0, c.stream)(c.outF(0, blocks), c.inF(0, n), n);
}

// Warp reduction with __shfl_down_sync; lane 0 of every warp writes its warp's sum, and the
// ballot of (x > 0) as an int.
__global__ void warp_reduce_kernel(float* sums, int32_t* ballots, const float* x, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  float v = i < n ? x[i] : 0.f;
  const unsigned vote = __ballot_sync(0xffffffffu, v > 0.f);
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x & 31;
  if (lane == 0 && i < n) {
    sums[i / 32] = v;
    ballots[i / 32] = static_cast<int32_t>(vote);
  }
}

void warp_reduce(KernelCall& c) {
  const int n = static_cast<int>(c.i(0));
  const int warps = static_cast<int>(ceil_div(n, 32));
  KERNEL_LAUNCH(warp_reduce_kernel, static_cast<int>(ceil_div(n, 128)), 128, 0, c.stream)(c.outF(0, warps), c.outI(1, warps), c.inF(0, n), n);
}

// Inclusive scan per block of 256: a warp scan with __shfl_up_sync, then the warp totals scanned
// by warp 0 through shared memory, then added back.
__global__ void block_scan_kernel(float* out, const float* x, int n) {
  __shared__ float warp_tot[8];
  const int t = threadIdx.x, lane = t & 31, w = t >> 5, i = blockIdx.x * blockDim.x + t;
  float v = i < n ? x[i] : 0.f;
  for (int o = 1; o < 32; o <<= 1) {
    float u = __shfl_up_sync(0xffffffffu, v, o);
    if (lane >= o) v += u;
  }
  if (lane == 31) warp_tot[w] = v;
  __syncthreads();
  if (w == 0) {
    float s = lane < 8 ? warp_tot[lane] : 0.f;
    for (int o = 1; o < 8; o <<= 1) {
      float u = __shfl_up_sync(0xffffffffu, s, o);
      if (lane >= o) s += u;
    }
    if (lane < 8) warp_tot[lane] = s;
  }
  __syncthreads();
  if (w > 0) v += warp_tot[w - 1];
  if (i < n) out[i] = v;
}

void block_scan(KernelCall& c) {
  const int n = static_cast<int>(c.i(0));
  KERNEL_LAUNCH(block_scan_kernel, static_cast<int>(ceil_div(n, 256)), 256, 0, c.stream)(c.outF(0, n), c.inF(0, n), n);
}

// Shared-memory tiled transpose (32×32 tile, +1 column against bank conflicts, 32×8 threads).
__global__ void transpose_kernel(float* out, const float* in, int rows, int cols) {
  __shared__ float tile[32][33];
  const int x = blockIdx.x * 32 + threadIdx.x;
  int y = blockIdx.y * 32 + threadIdx.y;
  for (int j = 0; j < 32; j += 8)
    if (x < cols && y + j < rows) tile[threadIdx.y + j][threadIdx.x] = in[(int64_t)(y + j) * cols + x];
  __syncthreads();
  const int tx = blockIdx.y * 32 + threadIdx.x;
  const int ty = blockIdx.x * 32 + threadIdx.y;
  for (int j = 0; j < 32; j += 8)
    if (tx < rows && ty + j < cols) out[(int64_t)(ty + j) * rows + tx] = tile[threadIdx.x][threadIdx.y + j];
}

void transpose(KernelCall& c) {
  const int rows = static_cast<int>(c.i(0)), cols = static_cast<int>(c.i(1));
  dim3 grid(static_cast<unsigned>(ceil_div(cols, 32)), static_cast<unsigned>(ceil_div(rows, 32)));
  KERNEL_LAUNCH(transpose_kernel, grid, dim3(32, 8), 0, c.stream)(c.outF(0, (int64_t)rows * cols), c.inF(0, (int64_t)rows * cols), rows, cols);
}

// Reverses each block's 256-element chunk through dynamic shared memory:
//   out[b·256 + t] = x[b·256 + 255 − t]   (0 where that is past the end)
// With barrier = 0 the __syncthreads() between the writes and the reads is missing: thread t
// reads s[255 − t] before thread 255 − t has written it — on a GPU a race, in the emulator
// deterministically the poison (NaN) for every t < 128 (threads run in order until a barrier).
__global__ void reverse_kernel(float* out, const float* x, int n, int barrier) {
  PB_EXTERN_SHARED(float, s);
  const int t = threadIdx.x, i = blockIdx.x * blockDim.x + t;
  s[t] = i < n ? x[i] : 0.f;
  if (barrier) __syncthreads();
  if (i < n) out[i] = s[blockDim.x - 1 - t];
}

void reverse(KernelCall& c) {
  const int n = static_cast<int>(c.i(0)), barrier = static_cast<int>(c.i(1));
  KERNEL_LAUNCH(reverse_kernel, static_cast<int>(ceil_div(n, 256)), 256, 256 * sizeof(float), c.stream)(c.outF(0, n), c.inF(0, n), n, barrier);
}

// The classic bug: threads past the end return before a barrier the others wait at.
__global__ void early_return_kernel(float* out, const float* x, int n) {
  __shared__ float s[128];
  const int t = threadIdx.x;
  if (t >= n) return;
  s[t] = x[t];
  __syncthreads();
  out[t] = s[(t + 1) % n];
}

void early_return(KernelCall& c) {
  const int n = static_cast<int>(c.i(0));
  KERNEL_LAUNCH(early_return_kernel, 1, 128, 0, c.stream)(c.outF(0), c.inF(0), n);
}

// Different threads at different __syncthreads() call sites.
__global__ void divergent_barrier_kernel(float* out) {
  if (threadIdx.x % 2 == 0) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1.f;
}

void divergent_barrier(KernelCall& c) { KERNEL_LAUNCH(divergent_barrier_kernel, 1, 64, 0, c.stream)(c.outF(0)); }

// Lanes 0–15 shuffle with the full mask while lanes 16–31 wait at __syncthreads(): a deadlock.
__global__ void shuffle_deadlock_kernel(float* out) {
  float v = static_cast<float>(threadIdx.x);
  if (threadIdx.x < 16) v = __shfl_xor_sync(0xffffffffu, v, 1);
  __syncthreads();
  out[threadIdx.x] = v;
}

void shuffle_deadlock(KernelCall& c) { KERNEL_LAUNCH(shuffle_deadlock_kernel, 1, 32, 0, c.stream)(c.outF(0)); }

// Histogram with atomicAdd (int) into global memory.
__global__ void histogram_kernel(int32_t* hist, const int32_t* x, int n, int bins) {
  PB_GRID_STRIDE(i, n) {
    int b = x[i];
    if (b >= 0 && b < bins) atomicAdd(&hist[b], 1);
  }
}

void histogram(KernelCall& c) {
  const int n = static_cast<int>(c.i(0)), bins = static_cast<int>(c.i(1));
  rt::memset_async(c.out(0).ptr, 0, static_cast<size_t>(bins) * 4, c.stream);
  KERNEL_LAUNCH(histogram_kernel, grid_1d(n, 64, 4), 64, 0, c.stream)(c.outI(0, bins), c.inI(0, n), n, bins);
}

// A launch the runtime must refuse: 2048 threads per block.
__global__ void noop_kernel(float* out) { out[0] = 0.f; }
void invalid_launch(KernelCall& c) { KERNEL_LAUNCH(noop_kernel, 1, 2048, 0, c.stream)(c.outF(0)); }

}  // namespace
}  // namespace pb

using namespace pb;
REGISTER_KERNEL("selftest_block_reduce", 1, 1, block_reduce);
REGISTER_KERNEL("selftest_warp_reduce", 2, 1, warp_reduce);
REGISTER_KERNEL("selftest_block_scan", 1, 1, block_scan);
REGISTER_KERNEL("selftest_transpose", 1, 1, transpose);
REGISTER_KERNEL("selftest_reverse", 1, 1, reverse);
REGISTER_KERNEL("selftest_early_return", 1, 1, early_return);
REGISTER_KERNEL("selftest_divergent_barrier", 1, 0, divergent_barrier);
REGISTER_KERNEL("selftest_shuffle_deadlock", 1, 0, shuffle_deadlock);
REGISTER_KERNEL("selftest_histogram", 1, 1, histogram);
REGISTER_KERNEL("selftest_invalid_launch", 1, 0, invalid_launch);
