// Scaled dot-product attention, materialised (CUDA-NOTES §4.5 v1, llm.c's fp32 path): the twin of
// src/backend/cpu/attention.ts, with the same formulation so the two agree.
//
//   attention_forward   outs [out [BH,Lq,Dh], att [BH,Lq,Lk] (P, before dropout)], ins [q, k, v]
//   attention_backward  outs [dq, dk, dv], ins [dout, q, k, v, att]
//   ints [BH, Lq, Lk, Dh, causal, seed], floats [scale, p]
//
// Forward: S = Q·Kᵀ (batched SGEMM) → row softmax of scale·S with the top-left causal mask (one
// warp per row, masked entries exactly 0) → P̃ = dropout(P) when p > 0 (the 'dropout' hash over the
// flat [BH, Lq, Lk] index) → O = P̃·V. Backward: dV = P̃ᵀ·dO, dP̃ = dO·Vᵀ, dP = dropout(dP̃),
// dS = scale·P ⊙ (dP − rowsum(P ⊙ dP)) (0 where masked), dQ = dS·K, dK = dSᵀ·Q. Scratch for P̃
// and dP comes from the caching allocator. (A fused flash-style kernel is the next step: it removes
// the [BH, Lq, Lk] traffic, which dominates at long sequences.)
#include <cmath>

#include "../src/common.cuh"
#include "../src/gemm.h"

namespace pb {
namespace {

constexpr int kRows = 4;

// att[r, :] ← softmax(scale·att[r, :]) over the visible keys j < jEnd(i), 0 beyond.
__global__ void causal_softmax_kernel(float* __restrict__ att, int64_t rows, int64_t Lq, int64_t Lk, float scale, int causal) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * kRows + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (r >= rows) return;
  const int64_t i = r % Lq;
  const int64_t jEnd = causal ? (i + 1 < Lk ? i + 1 : Lk) : Lk;
  float* a = att + r * Lk;
  float m = -INFINITY;
  for (int64_t j = lane; j < jEnd; j += 32) m = fmaxf(m, scale * a[j]);
  m = warp_max(m);
  float s = 0.f;
  for (int64_t j = lane; j < jEnd; j += 32) s += expf(scale * a[j] - m);
  s = warp_sum(s);
  const float inv = 1.f / s;
  for (int64_t j = lane; j < Lk; j += 32) a[j] = j < jEnd ? expf(scale * a[j] - m) * inv : 0.f;
}

// dS = scale·P ⊙ (dP − Σ_j P·dP), in place in dP; exactly 0 where masked.
__global__ void causal_softmax_backward_kernel(float* __restrict__ dP, const float* __restrict__ att, int64_t rows, int64_t Lq, int64_t Lk, float scale, int causal) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * kRows + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (r >= rows) return;
  const int64_t i = r % Lq;
  const int64_t jEnd = causal ? (i + 1 < Lk ? i + 1 : Lk) : Lk;
  const float* p = att + r * Lk;
  float* d = dP + r * Lk;
  float dot = 0.f;
  for (int64_t j = lane; j < jEnd; j += 32) dot += p[j] * d[j];
  dot = warp_sum(dot);
  for (int64_t j = lane; j < Lk; j += 32) d[j] = j < jEnd ? scale * p[j] * (d[j] - dot) : 0.f;
}

__global__ void dropout_probs_kernel(float* __restrict__ out, const float* __restrict__ in, int64_t n, uint32_t hs, uint64_t threshold, double scale) {
  PB_GRID_STRIDE(i, n) {
    const uint32_t h = hash_bits(hs, static_cast<uint32_t>(i));
    out[i] = static_cast<uint64_t>(h) >= threshold ? mul_rd(in[i], scale) : 0.f;
  }
}

struct Geometry {
  int64_t BH, Lq, Lk, Dh;
  int causal;
  uint32_t hs;
  float scale;
  double p;
};

Geometry geometry(KernelCall& c) {
  c.need_ints(6);
  c.need_floats(2);
  Geometry g{c.i(0), c.i(1), c.i(2), c.i(3), static_cast<int>(c.i(4)), splitmix32(static_cast<uint32_t>(static_cast<int32_t>(c.i(5)))), static_cast<float>(c.f(0)), c.f(1)};
  if (g.BH < 0 || g.Lq < 0 || g.Lk < 0 || g.Dh < 0) c.fail("negative size");
  return g;
}

void apply_dropout(const Geometry& g, float* out, const float* in, Stream s) {
  const int64_t n = g.BH * g.Lq * g.Lk;
  const double scale = g.p < 1 ? 1.0 / (1.0 - g.p) : 0.0;
  const double t = std::ceil(g.p * 4294967296.0);
  if (n) KERNEL_LAUNCH(dropout_probs_kernel, grid_1d(n), 256, 0, s)(out, in, n, g.hs, t <= 0 ? 0 : static_cast<uint64_t>(t), scale);
}

unsigned rows_grid(int64_t rows) { return static_cast<unsigned>(ceil_div(rows, kRows) < 1 ? 1 : ceil_div(rows, kRows)); }

void attention_forward(KernelCall& c) {
  const Geometry g = geometry(c);
  const int64_t qn = g.BH * g.Lq * g.Dh, kn = g.BH * g.Lk * g.Dh, an = g.BH * g.Lq * g.Lk;
  float* out = c.outF(0, qn);
  float* att = c.outF(1, an);
  const float* q = c.inF(0, qn);
  const float* k = c.inF(1, kn);
  const float* v = c.inF(2, kn);
  if (an == 0) {
    if (qn) rt::memset_async(out, 0, static_cast<size_t>(qn) * 4, c.stream);
    return;
  }
  gemm(c.stream, att, q, k, g.BH, g.Lq, g.Dh, g.Lk, false, true, g.Lq * g.Dh, g.Lk * g.Dh, false);   // S = Q·Kᵀ
  KERNEL_LAUNCH(causal_softmax_kernel, rows_grid(g.BH * g.Lq), 32 * kRows, 0, c.stream)(att, g.BH * g.Lq, g.Lq, g.Lk, g.scale, g.causal);
  if (g.p > 0) {
    TempBuffer pd(static_cast<size_t>(an) * 4);
    apply_dropout(g, pd.as<float>(), att, c.stream);
    gemm(c.stream, out, pd.as<float>(), v, g.BH, g.Lq, g.Lk, g.Dh, false, false, g.Lq * g.Lk, g.Lk * g.Dh, false);
  } else {
    gemm(c.stream, out, att, v, g.BH, g.Lq, g.Lk, g.Dh, false, false, g.Lq * g.Lk, g.Lk * g.Dh, false);   // O = P·V
  }
}

void attention_backward(KernelCall& c) {
  const Geometry g = geometry(c);
  const int64_t qn = g.BH * g.Lq * g.Dh, kn = g.BH * g.Lk * g.Dh, an = g.BH * g.Lq * g.Lk;
  float* dq = c.outF(0, qn);
  float* dk = c.outF(1, kn);
  float* dv = c.outF(2, kn);
  const float* dout = c.inF(0, qn);
  const float* q = c.inF(1, qn);
  const float* k = c.inF(2, kn);
  const float* v = c.inF(3, kn);
  const float* att = c.inF(4, an);
  if (an == 0 || g.Dh == 0) {
    for (int o = 0; o < 3; o++) rt::memset_async(c.out(o).ptr, 0, c.out(o).bytes, c.stream);
    return;
  }
  TempBuffer dP(static_cast<size_t>(an) * 4);
  if (g.p > 0) {
    TempBuffer pd(static_cast<size_t>(an) * 4);
    apply_dropout(g, pd.as<float>(), att, c.stream);
    gemm(c.stream, dv, pd.as<float>(), dout, g.BH, g.Lk, g.Lq, g.Dh, true, false, g.Lq * g.Lk, g.Lq * g.Dh, false);   // dV = P̃ᵀ·dO
  } else {
    gemm(c.stream, dv, att, dout, g.BH, g.Lk, g.Lq, g.Dh, true, false, g.Lq * g.Lk, g.Lq * g.Dh, false);
  }
  gemm(c.stream, dP.as<float>(), dout, v, g.BH, g.Lq, g.Dh, g.Lk, false, true, g.Lq * g.Dh, g.Lk * g.Dh, false);    // dP̃ = dO·Vᵀ
  if (g.p > 0) apply_dropout(g, dP.as<float>(), dP.as<float>(), c.stream);                                          // dP = dP̃ ⊙ m/(1−p)
  KERNEL_LAUNCH(causal_softmax_backward_kernel, rows_grid(g.BH * g.Lq), 32 * kRows, 0, c.stream)(dP.as<float>(), att, g.BH * g.Lq, g.Lq, g.Lk, g.scale, g.causal);
  gemm(c.stream, dq, dP.as<float>(), k, g.BH, g.Lq, g.Lk, g.Dh, false, false, g.Lq * g.Lk, g.Lk * g.Dh, false);     // dQ = dS·K
  gemm(c.stream, dk, dP.as<float>(), q, g.BH, g.Lk, g.Lq, g.Dh, true, false, g.Lq * g.Lk, g.Lq * g.Dh, false);      // dK = dSᵀ·Q
}

}  // namespace
}  // namespace pb

using namespace pb;
REGISTER_KERNEL("attention_forward", 2, 3, attention_forward);
REGISTER_KERNEL("attention_backward", 3, 5, attention_backward);
