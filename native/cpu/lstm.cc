// LSTM kernels of the CPU library (src/backend/cpu/lstm.ts is the oracle and documents the
// convention; native/kernels/lstm.cu the CUDA twin). Gate order [i | f | g | o] (PyTorch) along
// every 4H axis:
//
//   lstm_cell           outs [h' [B,H], c' [B,H], act [B,4H]]   ins [gates [B,4H], c [B,H]]   ints [B, H]
//   lstm_cell_backward  outs [dgates [B,4H], dc [B,H]]          ins [dh', dc', act, c, c']    ints [B, H]
//   lstm_seq_forward    outs [out [B,T,H], hT [B,H], cT [B,H], saved [B,T,6H]]
//                       ins  [xProj [B,T,4H], W_hh [4H,H], h0 [B,H], c0 [B,H]]             ints [B, T, H, reverse]
//   lstm_seq_backward   outs [dxProj [B,T,4H], dW_hh [4H,H], dh0 [B,H], dc0 [B,H]]
//                       ins  [dOut [B,T,H], dhT, dcT, W_hh, h0, c0, out [B,T,H], saved [B,T,6H]]
//   saved[b, t] = [i | f | g | o | c | tanh c] of step t; xProj = x·W_ihᵀ + b_ih + b_hh of every
//   step (one large GEMM outside, by the 'matmul' kernel); hT/cT = the state after the LAST step
//   processed (t = T−1, or t = 0 when reverse).
//
// Sequence kernels: the batch rows are independent sequences, so ONE parallel region per call splits
// them over the pool (tasks of one register tile of rows, taken dynamically) and each task runs the
// whole time loop for its rows: no hand-off per step.
// Per step and per tile of MR rows:
//   forward   ĝ[MR, 4H] = xProj[rows, t] + h_prev[MR, H]·W_hhᵀ   (register-tiled micro-kernel, W_hhᵀ
//             packed once per call into NR-wide column panels), then the cell on the tile
//             (σ/tanh as branch-free float code the compiler vectorises) → out, saved;
//   backward  the pointwise backward of the tile → dĝ (= dxProj[rows, t]) and the dc carry, then
//             the dh carry dh[MR, H] = dĝ[MR, 4H]·W_hh (same micro-kernel, W_hh packed in panels);
//             after the loop dW_hh = dĝᵀ [4H, B·T] · h_prev [B·T, H] is ONE sgemm over all steps.
// The micro-kernel and the cell are compiled three times (AVX-512, AVX2+FMA, baseline) through
// target attributes and picked per call from gemm_isa(), so gemm_set_isa() forces both (tests).
//
// Accuracy (the oracle computes in float64, then rounds): float32 arithmetic, products summed over k
// in order with FMA where the ISA has it; σ ≤ 2.5 ulp, tanh ≤ 1.3 ulp (measured against float64 on
// every 61st float32, all three ISAs). Each row's arithmetic is the same whichever tile, thread or
// tail path computes it, so results do not depend on the thread count.
#include "common.h"
#include "simd.h"

namespace pb {
namespace cpu {
namespace {

// ---- σ and tanh: branch-free float code (vectorised in the loops that call it) ----------------------

PB_INLINE float bits_float(uint32_t u) { float f; __builtin_memcpy(&f, &u, 4); return f; }
PB_INLINE uint32_t float_bits(float f) { uint32_t u; __builtin_memcpy(&u, &f, 4); return u; }

/**
 * e^x for σ and tanh, branch-free (vectorises): Cody-Waite reduction x = n·ln2 + r, |r| ≤ ln2/2,
 * Cephes' degree-7 polynomial for e^r (≤ 1 ulp), scaled by 2^n built in the exponent bits. x is
 * first clamped to [−87.3, 88] so that 2^n stays a normal float: beyond, e^x is held at e^−87.3 or
 * e^88, which moves σ and tanh by less than 2e-38 (they are 0, 1 or ±1 there). The clamps keep NaN
 * (both comparisons are false), and NaN flows through the arithmetic.
 */
PB_INLINE float exp_f(float x) {
  const float lo = -87.3f, hi = 88.0f;
  float xc = x < lo ? lo : x;
  xc = xc > hi ? hi : xc;
  // n = round(x·log2 e) by the 1.5·2^23 trick (exact for |n| < 2^22 in round-to-nearest)
  const float magic = 12582912.f;
  const float t = xc * 1.44269504088896341f + magic;
  const float n = t - magic;
  const float r = (xc - n * 0.693359375f) - n * -2.12194440e-4f;   // ln2 = 0.693359375 − 2.12194440e-4
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * (r * r) + r + 1.f;
  const float scale = bits_float((float_bits(t) - float_bits(magic) + 127u) << 23);   // 2^n
  return er * scale;
}

/** σ(x) = 1 / (1 + e^−x): ≤ 2.5 ulp (e^−x's 1 ulp, the sum, the division). */
PB_INLINE float sigmoid_f(float x) { return 1.f / (1.f + exp_f(-x)); }

/**
 * tanh x (Cephes tanhf): |x| < 0.625: odd minimax polynomial x + x³·P(x²); otherwise
 * 1 − 2/(e^{2|x|} + 1) with the sign of x (no cancellation there: the result is ≥ 0.55).
 */
PB_INLINE float tanh_f(float x) {
  const float ax = x < 0.f ? -x : x;
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = p * z * x + x;
  const float big = 1.f - 2.f / (exp_f(2.f * ax) + 1.f);
  const float sbig = x < 0.f ? -big : big;
  return ax < 0.625f ? small : sbig;
}

// ---- the cell, one row of H units (plain loops over n: vectorised) --------------------------------
/** Forward of one row: gates ĝ [4H] → act [4H] (i, f, g, o), c' [H], h' [H], and tanh c' [H] if kTanhC. */
template <bool kTanhC>
PB_INLINE void cell_forward_row(const float* __restrict__ gt, const float* __restrict__ c, float* __restrict__ act, float* __restrict__ cn,
                                float* __restrict__ tc, float* __restrict__ h, int64_t H) {
  for (int64_t n = 0; n < H; n++) {
    const float i = sigmoid_f(gt[n]), f = sigmoid_f(gt[H + n]), g = tanh_f(gt[2 * H + n]), o = sigmoid_f(gt[3 * H + n]);
    const float cc = f * c[n] + i * g;
    const float th = tanh_f(cc);
    act[n] = i;
    act[H + n] = f;
    act[2 * H + n] = g;
    act[3 * H + n] = o;
    cn[n] = cc;
    if (kTanhC) tc[n] = th;
    h[n] = o * th;
  }
}

/**
 * Backward of one row (the oracle's formulas and evaluation order) → dĝ [4H] and dc [H].
 * kSeq (the sequence kernel): dh = dh' + dhc (the output's gradient plus the recurrent carry) and
 * tanh c' read from saved (tcs); otherwise dh = dh' and tanh c' computed from c' (cn).
 */
template <bool kSeq>
PB_INLINE void cell_backward_row(float* __restrict__ dg, float* __restrict__ dc, const float* __restrict__ dhn, const float* __restrict__ dhc,
                                 const float* __restrict__ dcn, const float* __restrict__ act, const float* __restrict__ c, const float* __restrict__ tcs,
                                 const float* __restrict__ cn, int64_t H) {
  for (int64_t n = 0; n < H; n++) {
    const float i = act[n], f = act[H + n], g = act[2 * H + n], o = act[3 * H + n];
    const float tc = kSeq ? tcs[n] : tanh_f(cn[n]);
    const float dh = kSeq ? dhn[n] + dhc[n] : dhn[n];
    const float dct = dcn[n] + dh * o * (1.f - tc * tc);
    dg[n] = dct * g * i * (1.f - i);
    dg[H + n] = dct * c[n] * f * (1.f - f);
    dg[2 * H + n] = dct * i * (1.f - g * g);
    dg[3 * H + n] = dh * tc * o * (1.f - o);
    dc[n] = dct * f;
  }
}

// ---- the recurrent micro-kernel -------------------------------------------------------------------
template <int VW> struct VecOf;
template <> struct VecOf<4> { typedef float type __attribute__((vector_size(16))); };
template <> struct VecOf<8> { typedef float type __attribute__((vector_size(32))); };
template <> struct VecOf<16> { typedef float type __attribute__((vector_size(64))); };

// unaligned loads and stores; vectors pass by reference (by value they would change the ABI of
// these helpers with the ISA, which GCC warns about)
template <class V> PB_INLINE void vload(V& v, const float* p) { __builtin_memcpy(&v, p, sizeof v); }
template <class V> PB_INLINE void vstore(float* p, const V& v) { __builtin_memcpy(p, &v, sizeof v); }

/**
 * C[r, 0:Np] = (kAccumulate ? C[r, :] : 0) + Σ_{k<K} A[r][k] · Bp[k, :] for r < M (rows of A are
 * separate pointers: they live at stride T in out/dxProj). Bp is packed in panels of NR = NV·VW
 * columns: panel p holds rows k = 0…K−1 of columns pNR…pNR+NR−1 contiguously (Bp + p·K·NR).
 * An M×NR accumulator tile stays in registers over k; each lane sums its k in order.
 */
template <int VW, int NV, int M, bool kAccumulate>
PB_INLINE void tile_kernel(float* C, int64_t ldc, const float* const* A, int64_t K, const float* Bp, int64_t Np) {
  typedef typename VecOf<VW>::type V;
  constexpr int NR = NV * VW;
  for (int64_t j0 = 0; j0 < Np; j0 += NR) {
    V acc[M][NV];
#pragma GCC unroll 16
    for (int r = 0; r < M; r++)
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) {
        if (kAccumulate) vload(acc[r][v], C + r * ldc + j0 + v * VW);
        else acc[r][v] = V{};
      }
    const float* b = Bp + (j0 / NR) * K * NR;
    for (int64_t k = 0; k < K; k++, b += NR) {
      V w[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) vload(w[v], b + v * VW);
#pragma GCC unroll 16
      for (int r = 0; r < M; r++) {
        const float a = A[r][k];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) acc[r][v] += a * w[v];
      }
    }
#pragma GCC unroll 16
    for (int r = 0; r < M; r++)
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) vstore<V>(C + r * ldc + j0 + v * VW, acc[r][v]);
  }
}

/** tile_kernel for a run-time row count m ≤ M (the tail tile: same per-row arithmetic). */
template <int VW, int NV, int M, bool kAccumulate>
PB_INLINE void tile_rows(int m, float* C, int64_t ldc, const float* const* A, int64_t K, const float* Bp, int64_t Np) {
  if constexpr (M >= 1) {
    if (m == M) tile_kernel<VW, NV, M, kAccumulate>(C, ldc, A, K, Bp, Np);
    else tile_rows<VW, NV, M - 1, kAccumulate>(m, C, ldc, A, K, Bp, Np);
  }
}

// ---- the sequences -------------------------------------------------------------------------------
/**
 * Prefetches n floats at p (one per cache line). The rows of one step lie T·4H floats apart (the
 * batch-major layout), too far for the hardware prefetcher: without this every row of every step
 * starts with cache misses. The sequence loops prefetch the next tile's rows while computing one.
 */
template <int kWrite>
PB_INLINE void prefetch_floats(const float* p, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) __builtin_prefetch(p + i, kWrite, 3);
}

struct SeqForward {
  int64_t B, T, H, Gp;   // Gp: 4H rounded up to the panel width (the packed W_hhᵀ's columns)
  bool reverse;
  float *out, *hT, *cT, *saved;
  const float *xProj, *Wp, *h0, *c0;
};

struct SeqBackward {
  int64_t B, T, H, Hp;   // Hp: H rounded up to the panel width (the packed W_hh's columns)
  bool reverse;
  float *dxProj, *dh0, *dc0;
  const float *dOut, *dhT, *dcT, *Wp, *c0, *saved;
};

/** Forward time loop of the sequences [r0, r1). */
template <int VW, int NV, int MR>
PB_INLINE void seq_forward_rows(const SeqForward& a, int64_t r0, int64_t r1) {
  const int64_t T = a.T, H = a.H, G = 4 * H, S = 6 * H, Gp = a.Gp;
  std::vector<float> acc(static_cast<size_t>(MR * Gp), 0.f);   // ĝ of a tile [MR, Gp] (padding stays 0)
  for (int64_t s = 0; s < T; s++) {
    const int64_t t = a.reverse ? T - 1 - s : s, tp = a.reverse ? t + 1 : t - 1;   // tp: the step before (s > 0)
    for (int64_t rb = r0; rb < r1; rb += MR) {
      const int m = static_cast<int>(std::min<int64_t>(MR, r1 - rb));
      {  // the next tile: the following rows of this step, or the first rows of the next step
        const int64_t nb = rb + MR < r1 ? rb + MR : r0, nt = rb + MR < r1 ? t : (a.reverse ? t - 1 : t + 1);
        if (nt >= 0 && nt < T)
          for (int64_t b = nb; b < std::min(nb + MR, r1); b++) {
            prefetch_floats<0>(a.xProj + (b * T + nt) * G, G);
            prefetch_floats<1>(a.saved + (b * T + nt) * S, S);
            prefetch_floats<1>(a.out + (b * T + nt) * H, H);
          }
      }
      const float* A[MR];
      for (int r = 0; r < m; r++) {
        const int64_t b = rb + r;
        A[r] = s == 0 ? a.h0 + b * H : a.out + (b * T + tp) * H;
        std::memcpy(acc.data() + r * Gp, a.xProj + (b * T + t) * G, static_cast<size_t>(G) * sizeof(float));
      }
      tile_rows<VW, NV, MR, true>(m, acc.data(), Gp, A, H, a.Wp, Gp);
      for (int r = 0; r < m; r++) {
        const int64_t b = rb + r;
        float* sv = a.saved + (b * T + t) * S;
        const float* c = s == 0 ? a.c0 + b * H : a.saved + (b * T + tp) * S + 4 * H;
        cell_forward_row<true>(acc.data() + r * Gp, c, sv, sv + 4 * H, sv + 5 * H, a.out + (b * T + t) * H, H);
      }
    }
  }
  const int64_t tl = a.reverse ? 0 : T - 1;   // the last step processed
  for (int64_t b = r0; b < r1; b++) {
    std::memcpy(a.hT + b * H, a.out + (b * T + tl) * H, static_cast<size_t>(H) * sizeof(float));
    std::memcpy(a.cT + b * H, a.saved + (b * T + tl) * S + 4 * H, static_cast<size_t>(H) * sizeof(float));
  }
}

/** Backprop through time of the sequences [r0, r1): dĝ of every step, dh0 and dc0. */
template <int VW, int NV, int MR>
PB_INLINE void seq_backward_rows(const SeqBackward& a, int64_t r0, int64_t r1) {
  const int64_t T = a.T, H = a.H, G = 4 * H, S = 6 * H, Hp = a.Hp, rows = r1 - r0;
  // the carries arriving from step t+1 (t−1 when reverse): dh [rows, Hp] (overwritten by the
  // micro-kernel after the tile's pointwise pass has read it), dc [rows, H] double-buffered
  std::vector<float> dh(static_cast<size_t>(rows * Hp)), dcbuf(static_cast<size_t>(2 * rows * H));
  float* dc = dcbuf.data();        // arriving at the current step
  float* dcNext = dc + rows * H;   // leaving it (arriving at the step before)
  for (int64_t b = r0; b < r1; b++) {
    std::memcpy(dh.data() + (b - r0) * Hp, a.dhT + b * H, static_cast<size_t>(H) * sizeof(float));
    std::memcpy(dc + (b - r0) * H, a.dcT + b * H, static_cast<size_t>(H) * sizeof(float));
  }
  for (int64_t s = T - 1; s >= 0; s--) {
    const int64_t t = a.reverse ? T - 1 - s : s, tp = a.reverse ? t + 1 : t - 1;
    for (int64_t rb = r0; rb < r1; rb += MR) {
      const int m = static_cast<int>(std::min<int64_t>(MR, r1 - rb));
      {  // the next tile (as in the forward), in the order the steps run here
        const int64_t nb = rb + MR < r1 ? rb + MR : r0, nt = rb + MR < r1 ? t : (a.reverse ? t + 1 : t - 1);
        const int64_t ntp = a.reverse ? nt + 1 : nt - 1;
        if (nt >= 0 && nt < T)
          for (int64_t b = nb; b < std::min(nb + MR, r1); b++) {
            prefetch_floats<0>(a.saved + (b * T + nt) * S, S);
            if (ntp >= 0 && ntp < T) prefetch_floats<0>(a.saved + (b * T + ntp) * S + 4 * H, H);
            prefetch_floats<0>(a.dOut + (b * T + nt) * H, H);
            prefetch_floats<1>(a.dxProj + (b * T + nt) * G, G);
          }
      }
      const float* A[MR];
      for (int r = 0; r < m; r++) {
        const int64_t b = rb + r, l = b - r0;
        const float* sv = a.saved + (b * T + t) * S;
        const float* c = s == 0 ? a.c0 + b * H : a.saved + (b * T + tp) * S + 4 * H;
        float* dg = a.dxProj + (b * T + t) * G;
        cell_backward_row<true>(dg, dcNext + l * H, a.dOut + (b * T + t) * H, dh.data() + l * Hp, dc + l * H, sv, c, sv + 5 * H, nullptr, H);
        A[r] = dg;
      }
      // the dh carry of the step before: dh[rows, :] = dĝ[rows, 4H] · W_hh
      tile_rows<VW, NV, MR, false>(m, dh.data() + (rb - r0) * Hp, Hp, A, G, a.Wp, Hp);
    }
    std::swap(dc, dcNext);
  }
  for (int64_t b = r0; b < r1; b++) {
    std::memcpy(a.dh0 + b * H, dh.data() + (b - r0) * Hp, static_cast<size_t>(H) * sizeof(float));
    std::memcpy(a.dc0 + b * H, dc + (b - r0) * H, static_cast<size_t>(H) * sizeof(float));
  }
}

PB_INLINE void cell_forward_rows(float* h, float* cn, float* act, const float* gates, const float* c, int64_t H, int64_t b0, int64_t b1) {
  for (int64_t b = b0; b < b1; b++) cell_forward_row<false>(gates + b * 4 * H, c + b * H, act + b * 4 * H, cn + b * H, nullptr, h + b * H, H);
}

PB_INLINE void cell_backward_rows(float* dg, float* dc, const float* dhn, const float* dcn, const float* act, const float* c, const float* cn, int64_t H,
                                  int64_t b0, int64_t b1) {
  for (int64_t b = b0; b < b1; b++)
    cell_backward_row<false>(dg + b * 4 * H, dc + b * H, dhn + b * H, nullptr, dcn + b * H, act + b * 4 * H, c + b * H, nullptr, cn + b * H, H);
}

// ---- one instantiation per instruction set --------------------------------------------------------
struct Isa {
  int nr;   // panel width NR of the packed weights
  int mr;   // rows per register tile
  void (*seq_forward)(const SeqForward&, int64_t, int64_t);
  void (*seq_backward)(const SeqBackward&, int64_t, int64_t);
  void (*cell_forward)(float*, float*, float*, const float*, const float*, int64_t, int64_t, int64_t);
  void (*cell_backward)(float*, float*, const float*, const float*, const float*, const float*, const float*, int64_t, int64_t, int64_t);
};

// VW floats per vector, NV vectors per tile row, MR tile rows: MR·NV accumulators + NV weights + a
// broadcast within the register file (AVX-512: 16 + 2 + 1 of 32; AVX2: 12 + 2 + 1 of 16; SSE: 8 + 2 + 1).
#define PB_LSTM_ISA(NAME, TARGET, VW, NV, MR)                                                                                                  \
  TARGET void seq_forward_##NAME(const SeqForward& a, int64_t r0, int64_t r1) { seq_forward_rows<VW, NV, MR>(a, r0, r1); }                    \
  TARGET void seq_backward_##NAME(const SeqBackward& a, int64_t r0, int64_t r1) { seq_backward_rows<VW, NV, MR>(a, r0, r1); }                 \
  TARGET void cell_forward_##NAME(float* h, float* cn, float* act, const float* gates, const float* c, int64_t H, int64_t b0, int64_t b1) {  \
    cell_forward_rows(h, cn, act, gates, c, H, b0, b1);                                                                                   \
  }                                                                                                                                           \
  TARGET void cell_backward_##NAME(float* dg, float* dc, const float* dhn, const float* dcn, const float* act, const float* c, const float* cn, \
                                   int64_t H, int64_t b0, int64_t b1) {                                                                       \
    cell_backward_rows(dg, dc, dhn, dcn, act, c, cn, H, b0, b1);                                                                          \
  }                                                                                                                                           \
  const Isa isa_##NAME = {VW * NV, MR, seq_forward_##NAME, seq_backward_##NAME, cell_forward_##NAME, cell_backward_##NAME};

PB_LSTM_ISA(generic, , 4, 2, 4)
#if defined(__x86_64__) || defined(__i386__)
PB_LSTM_ISA(avx2, __attribute__((target("avx2,fma"))), 8, 2, 6)
PB_LSTM_ISA(avx512, __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma"))), 16, 2, 8)
#endif

/** The SGEMM's instruction set (the CPU's best, or the one a test forced). */
const Isa& pick_isa() {
#if defined(__x86_64__) || defined(__i386__)
  switch (simd_isa()) {
    case SimdIsa::Avx512: return isa_avx512;
    case SimdIsa::Avx2: return isa_avx2;
    case SimdIsa::Generic: break;
  }
#endif
  return isa_generic;
}

// ---- argument checks -----------------------------------------------------------------------------
/** a·b·… with a failure (not a wrap) past 2^62: sizes come from JS ints. */
int64_t checked_product(const KernelCall& c, std::initializer_list<int64_t> fs) {
  int64_t p = 1;
  for (int64_t f : fs)
    if (__builtin_mul_overflow(p, f, &p) || p > (int64_t{1} << 62)) c.fail("sizes overflow (product of the dimensions is too large)");
  return p;
}

void need_nonneg(const KernelCall& c, const char* what, int64_t v) {
  if (v < 0) c.fail(std::string(what) + " = " + std::to_string(v) + " must be ≥ 0");
}

/** Rows per thread chunk so that a chunk is ≥ ~2^17 multiply-adds (≳ 20 µs). */
int64_t row_grain(int64_t work_per_row) { return std::max<int64_t>(1, (int64_t{1} << 17) / std::max<int64_t>(1, work_per_row)); }

/**
 * Runs fn(r0, r1) over the sequences [0, B) as tasks of one register tile of rows each (fewer rows
 * when that would leave a thread idle), taken dynamically: a thread that the OS delays leaves its
 * remaining tasks to the others, where a static split would make the whole call wait for it. The
 * tiles per step and the per-row arithmetic are those of any other split (results do not change).
 */
template <class F>
void for_sequences(int64_t B, int64_t work_per_row, int mr, F&& fn) {
  int64_t rows = std::min<int64_t>(mr, (B + num_threads() - 1) / num_threads());
  rows = std::max<int64_t>(rows, row_grain(work_per_row));
  const int64_t tasks = (B + rows - 1) / rows;
  parallel_tasks(tasks, [&](int64_t k) { fn(k * rows, std::min(B, (k + 1) * rows)); });
}

// ---- kernels -------------------------------------------------------------------------------------
void lstm_cell(KernelCall& c) {
  c.need_ints(2);
  const int64_t B = c.i(0), H = c.i(1);
  need_nonneg(c, "B", B);
  need_nonneg(c, "H", H);
  const int64_t BH = checked_product(c, {B, H}), BG = checked_product(c, {B, 4, H});
  float* h = c.outF(0, BH);
  float* cn = c.outF(1, BH);
  float* act = c.outF(2, BG);
  const float* gates = c.inF(0, BG);
  const float* cc = c.inF(1, BH);
  if (BH == 0) return;
  const Isa& isa = pick_isa();
  parallel_for(B, row_grain(H * 32), [&](int64_t b0, int64_t b1) { isa.cell_forward(h, cn, act, gates, cc, H, b0, b1); });
}

void lstm_cell_backward(KernelCall& c) {
  c.need_ints(2);
  const int64_t B = c.i(0), H = c.i(1);
  need_nonneg(c, "B", B);
  need_nonneg(c, "H", H);
  const int64_t BH = checked_product(c, {B, H}), BG = checked_product(c, {B, 4, H});
  float* dg = c.outF(0, BG);
  float* dc = c.outF(1, BH);
  const float* dhn = c.inF(0, BH);
  const float* dcn = c.inF(1, BH);
  const float* act = c.inF(2, BG);
  const float* cc = c.inF(3, BH);
  const float* cn = c.inF(4, BH);
  if (BH == 0) return;
  const Isa& isa = pick_isa();
  parallel_for(B, row_grain(H * 16), [&](int64_t b0, int64_t b1) { isa.cell_backward(dg, dc, dhn, dcn, act, cc, cn, H, b0, b1); });
}

struct SeqDims {
  int64_t B, T, H;
  bool reverse;
};

SeqDims seq_dims(const KernelCall& c) {
  c.need_ints(4);
  const SeqDims d{c.i(0), c.i(1), c.i(2), c.i(3) != 0};
  need_nonneg(c, "B", d.B);
  need_nonneg(c, "T", d.T);
  need_nonneg(c, "H", d.H);
  if (c.i(3) != 0 && c.i(3) != 1) c.fail("reverse = " + std::to_string(c.i(3)) + " must be 0 or 1");
  checked_product(c, {d.B, d.T, 6, d.H});
  checked_product(c, {4, d.H, d.H});
  return d;
}

void lstm_seq_forward(KernelCall& c) {
  const SeqDims d = seq_dims(c);
  const int64_t B = d.B, T = d.T, H = d.H, G = 4 * H;
  float* out = c.outF(0, B * T * H);
  float* hT = c.outF(1, B * H);
  float* cT = c.outF(2, B * H);
  float* saved = c.outF(3, B * T * 6 * H);
  const float* xProj = c.inF(0, B * T * G);
  const float* W = c.inF(1, G * H);
  const float* h0 = c.inF(2, B * H);
  const float* c0 = c.inF(3, B * H);
  if (B * H == 0) return;
  if (T == 0) {   // no step: the state is the initial one (as the CUDA twin)
    std::memcpy(hT, h0, static_cast<size_t>(B * H) * sizeof(float));
    std::memcpy(cT, c0, static_cast<size_t>(B * H) * sizeof(float));
    return;
  }
  const Isa& isa = pick_isa();
  const int64_t NR = isa.nr, Gp = (G + NR - 1) / NR * NR;
  // W_hhᵀ [H, 4H] in panels of NR gate columns: Wp[p][k][cc] = W_hh[p·NR + cc, k] (0 past 4H)
  std::vector<float> Wp(static_cast<size_t>(Gp * H), 0.f);
  for (int64_t j = 0; j < G; j++)
    for (int64_t k = 0; k < H; k++) Wp[(j / NR) * H * NR + k * NR + j % NR] = W[j * H + k];
  const SeqForward a{B, T, H, Gp, d.reverse, out, hT, cT, saved, xProj, Wp.data(), h0, c0};
  for_sequences(B, T * G * H, isa.mr, [&](int64_t r0, int64_t r1) { isa.seq_forward(a, r0, r1); });
}

void lstm_seq_backward(KernelCall& c) {
  const SeqDims d = seq_dims(c);
  const int64_t B = d.B, T = d.T, H = d.H, G = 4 * H;
  float* dxProj = c.outF(0, B * T * G);
  float* dW = c.outF(1, G * H);
  float* dh0 = c.outF(2, B * H);
  float* dc0 = c.outF(3, B * H);
  const float* dOut = c.inF(0, B * T * H);
  const float* dhT = c.inF(1, B * H);
  const float* dcT = c.inF(2, B * H);
  const float* W = c.inF(3, G * H);
  const float* h0 = c.inF(4, B * H);
  const float* c0 = c.inF(5, B * H);
  const float* out = c.inF(6, B * T * H);
  const float* saved = c.inF(7, B * T * 6 * H);
  if (H == 0) return;
  if (B == 0 || T == 0) {   // no step: the gradients pass through, dW_hh = 0
    std::fill(dW, dW + G * H, 0.f);
    std::memcpy(dh0, dhT, static_cast<size_t>(B * H) * sizeof(float));
    std::memcpy(dc0, dcT, static_cast<size_t>(B * H) * sizeof(float));
    return;
  }
  const Isa& isa = pick_isa();
  const int64_t NR = isa.nr, Hp = (H + NR - 1) / NR * NR;
  // W_hh [4H, H] in panels of NR hidden columns: Wp[p][j][cc] = W_hh[j, p·NR + cc] (0 past H)
  std::vector<float> Wp(static_cast<size_t>(Hp * G), 0.f);
  for (int64_t j = 0; j < G; j++)
    for (int64_t k = 0; k < H; k++) Wp[(k / NR) * G * NR + j * NR + k % NR] = W[j * H + k];
  const SeqBackward a{B, T, H, Hp, d.reverse, dxProj, dh0, dc0, dOut, dhT, dcT, Wp.data(), c0, saved};
  for_sequences(B, T * G * H, isa.mr, [&](int64_t r0, int64_t r1) { isa.seq_backward(a, r0, r1); });
  // dW_hh[j, k] = Σ_{b,t} dĝ[b,t,j]·h_prev[b,t,k]: ONE sgemm dĝᵀ [4H, B·T] · h_prev [B·T, H], with
  // h_prev[b, t] = the state entering step t (h0 for the first step processed, else out[b, t∓1])
  std::vector<float> hPrev(static_cast<size_t>(B * T * H));
  const size_t row = static_cast<size_t>(H) * sizeof(float);
  parallel_for(B, row_grain(T * H), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; b++) {
      float* hp = hPrev.data() + b * T * H;
      const float* ob = out + b * T * H;
      if (d.reverse) {   // h_prev[b, t] = out[b, t+1] for t < T−1; h0 at t = T−1
        std::memcpy(hp, ob + H, (T - 1) * row);
        std::memcpy(hp + (T - 1) * H, h0 + b * H, row);
      } else {           // h_prev[b, t] = out[b, t−1] for t > 0; h0 at t = 0
        std::memcpy(hp, h0 + b * H, row);
        std::memcpy(hp + H, ob, (T - 1) * row);
      }
    }
  });
  sgemm(true, false, G, H, B * T, 1.f, dxProj, G, hPrev.data(), H, 0.f, dW, H);
}

}  // namespace
}  // namespace cpu
}  // namespace pb

REGISTER_KERNEL("lstm_cell", 3, 2, pb::cpu::lstm_cell);
REGISTER_KERNEL("lstm_cell_backward", 2, 5, pb::cpu::lstm_cell_backward);
REGISTER_KERNEL("lstm_seq_forward", 4, 4, pb::cpu::lstm_seq_forward);
REGISTER_KERNEL("lstm_seq_backward", 4, 8, pb::cpu::lstm_seq_backward);
