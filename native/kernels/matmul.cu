// SGEMM: the twin of the CPU 'matmul' kernel (src/backend/cpu/matmul.ts).
//
//   outs [C], ins [A, B], floats []
//   ints [batch, M, K, N, transA, transB, strideA, strideB, accumulate]
//   for each b < batch: C[b] (M×N, contiguous, batch stride M·N) = op(A)[b]·op(B)[b] (+ C[b] if accumulate)
//   op(A)[b] starts at A + b·strideA (0 = the same A for every b), stored [M,K] (transA = 0) or [K,M];
//   op(B)[b] starts at B + b·strideB, stored [K,N] (transB = 0) or [N,K].
//
// Three kernels, the progression of siboehm/SGEMM_CUDA (kept side by side; the launcher picks):
//   1. sgemm_naive        one thread per output, K loop from global memory — the readable spec.
//   2. sgemm_tiled<64>    64×64 block tile, BK = 16, 4×4 outputs per thread (256 threads).
//   3. sgemm_tiled<128>   128×128 block tile, BK = 8, 8×8 outputs per thread (256 threads): the
//                         winner on large matrices (more FMAs per shared-memory load).
// The tiled kernels stage A and B tiles through shared memory (A transposed, so a thread's TM
// values of a k-slice are one row), accumulate a TM×TN register tile, and own strided rows and
// columns (row tr + i·BM/TM, column tc + j·BN/TN): shared-memory reads are conflict-free and the
// final stores coalesce. Every load is bounds-checked and zero-filled, so any M, N, K works; the
// transpose flags only change how a tile is read (each mapping keeps the global reads coalesced).
// Accumulation is in float32, in k order within a tile.
//
// PIXELBYTES_MATMUL_KERNEL=naive|tile64|tile128 forces one (benchmarks); default: tile128 when
// M ≥ 512, N ≥ 512 and the 128×128 tiles fill at least one wave over the SMs, else tile64.
#include <cstdlib>
#include <cstring>

#include "../src/common.cuh"
#include "../src/gemm.h"

namespace pb {
namespace {

__global__ void sgemm_naive(float* __restrict__ C, const float* __restrict__ A, const float* __restrict__ B, int M, int N, int K, int transA, int transB,
                            int64_t strideA, int64_t strideB, int accumulate) {
  const int64_t b = blockIdx.z;
  A += b * strideA;
  B += b * strideB;
  C += b * static_cast<int64_t>(M) * N;
  const int n = blockIdx.x * blockDim.x + threadIdx.x;
  const int m = blockIdx.y * blockDim.y + threadIdx.y;
  if (m >= M || n >= N) return;  // no barrier in this kernel: an early return is fine
  float s = 0.f;
  for (int k = 0; k < K; k++) {
    const float a = transA ? A[static_cast<int64_t>(k) * M + m] : A[static_cast<int64_t>(m) * K + k];
    const float bb = transB ? B[static_cast<int64_t>(n) * K + k] : B[static_cast<int64_t>(k) * N + n];
    s += a * bb;
  }
  const int64_t o = static_cast<int64_t>(m) * N + n;
  C[o] = accumulate ? C[o] + s : s;
}

template <int BM, int BN, int BK, int TM, int TN, bool TA, bool TB>
__global__ void __launch_bounds__((BM / TM) * (BN / TN))
sgemm_tiled(float* __restrict__ C, const float* __restrict__ A, const float* __restrict__ B, int M, int N, int K, int64_t strideA, int64_t strideB, int accumulate) {
  constexpr int NT = (BM / TM) * (BN / TN);
  constexpr int RT = BM / TM, CT = BN / TN;  // thread grid over the tile
  __shared__ float As[BK][BM + 1];           // As[k][m] (+1: conflict-free transposing stores)
  __shared__ float Bs[BK][BN + 1];           // Bs[k][n]
  const int64_t b = blockIdx.z;
  A += b * strideA;
  B += b * strideB;
  C += b * static_cast<int64_t>(M) * N;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
  const int tid = threadIdx.x;
  const int tr = tid / CT, tc = tid % CT;

  float acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; i++)
#pragma unroll
    for (int j = 0; j < TN; j++) acc[i][j] = 0.f;
  float ar[TM], br[TN];

  for (int k0 = 0; k0 < K; k0 += BK) {
    // A tile (BM×BK): consecutive threads walk the contiguous dimension of A's storage.
#pragma unroll
    for (int e = tid; e < BM * BK; e += NT) {
      const int m = TA ? e % BM : e / BK;
      const int k = TA ? e / BM : e % BK;
      const int gm = m0 + m, gk = k0 + k;
      float v = 0.f;
      if (gm < M && gk < K) v = TA ? A[static_cast<int64_t>(gk) * M + gm] : A[static_cast<int64_t>(gm) * K + gk];
      As[k][m] = v;
    }
    // B tile (BK×BN)
#pragma unroll
    for (int e = tid; e < BK * BN; e += NT) {
      const int n = TB ? e / BK : e % BN;
      const int k = TB ? e % BK : e / BN;
      const int gk = k0 + k, gn = n0 + n;
      float v = 0.f;
      if (gk < K && gn < N) v = TB ? B[static_cast<int64_t>(gn) * K + gk] : B[static_cast<int64_t>(gk) * N + gn];
      Bs[k][n] = v;
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < BK; k++) {
#pragma unroll
      for (int i = 0; i < TM; i++) ar[i] = As[k][tr + i * RT];
#pragma unroll
      for (int j = 0; j < TN; j++) br[j] = Bs[k][tc + j * CT];
#pragma unroll
      for (int i = 0; i < TM; i++)
#pragma unroll
        for (int j = 0; j < TN; j++) acc[i][j] += ar[i] * br[j];
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < TM; i++) {
    const int gm = m0 + tr + i * RT;
    if (gm >= M) continue;
#pragma unroll
    for (int j = 0; j < TN; j++) {
      const int gn = n0 + tc + j * CT;
      if (gn >= N) continue;
      const int64_t o = static_cast<int64_t>(gm) * N + gn;
      C[o] = accumulate ? C[o] + acc[i][j] : acc[i][j];
    }
  }
}

enum class Variant { Auto, Naive, Tile64, Tile128 };

Variant forced_variant() {
  static const Variant v = [] {
    const char* e = std::getenv("PIXELBYTES_MATMUL_KERNEL");
    if (!e) return Variant::Auto;
    if (!std::strcmp(e, "naive")) return Variant::Naive;
    if (!std::strcmp(e, "tile64")) return Variant::Tile64;
    if (!std::strcmp(e, "tile128")) return Variant::Tile128;
    return Variant::Auto;
  }();
  return v;
}

template <int BM, int BN, int BK, int TM, int TN>
void launch_tiled(Stream stream, float* C, const float* A, const float* B, int batch, int M, int N, int K, bool ta, bool tb, int64_t sA, int64_t sB, int acc) {
  dim3 grid(static_cast<unsigned>(ceil_div(N, BN)), static_cast<unsigned>(ceil_div(M, BM)), static_cast<unsigned>(batch));
  constexpr int threads = (BM / TM) * (BN / TN);
  if (!ta && !tb) KERNEL_LAUNCH((sgemm_tiled<BM, BN, BK, TM, TN, false, false>), grid, threads, 0, stream)(C, A, B, M, N, K, sA, sB, acc);
  else if (ta && !tb) KERNEL_LAUNCH((sgemm_tiled<BM, BN, BK, TM, TN, true, false>), grid, threads, 0, stream)(C, A, B, M, N, K, sA, sB, acc);
  else if (!ta && tb) KERNEL_LAUNCH((sgemm_tiled<BM, BN, BK, TM, TN, false, true>), grid, threads, 0, stream)(C, A, B, M, N, K, sA, sB, acc);
  else KERNEL_LAUNCH((sgemm_tiled<BM, BN, BK, TM, TN, true, true>), grid, threads, 0, stream)(C, A, B, M, N, K, sA, sB, acc);
}

void matmul(KernelCall& c) {
  c.need_ints(9);
  const int64_t batch = c.i(0), M = c.i(1), K = c.i(2), N = c.i(3);
  const bool ta = c.i(4) != 0, tb = c.i(5) != 0;
  const int64_t sA = c.i(6), sB = c.i(7);
  const bool acc = c.i(8) != 0;
  if (batch < 0 || M < 0 || K < 0 || N < 0 || sA < 0 || sB < 0) c.fail("negative size or stride");
  if (M > 0x7fffffff || N > 0x7fffffff || K > 0x7fffffff) c.fail("M, K and N must fit in int32");
  float* C = c.outF(0, batch * M * N);
  if (batch * M * N == 0) return;
  c.need_at_least(c.in(0), "A", (batch - 1) * sA + M * K);
  c.need_at_least(c.in(1), "B", (batch - 1) * sB + K * N);
  gemm(c.stream, C, c.inF(0), c.inF(1), batch, M, K, N, ta, tb, sA, sB, acc);
}

}  // namespace

void gemm(Stream stream, float* C, const float* A, const float* B, int64_t batch, int64_t M, int64_t K, int64_t N, bool ta, bool tb, int64_t sA, int64_t sB,
          bool accumulate) {
  if (batch * M * N == 0) return;
  Variant v = forced_variant();
  if (v == Variant::Auto) {
    // 128×128 tiles only when there are enough of them for one wave over the SMs (1024² on a
    // 132-SM H100 is 64 tiles: better as 256 tiles of 64×64; on a 40-SM T4 the 128² tiles win)
    const int64_t tiles128 = ceil_div(M, 128) * ceil_div(N, 128) * batch;
    v = (M >= 512 && N >= 512 && tiles128 >= rt::sm_count()) ? Variant::Tile128 : Variant::Tile64;
  }
  const int acc = accumulate ? 1 : 0;
  // grid.z ≤ 65535: run larger batches in slices
  for (int64_t b0 = 0; b0 < batch; b0 += 65535) {
    const int nb = static_cast<int>(batch - b0 < 65535 ? batch - b0 : 65535);
    float* Cb = C + b0 * M * N;
    const float* Ab = A + b0 * sA;
    const float* Bb = B + b0 * sB;
    const int m = static_cast<int>(M), n = static_cast<int>(N), k = static_cast<int>(K);
    switch (v) {
      case Variant::Naive: {
        dim3 grid(static_cast<unsigned>(ceil_div(N, 16)), static_cast<unsigned>(ceil_div(M, 16)), static_cast<unsigned>(nb));
        KERNEL_LAUNCH(sgemm_naive, grid, dim3(16, 16), 0, stream)(Cb, Ab, Bb, m, n, k, ta, tb, sA, sB, acc);
        break;
      }
      case Variant::Tile128: launch_tiled<128, 128, 8, 8, 8>(stream, Cb, Ab, Bb, nb, m, n, k, ta, tb, sA, sB, acc); break;
      default: launch_tiled<64, 64, 16, 4, 4>(stream, Cb, Ab, Bb, nb, m, n, k, ta, tb, sA, sB, acc); break;
    }
  }
}

}  // namespace pb

using namespace pb;
REGISTER_KERNEL("matmul", 1, 2, matmul);
