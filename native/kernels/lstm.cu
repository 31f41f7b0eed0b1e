// LSTM: twins of src/backend/cpu/lstm.ts. Gate order [i | f | g | o] (PyTorch) along every 4H axis.
//
//   lstm_cell           outs [h' [B,H], c' [B,H], act [B,4H]], ins [gates [B,4H], c [B,H]], ints [B, H]
//   lstm_cell_backward  outs [dgates [B,4H], dc [B,H]], ins [dh', dc', act, c, c'], ints [B, H]
//   lstm_seq_forward    outs [out [B,T,H], hT, cT, saved [B,T,6H]], ins [xProj [B,T,4H], W_hh [4H,H], h0, c0]
//   lstm_seq_backward   outs [dxProj [B,T,4H], dW_hh [4H,H], dh0, dc0], ins [dOut, dhT, dcT, W_hh, h0, c0, out, saved]
//                       ints [B, T, H, reverse]; saved[b, t] = [i | f | g | o | c | tanh c]
//
// The sequence kernels keep the whole time loop on the device in ONE launch (CUDA-NOTES §4.7: never
// a launch or an N-API call per step): one block per sequence b (sequences are independent), its
// state in shared memory, a barrier per step. Forward step: every thread owns hidden units n and
// computes the four gates ĝ = xProj[b,t] + h_prev·W_hhᵀ (W_hh transposed once per call so the
// reads coalesce), then the cell; h is double-buffered so one barrier per step suffices. Backward
// step: the pointwise backward for every n (dĝ to dxProj and to shared memory), a barrier, then
// the recurrent carry dh[k] = Σ_j dĝ[j]·W_hh[j,k], a barrier. dW_hh = Σ_{b,t} dĝᵀ·h_prev is one
// SGEMM after the loop. Parallelism is B blocks: right for small batches of long sequences; a
// persistent multi-block kernel (weights resident in shared memory/registers) is the next step.
#include "../src/common.cuh"
#include "../src/gemm.h"

namespace pb {
namespace {

// ---- one cell ----------------------------------------------------------------------------------
__global__ void lstm_cell_kernel(float* __restrict__ h, float* __restrict__ cn, float* __restrict__ act, const float* __restrict__ gates, const float* __restrict__ c,
                                 int64_t B, int64_t H) {
  PB_GRID_STRIDE(e, B * H) {
    const int64_t b = e / H, n = e % H, gb = b * 4 * H + n;
    const float i = sigmoidf_(gates[gb]), f = sigmoidf_(gates[gb + H]);
    const float g = tanhf(gates[gb + 2 * H]), o = sigmoidf_(gates[gb + 3 * H]);
    const float cc = f * c[e] + i * g;
    cn[e] = cc;
    h[e] = o * tanhf(cc);
    act[gb] = i;
    act[gb + H] = f;
    act[gb + 2 * H] = g;
    act[gb + 3 * H] = o;
  }
}

__global__ void lstm_cell_backward_kernel(float* __restrict__ dgates, float* __restrict__ dc, const float* __restrict__ dhn, const float* __restrict__ dcn,
                                          const float* __restrict__ act, const float* __restrict__ c, const float* __restrict__ cn, int64_t B, int64_t H) {
  PB_GRID_STRIDE(e, B * H) {
    const int64_t b = e / H, n = e % H, gb = b * 4 * H + n;
    const float i = act[gb], f = act[gb + H], g = act[gb + 2 * H], o = act[gb + 3 * H];
    const float tc = tanhf(cn[e]), dh = dhn[e];
    const float dct = dcn[e] + dh * o * (1.f - tc * tc);
    dgates[gb] = dct * g * i * (1.f - i);
    dgates[gb + H] = dct * c[e] * f * (1.f - f);
    dgates[gb + 2 * H] = dct * i * (1.f - g * g);
    dgates[gb + 3 * H] = dh * tc * o * (1.f - o);
    dc[e] = dct * f;
  }
}

void lstm_cell(KernelCall& c) {
  c.need_ints(2);
  const int64_t B = c.i(0), H = c.i(1);
  float* h = c.outF(0, B * H);
  float* cn = c.outF(1, B * H);
  float* act = c.outF(2, B * 4 * H);
  const float* gates = c.inF(0, B * 4 * H);
  const float* cc = c.inF(1, B * H);
  if (B * H > 0) KERNEL_LAUNCH(lstm_cell_kernel, grid_1d(B * H), 256, 0, c.stream)(h, cn, act, gates, cc, B, H);
}

void lstm_cell_backward(KernelCall& c) {
  c.need_ints(2);
  const int64_t B = c.i(0), H = c.i(1);
  float* dg = c.outF(0, B * 4 * H);
  float* dc = c.outF(1, B * H);
  const float* dhn = c.inF(0, B * H);
  const float* dcn = c.inF(1, B * H);
  const float* act = c.inF(2, B * 4 * H);
  const float* cc = c.inF(3, B * H);
  const float* cn = c.inF(4, B * H);
  if (B * H > 0) KERNEL_LAUNCH(lstm_cell_backward_kernel, grid_1d(B * H), 256, 0, c.stream)(dg, dc, dhn, dcn, act, cc, cn, B, H);
}

// ---- the sequence ------------------------------------------------------------------------------
// Wt[k, j] = W[j, k]   (W [4H, H] → Wt [H, 4H])
__global__ void transpose_kernel(float* __restrict__ Wt, const float* __restrict__ W, int64_t rows, int64_t cols) {
  PB_GRID_STRIDE(e, rows * cols) {
    const int64_t j = e / cols, k = e % cols;
    Wt[k * rows + j] = W[e];
  }
}

__global__ void lstm_seq_forward_kernel(float* __restrict__ out, float* __restrict__ hT, float* __restrict__ cT, float* __restrict__ saved, const float* __restrict__ xProj,
                                        const float* __restrict__ Wt, const float* __restrict__ h0, const float* __restrict__ c0, int T, int H, int reverse) {
  PB_EXTERN_SHARED(float, sm);
  float* hbuf[2] = {sm, sm + H};
  float* cbuf[2] = {sm + 2 * H, sm + 3 * H};
  const int64_t b = blockIdx.x;
  const int G = 4 * H, S = 6 * H;
  for (int n = threadIdx.x; n < H; n += blockDim.x) {
    hbuf[0][n] = h0[b * H + n];
    cbuf[0][n] = c0[b * H + n];
  }
  __syncthreads();
  int cur = 0;
  for (int s = 0; s < T; s++) {
    const int t = reverse ? T - 1 - s : s;
    const float* hp = hbuf[cur];
    const float* cp = cbuf[cur];
    const float* xp = xProj + (b * T + t) * G;
    for (int n = threadIdx.x; n < H; n += blockDim.x) {
      float a0 = xp[n], a1 = xp[H + n], a2 = xp[2 * H + n], a3 = xp[3 * H + n];
      for (int k = 0; k < H; k++) {
        const float hk = hp[k];
        const float* w = Wt + static_cast<int64_t>(k) * G + n;
        a0 += hk * w[0];
        a1 += hk * w[H];
        a2 += hk * w[2 * H];
        a3 += hk * w[3 * H];
      }
      const float i = sigmoidf_(a0), f = sigmoidf_(a1), g = tanhf(a2), o = sigmoidf_(a3);
      const float cc = f * cp[n] + i * g;
      const float tc = tanhf(cc);
      const float h = o * tc;
      out[(b * T + t) * H + n] = h;
      float* sv = saved + (b * T + t) * S;
      sv[n] = i;
      sv[H + n] = f;
      sv[2 * H + n] = g;
      sv[3 * H + n] = o;
      sv[4 * H + n] = cc;
      sv[5 * H + n] = tc;
      hbuf[cur ^ 1][n] = h;
      cbuf[cur ^ 1][n] = cc;
    }
    __syncthreads();  // the new state is complete; the old buffers are free for the next step
    cur ^= 1;
  }
  for (int n = threadIdx.x; n < H; n += blockDim.x) {
    hT[b * H + n] = hbuf[cur][n];
    cT[b * H + n] = cbuf[cur][n];
  }
}

__global__ void lstm_seq_backward_kernel(float* __restrict__ dxProj, float* __restrict__ dh0, float* __restrict__ dc0, const float* __restrict__ dOut,
                                         const float* __restrict__ dhT, const float* __restrict__ dcT, const float* __restrict__ W, const float* __restrict__ c0,
                                         const float* __restrict__ saved, int T, int H, int reverse) {
  PB_EXTERN_SHARED(float, sm);
  float* dh = sm;          // carry arriving at h from the step after
  float* dc = sm + H;      // carry arriving at c
  float* dg = sm + 2 * H;  // dĝ of the current step [4H]
  const int64_t b = blockIdx.x;
  const int G = 4 * H, S = 6 * H;
  for (int n = threadIdx.x; n < H; n += blockDim.x) {
    dh[n] = dhT[b * H + n];
    dc[n] = dcT[b * H + n];
  }
  __syncthreads();
  for (int s = T - 1; s >= 0; s--) {
    const int t = reverse ? T - 1 - s : s;
    const int tp = reverse ? t + 1 : t - 1;
    const float* sv = saved + (b * T + t) * S;
    for (int n = threadIdx.x; n < H; n += blockDim.x) {
      const float i = sv[n], f = sv[H + n], g = sv[2 * H + n], o = sv[3 * H + n], tc = sv[5 * H + n];
      const float cprev = s == 0 ? c0[b * H + n] : saved[(b * T + tp) * S + 4 * H + n];
      const float dhv = dOut[(b * T + t) * H + n] + dh[n];
      const float dct = dc[n] + dhv * o * (1.f - tc * tc);
      const float di = dct * g * i * (1.f - i), df = dct * cprev * f * (1.f - f);
      const float dgg = dct * i * (1.f - g * g), dog = dhv * tc * o * (1.f - o);
      float* dx = dxProj + (b * T + t) * G;
      dx[n] = di;
      dx[H + n] = df;
      dx[2 * H + n] = dgg;
      dx[3 * H + n] = dog;
      dg[n] = di;
      dg[H + n] = df;
      dg[2 * H + n] = dgg;
      dg[3 * H + n] = dog;
      dc[n] = dct * f;
    }
    __syncthreads();  // dĝ complete
    for (int k = threadIdx.x; k < H; k += blockDim.x) {
      float a = 0.f;
      for (int j = 0; j < G; j++) a += dg[j] * W[static_cast<int64_t>(j) * H + k];
      dh[k] = a;
    }
    __syncthreads();  // the carry is complete; dg is free for the next step
  }
  for (int n = threadIdx.x; n < H; n += blockDim.x) {
    dh0[b * H + n] = dh[n];
    dc0[b * H + n] = dc[n];
  }
}

// hPrev[b, t] = the state entering step t: h0 for the first step processed, else out[b, t∓1]
__global__ void lstm_hprev_kernel(float* __restrict__ hPrev, const float* __restrict__ out, const float* __restrict__ h0, int64_t B, int64_t T, int64_t H, int reverse) {
  PB_GRID_STRIDE(e, B * T * H) {
    const int64_t n = e % H, t = (e / H) % T, b = e / (H * T);
    const bool first = reverse ? t == T - 1 : t == 0;
    hPrev[e] = first ? h0[b * H + n] : out[(b * T + (reverse ? t + 1 : t - 1)) * H + n];
  }
}

struct Seq {
  int64_t B, T, H;
  int reverse;
};

Seq seq_geometry(KernelCall& c) {
  c.need_ints(4);
  Seq q{c.i(0), c.i(1), c.i(2), static_cast<int>(c.i(3))};
  if (q.B < 0 || q.T < 0 || q.H < 0) c.fail("negative size");
  if (q.B > 0x7fffffff || q.T > 0x7fffffff) c.fail("B and T must fit in int32");
  // shared memory: 4H floats forward, 6H backward, within the 48 KiB a block may use without opt-in
  if (q.H * 6 * 4 > 48 * 1024) c.fail("H = " + std::to_string(q.H) + " is too large for the shared-memory state (H ≤ 2048)");
  return q;
}

int threads_for(int64_t H) { return H >= 256 ? 256 : static_cast<int>(ceil_div(H < 1 ? 1 : H, 32) * 32); }

void lstm_seq_forward(KernelCall& c) {
  const Seq q = seq_geometry(c);
  const int64_t B = q.B, T = q.T, H = q.H;
  float* out = c.outF(0, B * T * H);
  float* hT = c.outF(1, B * H);
  float* cT = c.outF(2, B * H);
  float* saved = c.outF(3, B * T * 6 * H);
  const float* xProj = c.inF(0, B * T * 4 * H);
  const float* W = c.inF(1, 4 * H * H);
  const float* h0 = c.inF(2, B * H);
  const float* c0 = c.inF(3, B * H);
  if (B * H == 0) return;
  if (T == 0) {  // no step: the state is the initial one
    rt::copy_d2d(hT, h0, static_cast<size_t>(B * H) * 4, c.stream);
    rt::copy_d2d(cT, c0, static_cast<size_t>(B * H) * 4, c.stream);
    return;
  }
  TempBuffer Wt(static_cast<size_t>(4 * H * H) * 4);
  KERNEL_LAUNCH(transpose_kernel, grid_1d(4 * H * H), 256, 0, c.stream)(Wt.as<float>(), W, 4 * H, H);
  KERNEL_LAUNCH(lstm_seq_forward_kernel, static_cast<unsigned>(B), threads_for(H), static_cast<size_t>(4 * H) * 4, c.stream)(
      out, hT, cT, saved, xProj, Wt.as<float>(), h0, c0, static_cast<int>(T), static_cast<int>(H), q.reverse);
}

void lstm_seq_backward(KernelCall& c) {
  const Seq q = seq_geometry(c);
  const int64_t B = q.B, T = q.T, H = q.H;
  float* dxProj = c.outF(0, B * T * 4 * H);
  float* dW = c.outF(1, 4 * H * H);
  float* dh0 = c.outF(2, B * H);
  float* dc0 = c.outF(3, B * H);
  const float* dOut = c.inF(0, B * T * H);
  const float* dhT = c.inF(1, B * H);
  const float* dcT = c.inF(2, B * H);
  const float* W = c.inF(3, 4 * H * H);
  const float* h0 = c.inF(4, B * H);
  const float* c0 = c.inF(5, B * H);
  const float* out = c.inF(6, B * T * H);
  const float* saved = c.inF(7, B * T * 6 * H);
  if (H == 0) return;
  if (B == 0 || T == 0) {
    rt::memset_async(dW, 0, static_cast<size_t>(4 * H * H) * 4, c.stream);
    if (B) {
      rt::copy_d2d(dh0, dhT, static_cast<size_t>(B * H) * 4, c.stream);
      rt::copy_d2d(dc0, dcT, static_cast<size_t>(B * H) * 4, c.stream);
    }
    return;
  }
  KERNEL_LAUNCH(lstm_seq_backward_kernel, static_cast<unsigned>(B), threads_for(H), static_cast<size_t>(6 * H) * 4, c.stream)(
      dxProj, dh0, dc0, dOut, dhT, dcT, W, c0, saved, static_cast<int>(T), static_cast<int>(H), q.reverse);
  // dW_hh[j, k] = Σ_{b,t} dĝ[b,t,j]·h_prev[b,t,k]: one GEMM dĝᵀ [4H, B·T] · h_prev [B·T, H]
  TempBuffer hPrev(static_cast<size_t>(B * T * H) * 4);
  KERNEL_LAUNCH(lstm_hprev_kernel, grid_1d(B * T * H), 256, 0, c.stream)(hPrev.as<float>(), out, h0, B, T, H, q.reverse);
  gemm(c.stream, dW, dxProj, hPrev.as<float>(), 1, 4 * H, B * T, H, true, false, 0, 0, false);
}

}  // namespace
}  // namespace pb

using namespace pb;
REGISTER_KERNEL("lstm_cell", 3, 2, lstm_cell);
REGISTER_KERNEL("lstm_cell_backward", 2, 5, lstm_cell_backward);
REGISTER_KERNEL("lstm_seq_forward", 4, 4, lstm_seq_forward);
REGISTER_KERNEL("lstm_seq_backward", 4, 8, lstm_seq_backward);
