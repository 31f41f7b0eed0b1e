// Mamba-1's selective scan (real A): the twin of src/backend/cpu/selective_scan.ts, same layout
// (mamba-minimal's): u, δ [B, L, D]; B, C [B, L, N] (shared by every channel d); A [D, N]; D, δ_bias [D].
//
//   selective_scan_forward           outs [y], ins [u, delta, A, Bm, Cm, Dskip, deltaBias], ints [B, L, D, N, softplus]
//   selective_scan_backward          outs [du, ddelta, dA, dBm, dCm, dDskip, ddeltaBias], ins [dy, u, delta, A, Bm, Cm, Dskip, deltaBias]
//   selective_scan_chunked_forward   outs [y, hStart [B, D, ⌈L/Tc⌉, N]], ins as the forward, ints [..., Tc]
//   selective_scan_chunked_backward  outs as the backward, ins [..., hStart], ints [..., Tc]
//
// Structure (CUDA-NOTES §5.5 v1/v2): parallel over batch × channel × state, sequential in time.
// A (b, d) row is a group of W lanes (W = the power of two ≥ N, at most 32; a lane owns states
// n = lane, lane + W, … up to 8 of them, so N ≤ 256); its states live in registers; y_t = Σ_n C·h
// is a shuffle reduction inside the group. A 128-thread block holds R = 128/W consecutive
// channels of one batch row.
// Backward with recomputation, never storing the (B, L, D, N) states: a first forward pass stores
// the state every 16 steps (B·D·N·L/16 floats of scratch), then 16-step sub-chunks are walked last
// → first: the sub-chunk's states are recomputed from its checkpoint into a small per-thread array
// and the reverse recurrence dh_t = C_t·g_t + Ā_{t+1}·dh_{t+1} runs through it.
// Deterministic reductions, no atomics: du, dδ are group shuffles; dB, dC (sums over d) are summed
// over the block's R channels in shared memory at every step, written per channel block, and added
// over the channel blocks in order by a second kernel; dA, dD, dδ_bias (sums over b, t) are kept per
// (b, d) in registers and added over b in order.
// (The chunked kernels share this code: the forward also writes the chunk-start states; the
// backward recomputes its own checkpoints and does not need hStart.)
#include "../src/common.cuh"

namespace pb {
namespace {

constexpr int kThreads = 128;
constexpr int kSPL = 8;   // states per lane, at most
constexpr int kTCL = 16;  // steps per recomputed sub-chunk

struct SS {
  int B, L, D, N, softplus;
  int W, R, spl;      // lanes per row, rows per block, states per lane
  int nDB;            // channel blocks = ⌈D / R⌉
  int nSub;           // sub-chunks = ⌈L / kTCL⌉
  int Tc, nChunks;    // chunked forward: hStart every Tc steps
};

__device__ __forceinline__ float ss_softplus(float x, int on) { return on ? (x <= 20.f ? log1pf(expf(x)) : x) : x; }
__device__ __forceinline__ float ss_softplus_grad(float g, float x, int on) { return on ? (x <= 20.f ? g / (1.f + expf(-x)) : g) : g; }

__device__ __forceinline__ float group_sum(float v, int W) {
  for (int o = W / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o, W);
  return v;
}

__global__ void __launch_bounds__(kThreads) ss_forward_kernel(float* __restrict__ y, float* __restrict__ hStart, const float* __restrict__ u, const float* __restrict__ delta,
                                                              const float* __restrict__ A, const float* __restrict__ Bm, const float* __restrict__ Cm,
                                                              const float* __restrict__ Ds, const float* __restrict__ dBias, SS s) {
  const int lane = threadIdx.x % s.W, r = threadIdx.x / s.W;
  const int b = blockIdx.y, d = blockIdx.x * s.R + r;
  const bool valid = r < s.R && d < s.D;
  float h[kSPL], Ad[kSPL];
#pragma unroll
  for (int k = 0; k < kSPL; k++) {
    const int n = lane + k * s.W;
    h[k] = 0.f;
    Ad[k] = (valid && k < s.spl && n < s.N) ? A[static_cast<int64_t>(d) * s.N + n] : 0.f;
  }
  const float bias = valid ? dBias[d] : 0.f, Dd = valid ? Ds[d] : 0.f;
  for (int t = 0; t < s.L; t++) {
    const int64_t i = (static_cast<int64_t>(b) * s.L + t) * s.D + d, bc = (static_cast<int64_t>(b) * s.L + t) * s.N;
    if (hStart && valid && t % s.Tc == 0) {
#pragma unroll
      for (int k = 0; k < kSPL; k++) {
        const int n = lane + k * s.W;
        if (k < s.spl && n < s.N) hStart[((static_cast<int64_t>(b) * s.D + d) * s.nChunks + t / s.Tc) * s.N + n] = h[k];
      }
    }
    const float dt = valid ? ss_softplus(delta[i] + bias, s.softplus) : 0.f;
    const float ut = valid ? u[i] : 0.f;
    float part = 0.f;
#pragma unroll
    for (int k = 0; k < kSPL; k++) {
      const int n = lane + k * s.W;
      if (valid && k < s.spl && n < s.N) {
        h[k] = expf(dt * Ad[k]) * h[k] + dt * Bm[bc + n] * ut;
        part += Cm[bc + n] * h[k];
      }
    }
    const float tot = group_sum(part, s.W);
    if (valid && lane == 0) y[i] = tot + Dd * ut;
  }
}

struct Grads {
  float* du;
  float* ddelta;
  float* pdA;   // [B, D, N]
  float* pdD;   // [B, D]
  float* pdb;   // [B, D]
  float* pdB;   // [B, L, nDB, N]
  float* pdC;   // [B, L, nDB, N]
  float* ck;    // [B, D, nSub, N] checkpoints
};

__global__ void __launch_bounds__(kThreads) ss_backward_kernel(Grads G, const float* __restrict__ dy, const float* __restrict__ u, const float* __restrict__ delta,
                                                               const float* __restrict__ A, const float* __restrict__ Bm, const float* __restrict__ Cm,
                                                               const float* __restrict__ Ds, const float* __restrict__ dBias, SS s) {
  PB_EXTERN_SHARED(float, red);  // [2][R][N]: this step's dB and dC contributions of the block's rows
  const int lane = threadIdx.x % s.W, r = threadIdx.x / s.W;
  const int b = blockIdx.y, d = blockIdx.x * s.R + r;
  const bool valid = r < s.R && d < s.D;
  const int64_t rowBase = (static_cast<int64_t>(b) * s.D + d);
  float h[kSPL], Ad[kSPL], dh[kSPL], dA[kSPL], h0[kSPL];
  float hloc[kTCL][kSPL];
#pragma unroll
  for (int k = 0; k < kSPL; k++) {
    const int n = lane + k * s.W;
    h[k] = 0.f;
    dh[k] = 0.f;
    dA[k] = 0.f;
    Ad[k] = (valid && k < s.spl && n < s.N) ? A[static_cast<int64_t>(d) * s.N + n] : 0.f;
  }
  const float bias = valid ? dBias[d] : 0.f, Dd = valid ? Ds[d] : 0.f;
  // pass 1: forward, a checkpoint at the start of every sub-chunk
  for (int t = 0; t < s.L; t++) {
    const int64_t i = (static_cast<int64_t>(b) * s.L + t) * s.D + d, bc = (static_cast<int64_t>(b) * s.L + t) * s.N;
    if (t % kTCL == 0 && valid) {
#pragma unroll
      for (int k = 0; k < kSPL; k++) {
        const int n = lane + k * s.W;
        if (k < s.spl && n < s.N) G.ck[(rowBase * s.nSub + t / kTCL) * s.N + n] = h[k];
      }
    }
    if (valid) {
      const float dt = ss_softplus(delta[i] + bias, s.softplus), ut = u[i];
#pragma unroll
      for (int k = 0; k < kSPL; k++) {
        const int n = lane + k * s.W;
        if (k < s.spl && n < s.N) h[k] = expf(dt * Ad[k]) * h[k] + dt * Bm[bc + n] * ut;
      }
    }
  }
  // pass 2: sub-chunks last → first
  float accD = 0.f, accB = 0.f;
  float* redB = red;
  float* redC = red + s.R * s.N;
  for (int sc = s.nSub - 1; sc >= 0; sc--) {
    const int t0 = sc * kTCL, t1 = t0 + kTCL < s.L ? t0 + kTCL : s.L;
    // recompute the sub-chunk's states from its checkpoint
#pragma unroll
    for (int k = 0; k < kSPL; k++) {
      const int n = lane + k * s.W;
      h0[k] = (valid && k < s.spl && n < s.N) ? G.ck[(rowBase * s.nSub + sc) * s.N + n] : 0.f;
      h[k] = h0[k];
    }
    for (int tt = 0; tt < t1 - t0; tt++) {
      const int t = t0 + tt;
      const int64_t i = (static_cast<int64_t>(b) * s.L + t) * s.D + d, bc = (static_cast<int64_t>(b) * s.L + t) * s.N;
      const float dt = valid ? ss_softplus(delta[i] + bias, s.softplus) : 0.f, ut = valid ? u[i] : 0.f;
#pragma unroll
      for (int k = 0; k < kSPL; k++) {
        const int n = lane + k * s.W;
        if (valid && k < s.spl && n < s.N) h[k] = expf(dt * Ad[k]) * h[k] + dt * Bm[bc + n] * ut;
        hloc[tt][k] = h[k];
      }
    }
    // the reverse recurrence through the sub-chunk
    for (int tt = t1 - t0 - 1; tt >= 0; tt--) {
      const int t = t0 + tt;
      const int64_t i = (static_cast<int64_t>(b) * s.L + t) * s.D + d, bc = (static_cast<int64_t>(b) * s.L + t) * s.N;
      const float xraw = valid ? delta[i] + bias : 0.f;
      const float dt = valid ? ss_softplus(xraw, s.softplus) : 0.f, ut = valid ? u[i] : 0.f, g = valid ? dy[i] : 0.f;
      float dut = 0.f, ddt = 0.f;
#pragma unroll
      for (int k = 0; k < kSPL; k++) {
        const int n = lane + k * s.W;
        if (k < s.spl && n < s.N) {
          float cB = 0.f, cC = 0.f;
          if (valid) {
            const float hp = tt > 0 ? hloc[tt - 1][k] : h0[k];
            const float a = expf(dt * Ad[k]), bn = Bm[bc + n], cn = Cm[bc + n];
            const float dhn = dh[k] + cn * g;
            cC = g * hloc[tt][k];
            cB = dhn * dt * ut;
            dut += dhn * dt * bn;
            ddt += dhn * (bn * ut + Ad[k] * a * hp);
            dA[k] += dhn * dt * a * hp;
            dh[k] = a * dhn;
          }
          if (r < s.R) {
            redB[r * s.N + n] = cB;
            redC[r * s.N + n] = cC;
          }
        }
      }
      dut = group_sum(dut, s.W);
      ddt = group_sum(ddt, s.W);
      if (valid && lane == 0) {
        const float dx = ss_softplus_grad(ddt, xraw, s.softplus);
        G.du[i] = Dd * g + dut;
        G.ddelta[i] = dx;
        accB += dx;
        accD += g * ut;
      }
      __syncthreads();  // every row's contributions of step t are in shared memory
      for (int n = threadIdx.x; n < s.N; n += blockDim.x) {
        float sb = 0.f, scc = 0.f;
        for (int q = 0; q < s.R; q++) { sb += redB[q * s.N + n]; scc += redC[q * s.N + n]; }
        const int64_t o = ((static_cast<int64_t>(b) * s.L + t) * s.nDB + blockIdx.x) * s.N + n;
        G.pdB[o] = sb;
        G.pdC[o] = scc;
      }
      __syncthreads();  // the shared rows are free for the next step
    }
  }
  if (valid) {
#pragma unroll
    for (int k = 0; k < kSPL; k++) {
      const int n = lane + k * s.W;
      if (k < s.spl && n < s.N) G.pdA[rowBase * s.N + n] = dA[k];
    }
    if (lane == 0) {
      G.pdD[rowBase] = accD;
      G.pdb[rowBase] = accB;
    }
  }
}

// out[j] = Σ_{q < Q} part[(outer(j)·Q + q)·inner + inner(j)] — partial sums added in order.
__global__ void sum_middle_kernel(float* __restrict__ out, const float* __restrict__ part, int64_t outer, int64_t Q, int64_t inner) {
  PB_GRID_STRIDE(j, outer * inner) {
    const int64_t o = j / inner, in = j % inner;
    float s = 0.f;
    for (int64_t q = 0; q < Q; q++) s += part[(o * Q + q) * inner + in];
    out[j] = s;
  }
}

SS geometry(KernelCall& c, bool chunked) {
  c.need_ints(chunked ? 6 : 5);
  SS s{};
  const int64_t B = c.i(0), L = c.i(1), D = c.i(2), N = c.i(3);
  if (B < 0 || L < 0 || D < 0 || N < 0 || B > 65535 || L > 0x7fffffff || D > 0x7fffffff) c.fail("sizes out of range (B ≤ 65535)");
  if (N > 32 * kSPL) c.fail("N = " + std::to_string(N) + " states: at most " + std::to_string(32 * kSPL));
  s.B = static_cast<int>(B);
  s.L = static_cast<int>(L);
  s.D = static_cast<int>(D);
  s.N = static_cast<int>(N);
  s.softplus = c.i(4) != 0;
  s.W = 1;
  while (s.W < s.N && s.W < 32) s.W <<= 1;
  s.R = kThreads / s.W;
  s.spl = static_cast<int>(ceil_div(s.N < 1 ? 1 : s.N, s.W));
  s.nDB = static_cast<int>(ceil_div(s.D, s.R));
  s.nSub = static_cast<int>(ceil_div(s.L, kTCL));
  s.Tc = chunked ? static_cast<int>(c.i(5)) : 1 << 30;
  if (chunked && s.Tc < 1) c.fail("Tc must be ≥ 1");
  s.nChunks = chunked ? static_cast<int>(ceil_div(s.L, s.Tc)) : 0;
  return s;
}

void forward_impl(KernelCall& c, bool chunked) {
  const SS s = geometry(c, chunked);
  const int64_t BLD = static_cast<int64_t>(s.B) * s.L * s.D, BLN = static_cast<int64_t>(s.B) * s.L * s.N;
  float* y = c.outF(0, BLD);
  float* hStart = chunked ? c.outF(1, static_cast<int64_t>(s.B) * s.D * s.nChunks * s.N) : nullptr;
  const float* u = c.inF(0, BLD);
  const float* delta = c.inF(1, BLD);
  const float* A = c.inF(2, static_cast<int64_t>(s.D) * s.N);
  const float* Bm = c.inF(3, BLN);
  const float* Cm = c.inF(4, BLN);
  const float* Ds = c.inF(5, s.D);
  const float* db = c.inF(6, s.D);
  if (BLD == 0) return;
  dim3 grid(static_cast<unsigned>(s.nDB), static_cast<unsigned>(s.B));
  KERNEL_LAUNCH(ss_forward_kernel, grid, kThreads, 0, c.stream)(y, hStart, u, delta, A, Bm, Cm, Ds, db, s);
}

void backward_impl(KernelCall& c, bool chunked) {
  const SS s = geometry(c, chunked);
  const int64_t BLD = static_cast<int64_t>(s.B) * s.L * s.D, BLN = static_cast<int64_t>(s.B) * s.L * s.N, DN = static_cast<int64_t>(s.D) * s.N;
  Grads G{};
  G.du = c.outF(0, BLD);
  G.ddelta = c.outF(1, BLD);
  float* dA = c.outF(2, DN);
  float* dBm = c.outF(3, BLN);
  float* dCm = c.outF(4, BLN);
  float* dDs = c.outF(5, s.D);
  float* ddb = c.outF(6, s.D);
  const float* dy = c.inF(0, BLD);
  const float* u = c.inF(1, BLD);
  const float* delta = c.inF(2, BLD);
  const float* A = c.inF(3, DN);
  const float* Bm = c.inF(4, BLN);
  const float* Cm = c.inF(5, BLN);
  const float* Ds = c.inF(6, s.D);
  const float* db = c.inF(7, s.D);
  if (BLD == 0) {  // no step: the sums are empty
    for (int o = 2; o < 7; o++) rt::memset_async(c.out(o).ptr, 0, c.out(o).bytes, c.stream);
    return;
  }
  const int64_t BD = static_cast<int64_t>(s.B) * s.D;
  TempBuffer pdA(static_cast<size_t>(BD * s.N) * 4), pdD(static_cast<size_t>(BD) * 4), pdb(static_cast<size_t>(BD) * 4);
  TempBuffer pdB(static_cast<size_t>(static_cast<int64_t>(s.B) * s.L * s.nDB * s.N) * 4), pdC(static_cast<size_t>(static_cast<int64_t>(s.B) * s.L * s.nDB * s.N) * 4);
  TempBuffer ck(static_cast<size_t>(BD * s.nSub * s.N) * 4);
  G.pdA = pdA.as<float>();
  G.pdD = pdD.as<float>();
  G.pdb = pdb.as<float>();
  G.pdB = pdB.as<float>();
  G.pdC = pdC.as<float>();
  G.ck = ck.as<float>();
  dim3 grid(static_cast<unsigned>(s.nDB), static_cast<unsigned>(s.B));
  KERNEL_LAUNCH(ss_backward_kernel, grid, kThreads, static_cast<size_t>(2 * s.R * s.N) * 4, c.stream)(G, dy, u, delta, A, Bm, Cm, Ds, db, s);
  // second pass: the sums over channel blocks (dB, dC) and over the batch (dA, dD, dδ_bias), in order
  const int64_t BL = static_cast<int64_t>(s.B) * s.L;
  if (s.N) {
    KERNEL_LAUNCH(sum_middle_kernel, grid_1d(BL * s.N), 256, 0, c.stream)(dBm, G.pdB, BL, s.nDB, s.N);
    KERNEL_LAUNCH(sum_middle_kernel, grid_1d(BL * s.N), 256, 0, c.stream)(dCm, G.pdC, BL, s.nDB, s.N);
    if (DN) KERNEL_LAUNCH(sum_middle_kernel, grid_1d(DN), 256, 0, c.stream)(dA, G.pdA, 1, s.B, DN);
  }
  KERNEL_LAUNCH(sum_middle_kernel, grid_1d(s.D), 256, 0, c.stream)(dDs, G.pdD, 1, s.B, s.D);
  KERNEL_LAUNCH(sum_middle_kernel, grid_1d(s.D), 256, 0, c.stream)(ddb, G.pdb, 1, s.B, s.D);
}

void ss_forward(KernelCall& c) { forward_impl(c, false); }
void ss_backward(KernelCall& c) { backward_impl(c, false); }
void ss_chunked_forward(KernelCall& c) { forward_impl(c, true); }
void ss_chunked_backward(KernelCall& c) { backward_impl(c, true); }

}  // namespace
}  // namespace pb

using namespace pb;
REGISTER_KERNEL("selective_scan_forward", 1, 7, ss_forward);
REGISTER_KERNEL("selective_scan_backward", 7, 8, ss_backward);
REGISTER_KERNEL("selective_scan_chunked_forward", 2, 7, ss_chunked_forward);
REGISTER_KERNEL("selective_scan_chunked_backward", 7, 9, ss_chunked_backward);
