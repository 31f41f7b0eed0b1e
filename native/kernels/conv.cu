// Convolutions: twins of src/backend/cpu/conv.ts (NCHW cross-correlation, groups = 1, zero padding).
//
//   conv2d                  outs [y [B,OC,OH,OW]], ins [x [B,C,H,W], w [OC,C,KH,KW], b [OC]?]
//   conv2d_backward_input   outs [dx], ins [gy, w]
//   conv2d_backward_weight  outs [dw, db?], ins [gy, x]
//     ints [B, C, H, W, OC, KH, KW, OH, OW, strideH, strideW, padH, padW, hasBias]
//   conv1d_causal           outs [y [B,D,L]], ins [x, w [D,1,K], b [D]?], ints [B, D, L, K, hasBias]
//   conv1d_causal_backward  outs [dx, dw, db], ins [gy, x, w], ints [B, D, L, K]
//
// Direct kernels (CUDA-NOTES §4.8 v1): at the PxByEmbed shape (3×3 maps, 3×3 kernel, padding 1)
// the work is tiny and launch-bound, so plain gathers with bounds tests (padding taps skipped)
// are the right first form. Forward: a thread per output (n, k, oh, ow), consecutive threads along
// ow share k (weight reads broadcast). dInput: a thread per input element, looping over the
// (output position, tap) pairs that read it. dWeight: a thread per weight element, the sum over
// samples split into fixed chunks of 64 and the chunk partials added in order in a second pass —
// deterministic, no atomics. conv1d_causal (Mamba's depthwise conv): a thread per element; dw/db a
// thread per weight, summing over (n, t) in order.
#include "../src/common.cuh"

namespace pb {
namespace {

struct Conv {
  int B, C, H, W, OC, KH, KW, OH, OW, sh, sw, ph, pw, hasBias;
};

Conv conv_geometry(KernelCall& c) {
  c.need_ints(14);
  Conv g{};
  int* f[] = {&g.B, &g.C, &g.H, &g.W, &g.OC, &g.KH, &g.KW, &g.OH, &g.OW, &g.sh, &g.sw, &g.ph, &g.pw, &g.hasBias};
  for (int i = 0; i < 14; i++) {
    const int64_t v = c.i(static_cast<size_t>(i));
    if (v < 0 || v > 0x7fffffff) c.fail("conv sizes must be non-negative int32");
    *f[i] = static_cast<int>(v);
  }
  if (g.sh < 1 || g.sw < 1) c.fail("strides must be ≥ 1");
  return g;
}

__global__ void conv2d_kernel(float* __restrict__ y, const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ b, Conv g) {
  const int64_t total = static_cast<int64_t>(g.B) * g.OC * g.OH * g.OW;
  PB_GRID_STRIDE(e, total) {
    const int ow = static_cast<int>(e % g.OW), oh = static_cast<int>((e / g.OW) % g.OH);
    const int k = static_cast<int>((e / (static_cast<int64_t>(g.OW) * g.OH)) % g.OC);
    const int64_t n = e / (static_cast<int64_t>(g.OW) * g.OH * g.OC);
    float s = b ? b[k] : 0.f;
    for (int c = 0; c < g.C; c++) {
      const float* xc = x + (n * g.C + c) * g.H * g.W;
      const float* wc = w + (static_cast<int64_t>(k) * g.C + c) * g.KH * g.KW;
      for (int kh = 0; kh < g.KH; kh++) {
        const int ih = oh * g.sh - g.ph + kh;
        if (ih < 0 || ih >= g.H) continue;
        for (int kw = 0; kw < g.KW; kw++) {
          const int iw = ow * g.sw - g.pw + kw;
          if (iw < 0 || iw >= g.W) continue;
          s += wc[kh * g.KW + kw] * xc[ih * g.W + iw];
        }
      }
    }
    y[e] = s;
  }
}

__global__ void conv2d_backward_input_kernel(float* __restrict__ dx, const float* __restrict__ gy, const float* __restrict__ w, Conv g) {
  const int64_t total = static_cast<int64_t>(g.B) * g.C * g.H * g.W;
  PB_GRID_STRIDE(e, total) {
    const int iw = static_cast<int>(e % g.W), ih = static_cast<int>((e / g.W) % g.H);
    const int c = static_cast<int>((e / (static_cast<int64_t>(g.W) * g.H)) % g.C);
    const int64_t n = e / (static_cast<int64_t>(g.W) * g.H * g.C);
    float s = 0.f;
    for (int k = 0; k < g.OC; k++) {
      const float* gk = gy + (n * g.OC + k) * g.OH * g.OW;
      const float* wk = w + (static_cast<int64_t>(k) * g.C + c) * g.KH * g.KW;
      for (int kh = 0; kh < g.KH; kh++) {
        const int t = ih + g.ph - kh;  // = oh·sh
        if (t < 0 || t % g.sh) continue;
        const int oh = t / g.sh;
        if (oh >= g.OH) continue;
        for (int kw = 0; kw < g.KW; kw++) {
          const int u = iw + g.pw - kw;
          if (u < 0 || u % g.sw) continue;
          const int ow = u / g.sw;
          if (ow >= g.OW) continue;
          s += wk[kh * g.KW + kw] * gk[oh * g.OW + ow];
        }
      }
    }
    dx[e] = s;
  }
}

constexpr int kChunk = 64;  // samples per partial sum of the weight gradient

// part[chunk, k, c, kh, kw] = Σ_{n in chunk} Σ_{oh, ow} gy[n, k, oh, ow]·x[n, c, ih, iw]; and part_b[chunk, k].
__global__ void conv2d_wgrad_partial_kernel(float* __restrict__ part, float* __restrict__ part_b, const float* __restrict__ gy, const float* __restrict__ x, Conv g,
                                            int64_t nw) {
  const int chunk = blockIdx.y;
  const int n0 = chunk * kChunk, n1 = n0 + kChunk < g.B ? n0 + kChunk : g.B;
  const int64_t per = nw + (part_b ? g.OC : 0);
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < per; e += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    float s = 0.f;
    if (e < nw) {
      const int kw = static_cast<int>(e % g.KW), kh = static_cast<int>((e / g.KW) % g.KH);
      const int c = static_cast<int>((e / (g.KW * g.KH)) % g.C), k = static_cast<int>(e / (static_cast<int64_t>(g.KW) * g.KH * g.C));
      for (int n = n0; n < n1; n++) {
        const float* gk = gy + (static_cast<int64_t>(n) * g.OC + k) * g.OH * g.OW;
        const float* xc = x + (static_cast<int64_t>(n) * g.C + c) * g.H * g.W;
        for (int oh = 0; oh < g.OH; oh++) {
          const int ih = oh * g.sh - g.ph + kh;
          if (ih < 0 || ih >= g.H) continue;
          for (int ow = 0; ow < g.OW; ow++) {
            const int iw = ow * g.sw - g.pw + kw;
            if (iw < 0 || iw >= g.W) continue;
            s += gk[oh * g.OW + ow] * xc[ih * g.W + iw];
          }
        }
      }
      part[static_cast<int64_t>(chunk) * nw + e] = s;
    } else {
      const int k = static_cast<int>(e - nw);
      for (int n = n0; n < n1; n++) {
        const float* gk = gy + (static_cast<int64_t>(n) * g.OC + k) * g.OH * g.OW;
        for (int p = 0; p < g.OH * g.OW; p++) s += gk[p];
      }
      part_b[static_cast<int64_t>(chunk) * g.OC + k] = s;
    }
  }
}

__global__ void sum_chunks_kernel(float* __restrict__ out, const float* __restrict__ part, int64_t chunks, int64_t n) {
  PB_GRID_STRIDE(j, n) {
    float s = 0.f;
    for (int64_t q = 0; q < chunks; q++) s += part[q * n + j];
    out[j] = s;
  }
}

void conv2d(KernelCall& c) {
  const Conv g = conv_geometry(c);
  c.need_ins(g.hasBias ? 3 : 2);
  const int64_t yn = static_cast<int64_t>(g.B) * g.OC * g.OH * g.OW;
  float* y = c.outF(0, yn);
  const float* x = c.inF(0, static_cast<int64_t>(g.B) * g.C * g.H * g.W);
  const float* w = c.inF(1, static_cast<int64_t>(g.OC) * g.C * g.KH * g.KW);
  const float* b = g.hasBias ? c.inF(2, g.OC) : nullptr;
  if (yn) KERNEL_LAUNCH(conv2d_kernel, grid_1d(yn), 128, 0, c.stream)(y, x, w, b, g);
}

void conv2d_backward_input(KernelCall& c) {
  const Conv g = conv_geometry(c);
  const int64_t xn = static_cast<int64_t>(g.B) * g.C * g.H * g.W;
  float* dx = c.outF(0, xn);
  const float* gy = c.inF(0, static_cast<int64_t>(g.B) * g.OC * g.OH * g.OW);
  const float* w = c.inF(1, static_cast<int64_t>(g.OC) * g.C * g.KH * g.KW);
  if (xn) KERNEL_LAUNCH(conv2d_backward_input_kernel, grid_1d(xn), 128, 0, c.stream)(dx, gy, w, g);
}

void conv2d_backward_weight(KernelCall& c) {
  const Conv g = conv_geometry(c);
  if (c.outs.empty() || c.outs.size() > 2) c.fail("expects 1 or 2 outputs (dw, db)");
  const int64_t nw = static_cast<int64_t>(g.OC) * g.C * g.KH * g.KW;
  float* dw = c.outF(0, nw);
  float* db = c.outs.size() > 1 ? c.outF(1, g.OC) : nullptr;
  const float* gy = c.inF(0, static_cast<int64_t>(g.B) * g.OC * g.OH * g.OW);
  const float* x = c.inF(1, static_cast<int64_t>(g.B) * g.C * g.H * g.W);
  if (g.B == 0) {
    rt::memset_async(dw, 0, static_cast<size_t>(nw) * 4, c.stream);
    if (db) rt::memset_async(db, 0, static_cast<size_t>(g.OC) * 4, c.stream);
    return;
  }
  const int64_t chunks = ceil_div(g.B, kChunk);
  if (chunks > 65535) c.fail("batch too large for the weight-gradient reduction");
  const int64_t per = nw + (db ? g.OC : 0);
  if (per == 0) return;
  TempBuffer part(static_cast<size_t>(chunks * (nw ? nw : 1)) * 4), part_b(static_cast<size_t>(chunks * (db ? g.OC : 1)) * 4);
  dim3 grid(grid_1d(per, 128, 4096), static_cast<unsigned>(chunks));
  KERNEL_LAUNCH(conv2d_wgrad_partial_kernel, grid, 128, 0, c.stream)(part.as<float>(), db ? part_b.as<float>() : nullptr, gy, x, g, nw);
  if (nw) KERNEL_LAUNCH(sum_chunks_kernel, grid_1d(nw), 256, 0, c.stream)(dw, part.as<float>(), chunks, nw);
  if (db && g.OC) KERNEL_LAUNCH(sum_chunks_kernel, grid_1d(g.OC), 256, 0, c.stream)(db, part_b.as<float>(), chunks, g.OC);
}

// ---- depthwise causal conv1d -------------------------------------------------------------------
__global__ void conv1d_causal_kernel(float* __restrict__ y, const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ b, int64_t D, int64_t L,
                                     int K, int64_t total) {
  PB_GRID_STRIDE(e, total) {
    const int64_t t = e % L, d = (e / L) % D;
    const int64_t row = e - t;
    const float* wd = w + d * K;
    float s = b ? b[d] : 0.f;
    const int K1 = K - 1;
    const int j0 = t < K1 ? static_cast<int>(K1 - t) : 0;
    for (int j = j0; j < K; j++) s += wd[j] * x[row + t + j - K1];
    y[e] = s;
  }
}

__global__ void conv1d_causal_dx_kernel(float* __restrict__ dx, const float* __restrict__ gy, const float* __restrict__ w, int64_t D, int64_t L, int K, int64_t total) {
  PB_GRID_STRIDE(e, total) {
    const int64_t u = e % L, d = (e / L) % D;
    const int64_t row = e - u;
    const float* wd = w + d * K;
    const int K1 = K - 1;
    int64_t jMin = u + K1 - L + 1;
    if (jMin < 0) jMin = 0;
    float s = 0.f;
    for (int64_t j = jMin; j < K; j++) s += wd[j] * gy[row + u + K1 - j];
    dx[e] = s;
  }
}

// thread per (d, j) for dw, plus D threads for db; sums over n then t, in order
__global__ void conv1d_causal_wgrad_kernel(float* __restrict__ dw, float* __restrict__ db, const float* __restrict__ gy, const float* __restrict__ x, int64_t B, int64_t D,
                                           int64_t L, int K) {
  PB_GRID_STRIDE(e, D * K + D) {
    float s = 0.f;
    const int K1 = K - 1;
    if (e < D * K) {
      const int64_t d = e / K;
      const int j = static_cast<int>(e % K);
      const int64_t t0 = K1 - j > 0 ? K1 - j : 0;
      for (int64_t n = 0; n < B; n++) {
        const int64_t row = (n * D + d) * L;
        for (int64_t t = t0; t < L; t++) s += gy[row + t] * x[row + t + j - K1];
      }
      dw[e] = s;
    } else {
      const int64_t d = e - D * K;
      for (int64_t n = 0; n < B; n++) {
        const int64_t row = (n * D + d) * L;
        for (int64_t t = 0; t < L; t++) s += gy[row + t];
      }
      db[d] = s;
    }
  }
}

void conv1d_causal(KernelCall& c) {
  c.need_ints(5);
  const int64_t B = c.i(0), D = c.i(1), L = c.i(2), K = c.i(3);
  const bool hb = c.i(4) != 0;
  c.need_ins(hb ? 3 : 2);
  if (K < 1 || K > 1 << 20) c.fail("kernel size must be ≥ 1");
  float* y = c.outF(0, B * D * L);
  const float* x = c.inF(0, B * D * L);
  const float* w = c.inF(1, D * K);
  const float* b = hb ? c.inF(2, D) : nullptr;
  if (B * D * L > 0) KERNEL_LAUNCH(conv1d_causal_kernel, grid_1d(B * D * L), 256, 0, c.stream)(y, x, w, b, D, L, static_cast<int>(K), B * D * L);
}

void conv1d_causal_backward(KernelCall& c) {
  c.need_ints(4);
  const int64_t B = c.i(0), D = c.i(1), L = c.i(2), K = c.i(3);
  if (K < 1 || K > 1 << 20) c.fail("kernel size must be ≥ 1");
  float* dx = c.outF(0, B * D * L);
  float* dw = c.outF(1, D * K);
  float* db = c.outF(2, D);
  const float* gy = c.inF(0, B * D * L);
  const float* x = c.inF(1, B * D * L);
  const float* w = c.inF(2, D * K);
  if (B * D * L > 0) KERNEL_LAUNCH(conv1d_causal_dx_kernel, grid_1d(B * D * L), 256, 0, c.stream)(dx, gy, w, D, L, static_cast<int>(K), B * D * L);
  if (D) KERNEL_LAUNCH(conv1d_causal_wgrad_kernel, grid_1d(D * K + D, 128), 128, 0, c.stream)(dw, db, gy, x, B, D, L, static_cast<int>(K));
}

}  // namespace
}  // namespace pb

using namespace pb;
REGISTER_KERNEL("conv2d", 1, -1, conv2d);
REGISTER_KERNEL("conv2d_backward_input", 1, 2, conv2d_backward_input);
REGISTER_KERNEL("conv2d_backward_weight", -1, 2, conv2d_backward_weight);
REGISTER_KERNEL("conv1d_causal", 1, -1, conv1d_causal);
REGISTER_KERNEL("conv1d_causal_backward", 3, 3, conv1d_causal_backward);
