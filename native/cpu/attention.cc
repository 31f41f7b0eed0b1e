// Scaled dot-product attention, materialised, on the CPU: the twin of src/backend/cpu/attention.ts
// (its oracle, which documents the convention) and of native/kernels/attention.cu.
//
//   attention_forward   outs [out [BH, Lq, Dh], att [BH, Lq, Lk] (P, before dropout)], ins [q [BH, Lq, Dh], k [BH, Lk, Dh], v [BH, Lk, Dh]]
//   attention_backward  outs [dq [BH, Lq, Dh], dk [BH, Lk, Dh], dv [BH, Lk, Dh]], ins [dout [BH, Lq, Dh], q, k, v, att]
//   ints [BH, Lq, Lk, Dh, causal (0/1), seed (uint32 as its int32 bit pattern)], floats [scale, p]
//
// Per (batch·head) slice, i a query row, j a key row:
//   S = Q·Kᵀ;  P[i, :] = softmax(scale·S[i, :]) over the visible keys j < jEnd(i) (= min(i+1, Lk)
//   when causal: the top-left aligned mask; Lk otherwise), exactly 0 beyond;
//   P̃ = P ⊙ m / (1 − p) with m_ij = [hashUniform(seed, (bh·Lq + i)·Lk + j) ≥ p] when p > 0 (the
//   'dropout' kernel's mask over the flat [BH, Lq, Lk] index);  out = P̃·V.
// Backward: dV = P̃ᵀ·dO, dP̃ = dO·Vᵀ, dP = dP̃ ⊙ m / (1 − p), dS = scale·P ⊙ (dP − Σ_j P·dP) (0 where
// masked), dQ = dS·K, dK = dSᵀ·Q.
//
// One task per (batch·head) slice over the pool (parallel_tasks); inside it every product is one
// sgemm (run serially there: the slices are the parallelism; with a single slice sgemm splits
// itself), and the softmax / its backward is fused per row between them. S is computed straight
// into att and normalised in place; scratch ([Lq, Lk] for P̃ and dP) is per thread. Each slice is
// computed whole by one thread: the results do not depend on the thread count.
// Precision: float32 GEMMs (the oracle accumulates in float64: GEMM tolerances), the softmax in
// float32 with a vectorisable exp (≤ 1 ulp) and 16-lane max/sum, the softmax backward in float64
// as the oracle. NaN in a row's scores makes the row NaN, as in the oracle (its max skips NaN, the
// exp brings it back).
#include "common.h"
#include "simd.h"

namespace pb {
namespace cpu {
namespace {

constexpr int kLanes = 16;

/** max_j scale·v[j] skipping NaN (the oracle's `if (s > m) m = s`; −inf when all are NaN or n = 0):
 *  16 lanes (j mod 16), then a fixed tree. */
PB_INLINE float scaled_max(const float* __restrict v, int64_t n, float scale) {
  v16f mx = {};
  mx -= INFINITY;
  const int64_t nv = n / kLanes * kLanes;
  for (int64_t j0 = 0; j0 < nv; j0 += kLanes) {
    v16f x;
    std::memcpy(&x, v + j0, sizeof x);
    x *= scale;
    mx = x > mx ? x : mx;
  }
  float m = -INFINITY;
  for (int64_t j = nv; j < n; j++) m = scale * v[j] > m ? scale * v[j] : m;
  const v8f a8 = __builtin_shufflevector(mx, mx, 0, 1, 2, 3, 4, 5, 6, 7), b8 = __builtin_shufflevector(mx, mx, 8, 9, 10, 11, 12, 13, 14, 15);
  const v8f m8 = a8 > b8 ? a8 : b8;
  const v4f a4 = __builtin_shufflevector(m8, m8, 0, 1, 2, 3), b4 = __builtin_shufflevector(m8, m8, 4, 5, 6, 7);
  const v4f m4 = a4 > b4 ? a4 : b4;
  const float m2a = m4[0] > m4[2] ? m4[0] : m4[2], m2b = m4[1] > m4[3] ? m4[1] : m4[3];
  const float mv = m2a > m2b ? m2a : m2b;
  return mv > m ? mv : m;
}

/** Σ_j v[j] in a fixed order: 16 lane sums (j mod 16), then a fixed tree over the lanes. */
PB_INLINE float lane_sum(const float* __restrict v, int64_t n) {
  v16f acc = {};
  const int64_t nv = n / kLanes * kLanes;
  for (int64_t j0 = 0; j0 < nv; j0 += kLanes) {
    v16f x;
    std::memcpy(&x, v + j0, sizeof x);
    acc += x;
  }
  if (nv < n) {
    float tail[kLanes] = {0};
    for (int64_t j = nv; j < n; j++) tail[j - nv] = v[j];
    v16f x;
    std::memcpy(&x, tail, sizeof x);
    acc += x;
  }
  const v8f a8 = __builtin_shufflevector(acc, acc, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(acc, acc, 8, 9, 10, 11, 12, 13, 14, 15);
  const v4f a4 = __builtin_shufflevector(a8, a8, 0, 1, 2, 3) + __builtin_shufflevector(a8, a8, 4, 5, 6, 7);
  return (a4[0] + a4[2]) + (a4[1] + a4[3]);
}

/** In place: row[j] ← softmax(scale·row[j]) for j < jEnd, 0 for jEnd ≤ j < Lk. */
PB_INLINE void softmax_row_impl(float* __restrict row, int64_t jEnd, int64_t Lk, float scale) {
  const float m = scaled_max(row, jEnd, scale);
  for (int64_t j = 0; j < jEnd; j++) row[j] = expf_cephes(scale * row[j] - m);
  const float inv = 1.f / lane_sum(row, jEnd);
  for (int64_t j = 0; j < jEnd; j++) row[j] *= inv;
  for (int64_t j = jEnd; j < Lk; j++) row[j] = 0.f;
}

/** In place: dP[j] ← scale·P[j]·(dP[j] − Σ_l P[l]·dP[l]) for j < jEnd, 0 beyond (float64 maths). */
PB_INLINE void softmax_backward_row_impl(float* __restrict dP, const float* __restrict P, int64_t jEnd, int64_t Lk, double scale) {
  constexpr int kL = 8;
  const int64_t jv = jEnd / kL * kL;
  double acc[kL] = {0};
  for (int64_t j0 = 0; j0 < jv; j0 += kL)
    for (int j = 0; j < kL; j++) acc[j] += static_cast<double>(P[j0 + j]) * dP[j0 + j];
  for (int64_t j = jv; j < jEnd; j++) acc[j - jv] += static_cast<double>(P[j]) * dP[j];
  for (int w = kL / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; j++) acc[j] += acc[j + w];
  const double dot = acc[0];
  for (int64_t j = 0; j < jEnd; j++) dP[j] = static_cast<float>(scale * P[j] * (dP[j] - dot));
  for (int64_t j = jEnd; j < Lk; j++) dP[j] = 0.f;
}

using SoftmaxRow = void (*)(float*, int64_t, int64_t, float);
using SoftmaxBackwardRow = void (*)(float*, const float*, int64_t, int64_t, double);
void softmax_row_generic(float* row, int64_t jEnd, int64_t Lk, float scale) { softmax_row_impl(row, jEnd, Lk, scale); }
void softmax_backward_row_generic(float* dP, const float* P, int64_t jEnd, int64_t Lk, double scale) { softmax_backward_row_impl(dP, P, jEnd, Lk, scale); }
#if defined(PB_CPU_X86)
PB_AVX2 void softmax_row_avx2(float* row, int64_t jEnd, int64_t Lk, float scale) { softmax_row_impl(row, jEnd, Lk, scale); }
PB_AVX2 void softmax_backward_row_avx2(float* dP, const float* P, int64_t jEnd, int64_t Lk, double scale) { softmax_backward_row_impl(dP, P, jEnd, Lk, scale); }
PB_AVX512 void softmax_row_avx512(float* row, int64_t jEnd, int64_t Lk, float scale) { softmax_row_impl(row, jEnd, Lk, scale); }
PB_AVX512 void softmax_backward_row_avx512(float* dP, const float* P, int64_t jEnd, int64_t Lk, double scale) { softmax_backward_row_impl(dP, P, jEnd, Lk, scale); }
#endif
SoftmaxRow pick_softmax() {
#if defined(PB_CPU_X86)
  if (simd_isa() == SimdIsa::Avx512) return softmax_row_avx512;
  if (simd_isa() == SimdIsa::Avx2) return softmax_row_avx2;
#endif
  return softmax_row_generic;
}
SoftmaxBackwardRow pick_softmax_backward() {
#if defined(PB_CPU_X86)
  if (simd_isa() == SimdIsa::Avx512) return softmax_backward_row_avx512;
  if (simd_isa() == SimdIsa::Avx2) return softmax_backward_row_avx2;
#endif
  return softmax_backward_row_generic;
}

// ---- dropout on the probabilities (the 'dropout' kernel's mask, util/rng.ts hashUniform) -------
uint32_t splitmix32(uint32_t a) {
  a += 0x9e3779b9u;
  uint32_t z = a;
  z = (z ^ (z >> 16)) * 0x85ebca6bu;
  z = (z ^ (z >> 13)) * 0xc2b2ae35u;
  return z ^ (z >> 16);
}

struct Geometry {
  int64_t BH, Lq, Lk, Dh;
  bool causal;
  uint32_t hs;    // splitmix32(seed)
  float scale;
  double p, keepScale;   // p and 1 / (1 − p) (0 when p = 1)
  int64_t jEnd(int64_t i) const { return causal ? std::min(i + 1, Lk) : Lk; }
};

/** out[j] = in[j] · m / (1 − p) for the n elements from flat index first of the [BH, Lq, Lk] mask. */
void dropout_span(const Geometry& g, float* out, const float* in, int64_t n, int64_t first) {
  for (int64_t j = 0; j < n; j++) {
    const uint32_t h = splitmix32((static_cast<uint32_t>(first + j) * 0x27d4eb2du) ^ g.hs);
    out[j] = static_cast<double>(h) / 4294967296.0 >= g.p ? static_cast<float>(static_cast<double>(in[j]) * g.keepScale) : 0.f;
  }
}

Geometry geometry(KernelCall& c) {
  c.need_ints(6);
  c.need_floats(2);
  Geometry g{};
  g.BH = c.i(0), g.Lq = c.i(1), g.Lk = c.i(2), g.Dh = c.i(3);
  if (g.BH < 0 || g.Lq < 0 || g.Lk < 0 || g.Dh < 0) {
    c.fail("sizes must be non-negative, got BH " + std::to_string(g.BH) + ", Lq " + std::to_string(g.Lq) + ", Lk " + std::to_string(g.Lk) + ", Dh " + std::to_string(g.Dh));
  }
  const int64_t lim = int64_t{1} << 31;
  if (g.BH > lim || g.Lq > lim || g.Lk > lim || g.Dh > lim || (g.Lq && g.Lk > (int64_t{1} << 40) / g.Lq) || (g.Lq && g.Dh > (int64_t{1} << 40) / g.Lq) ||
      (g.Lk && g.Dh > (int64_t{1} << 40) / g.Lk)) {
    c.fail("sizes too large");
  }
  const int64_t slice = std::max({g.Lq * g.Lk, g.Lq * g.Dh, g.Lk * g.Dh, int64_t{1}});
  if (g.BH > (int64_t{1} << 50) / slice) c.fail("sizes too large");
  g.causal = c.i(4) != 0;
  g.hs = splitmix32(static_cast<uint32_t>(c.i(5)));
  g.scale = static_cast<float>(c.f(0));
  g.p = c.f(1);
  if (!(g.p >= 0.0 && g.p <= 1.0)) c.fail("dropout probability p must be in [0, 1], got " + std::to_string(g.p));
  g.keepScale = g.p < 1 ? 1.0 / (1.0 - g.p) : 0.0;
  return g;
}

/** Per-thread scratch (reused across calls; released when it grew past 64 MiB). */
float* scratch(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
  return v.data();
}
void trim(std::vector<float>& v) {
  if (v.size() > (size_t{16} << 20)) std::vector<float>().swap(v);
}
thread_local std::vector<float> tl_a, tl_b;

void attention_forward(KernelCall& c) {
  const Geometry g = geometry(c);
  const int64_t BH = g.BH, Lq = g.Lq, Lk = g.Lk, Dh = g.Dh;
  float* out = c.outF(0, BH * Lq * Dh);
  float* att = c.outF(1, BH * Lq * Lk);
  const float* q = c.inF(0, BH * Lq * Dh);
  const float* k = c.inF(1, BH * Lk * Dh);
  const float* v = c.inF(2, BH * Lk * Dh);
  const SoftmaxRow softmax = pick_softmax();
  parallel_tasks(BH, [&](int64_t bh) {
    float* S = att + bh * Lq * Lk;
    float* O = out + bh * Lq * Dh;
    const float* V = v + bh * Lk * Dh;
    // S = Q·Kᵀ  [Lq, Dh]·[Dh, Lk]  (an empty sum is 0)
    if (Dh > 0) sgemm(false, true, Lq, Lk, Dh, 1.f, q + bh * Lq * Dh, Dh, k + bh * Lk * Dh, Dh, 0.f, S, Lk);
    else std::fill(S, S + Lq * Lk, 0.f);
    for (int64_t i = 0; i < Lq; i++) softmax(S + i * Lk, g.jEnd(i), Lk, g.scale);
    const float* P = S;
    if (g.p > 0) {
      float* pd = scratch(tl_a, Lq * Lk);
      dropout_span(g, pd, S, Lq * Lk, bh * Lq * Lk);
      P = pd;
    }
    // out = P̃·V  [Lq, Lk]·[Lk, Dh]
    if (Lk > 0) sgemm(false, false, Lq, Dh, Lk, 1.f, P, Lk, V, Dh, 0.f, O, Dh);
    else std::fill(O, O + Lq * Dh, 0.f);
    trim(tl_a);
  });
}

void attention_backward(KernelCall& c) {
  const Geometry g = geometry(c);
  const int64_t BH = g.BH, Lq = g.Lq, Lk = g.Lk, Dh = g.Dh;
  float* dq = c.outF(0, BH * Lq * Dh);
  float* dk = c.outF(1, BH * Lk * Dh);
  float* dv = c.outF(2, BH * Lk * Dh);
  const float* dout = c.inF(0, BH * Lq * Dh);
  const float* q = c.inF(1, BH * Lq * Dh);
  const float* k = c.inF(2, BH * Lk * Dh);
  const float* v = c.inF(3, BH * Lk * Dh);
  const float* att = c.inF(4, BH * Lq * Lk);
  const SoftmaxBackwardRow softmax_backward = pick_softmax_backward();
  const double scale = c.f(0);
  parallel_tasks(BH, [&](int64_t bh) {
    const float* P = att + bh * Lq * Lk;
    const float* dO = dout + bh * Lq * Dh;
    const float *Q = q + bh * Lq * Dh, *K = k + bh * Lk * Dh, *V = v + bh * Lk * Dh;
    float *dQ = dq + bh * Lq * Dh, *dK = dk + bh * Lk * Dh, *dV = dv + bh * Lk * Dh;
    if (Lq == 0) {   // empty sums over the query rows
      std::fill(dK, dK + Lk * Dh, 0.f);
      std::fill(dV, dV + Lk * Dh, 0.f);
      return;
    }
    if (Lk == 0) {
      std::fill(dQ, dQ + Lq * Dh, 0.f);
      return;
    }
    const float* Pd = P;
    if (g.p > 0) {
      float* pd = scratch(tl_a, Lq * Lk);
      dropout_span(g, pd, P, Lq * Lk, bh * Lq * Lk);
      Pd = pd;
    }
    // dV = P̃ᵀ·dO  [Lk, Lq]·[Lq, Dh]
    sgemm(true, false, Lk, Dh, Lq, 1.f, Pd, Lk, dO, Dh, 0.f, dV, Dh);
    // dP̃ = dO·Vᵀ  [Lq, Dh]·[Dh, Lk]; dP = dP̃ ⊙ m / (1 − p)
    float* dP = scratch(tl_b, Lq * Lk);
    if (Dh > 0) sgemm(false, true, Lq, Lk, Dh, 1.f, dO, Dh, V, Dh, 0.f, dP, Lk);
    else std::fill(dP, dP + Lq * Lk, 0.f);
    if (g.p > 0) dropout_span(g, dP, dP, Lq * Lk, bh * Lq * Lk);
    // dS = scale·P ⊙ (dP − rowsum(P ⊙ dP)), in place in dP
    for (int64_t i = 0; i < Lq; i++) softmax_backward(dP + i * Lk, P + i * Lk, g.jEnd(i), Lk, scale);
    // dQ = dS·K  [Lq, Lk]·[Lk, Dh];  dK = dSᵀ·Q  [Lk, Lq]·[Lq, Dh]
    sgemm(false, false, Lq, Dh, Lk, 1.f, dP, Lk, K, Dh, 0.f, dQ, Dh);
    sgemm(true, false, Lk, Dh, Lq, 1.f, dP, Lk, Q, Dh, 0.f, dK, Dh);
    trim(tl_a);
    trim(tl_b);
  });
}

}  // namespace
}  // namespace cpu
}  // namespace pb

REGISTER_KERNEL("attention_forward", 2, 3, pb::cpu::attention_forward);
REGISTER_KERNEL("attention_backward", 3, 5, pb::cpu::attention_backward);
