// Mamba-1's selective scan (real A) on the CPU: the twin of src/backend/cpu/selective_scan.ts (its
// oracle, which documents the convention and the maths; CUDA-NOTES §5), in mamba-minimal's layout:
// u, δ [B, L, D]; B, C [B, L, N] (shared by every channel d); A [D, N]; D_skip, δ_bias [D].
//
//   selective_scan_forward           outs [y], ins [u, delta, A, Bm, Cm, Dskip, deltaBias], ints [B, L, D, N, softplus]
//   selective_scan_backward          outs [du, ddelta, dA, dBm, dCm, dDskip, ddeltaBias], ins [dy, u, delta, A, Bm, Cm, Dskip, deltaBias]
//   selective_scan_chunked_forward   outs [y, hStart [B, D, ⌈L/Tc⌉, N]], ins as the forward, ints [..., Tc]
//   selective_scan_chunked_backward  outs as the backward, ins [..., hStart], ints [..., Tc]
//
//   Δ_t = softplus(δ_t + bias_d) (or δ_t + bias_d),  Ā_t,n = exp(Δ_t·A_d,n)
//   h_t,n = Ā_t,n·h_{t−1},n + Δ_t·B_t,n·u_t,  y_t = Σ_n C_t,n·h_t,n + D_d·u_t
//
// Forward: parallel over the B·D rows (b, d), sequential in t, the N states the vectorised inner
// loop; Δ of a whole row is computed first (a vectorised softplus over t). The chunked forward is
// the same sequential scan that also stores the state entering every chunk of Tc steps (hStart;
// the oracle computes it with a Blelloch scan in float64: the same values up to rounding).
// Backward (CUDA-NOTES §5.2): per row, chunks last → first; the chunk's Ā and states are recomputed
// from the state entering it — hStart for the chunked kernel (its convention; chunks longer than
// kWholeRow steps are treated as below instead, to bound the scratch), for the sequential kernel
// either zero (the whole row is one chunk when L ≤ kWholeRow) or checkpoints that a first forward
// pass of the row stores every kCheckpoint steps — then the reverse recurrence
// dh_t = C_t·g_t + Ā_{t+1}·dh_{t+1} runs through the chunk (its carry Ā·dh flows into the previous
// chunk) and every step's gradients are accumulated.
//
// Precision: float32 states and products (as mamba's and the CUDA twin's kernels), Ā from a
// vectorisable exp (Cephes' polynomial, ≤ 1 ulp, full float range with denormals and ±inf/NaN),
// the softplus likewise; every horizontal sum (y, du, dΔ over n) runs in 16 fixed lanes added in a
// fixed tree. Per-row sums over t (dA per chunk, dD, dδ_bias) end in float64; the oracle works in
// float64 throughout: the parity tolerances are mamba's float32 ones.
// Determinism: the work split depends on the shape only, never on the thread count. dB, dC (sums
// over d) are owned per task (b, channel block) and summed over channel blocks in order; dA, dD,
// dδ_bias (sums over b) go to per-(b, d) float64 partials summed over b in order.
// The hot loops are compiled three times (baseline, AVX2+FMA, AVX-512) with target attributes and
// picked from gemm_isa() (results may differ by FMA rounding between those builds).
#include "common.h"
#include "simd.h"

namespace pb {
namespace cpu {
namespace {

constexpr int kLanes = 16;               // partial sums of the horizontal reductions over n
constexpr int64_t kWholeRow = 1024;      // sequential backward: rows up to this length are one chunk
constexpr int64_t kCheckpoint = 256;     // … longer rows are recomputed from checkpoints this far apart
constexpr int64_t kBwdTasks = 16;        // backward: at least this many (b, channel block) tasks

/** log(1 + e) for e ∈ [0, 1] in float32: Cephes' logf on u = 1 + e, times e / (u − 1) to recover
 *  the bits of e that 1 + e rounded away (exact for tiny e). */
PB_INLINE float log1p_unit(float e) {
  const float u = 1.0f + e;
  const bool big = u > 1.41421356f;
  const float m = big ? u * 0.5f : u, k = big ? 1.f : 0.f;
  const float x = m - 1.0f, z = x * x;
  float p = 7.0376836292e-2f;
  p = p * x - 1.1514610310e-1f;
  p = p * x + 1.1676998740e-1f;
  p = p * x - 1.2420140846e-1f;
  p = p * x + 1.4249322787e-1f;
  p = p * x - 1.6668057665e-1f;
  p = p * x + 2.0000714765e-1f;
  p = p * x - 2.4999993993e-1f;
  p = p * x + 3.3333331174e-1f;
  float y = x * (z * p);
  y += -2.12194440e-4f * k;
  y += -0.5f * z;
  const float lg = (x + y) + 0.693359375f * k;
  const float den = u - 1.0f;
  return den == 0.f ? e : lg * (e / den);
}

/** Δ from δ + bias: softplus with PyTorch's / mamba's threshold 20 (= x above it, NaN → NaN). */
PB_INLINE float softplus_f(float x) {
  const float ax = x < 0.f ? -x : x;
  const float s = (x > 0.f ? x : 0.f) + log1p_unit(expf_cephes(-ax));   // log1p(e^x), stable for either sign
  return x > 20.f || x != x ? x : s;
}

/** Σ_n v[n] in a fixed order: 16 lane sums (lane = n mod 16), then a fixed tree over the lanes
 *  (j + 8, j + 4, j + 2, j + 1) — the same bits on every instruction set. */
PB_INLINE float lane_sum(const float* __restrict v, int64_t N) {
  v16f acc = {};
  const int64_t Nv = N / kLanes * kLanes;
  for (int64_t n0 = 0; n0 < Nv; n0 += kLanes) {
    v16f x;
    std::memcpy(&x, v + n0, sizeof x);
    acc += x;
  }
  if (Nv < N) {
    float tail[kLanes] = {0};
    for (int64_t n = Nv; n < N; n++) tail[n - Nv] = v[n];
    v16f x;
    std::memcpy(&x, tail, sizeof x);
    acc += x;
  }
  const v8f a8 = __builtin_shufflevector(acc, acc, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(acc, acc, 8, 9, 10, 11, 12, 13, 14, 15);
  const v4f a4 = __builtin_shufflevector(a8, a8, 0, 1, 2, 3) + __builtin_shufflevector(a8, a8, 4, 5, 6, 7);
  const float a2[2] = {a4[0] + a4[2], a4[1] + a4[3]};
  return a2[0] + a2[1];
}

/** One forward step over the N states: h ← Ā·h + Δ·u·B, and prod = C ⊙ h when C is given. */
PB_INLINE void forward_step(int64_t N, float dt, float dtu, const float* __restrict Ad, const float* __restrict Bt, const float* __restrict Ct, float* __restrict h,
                            float* __restrict prod) {
  if (Ct) {
    for (int64_t n = 0; n < N; n++) {
      const float hn = expf_cephes(dt * Ad[n]) * h[n] + dtu * Bt[n];
      h[n] = hn;
      prod[n] = Ct[n] * hn;
    }
  } else {
    for (int64_t n = 0; n < N; n++) h[n] = expf_cephes(dt * Ad[n]) * h[n] + dtu * Bt[n];
  }
}

struct Args {
  int64_t B, L, D, N;
  bool softplus;
  int64_t Tc, nC;        // chunked kernels: the chunk length and ⌈L / Tc⌉
  const float *dy, *u, *delta, *A, *Bm, *Cm, *Ds, *dBias, *hStart;
  float *y, *hOut;       // forward outputs (hOut: hStart of the chunked forward)
  float *du, *ddelta;    // backward outputs written per element
};

/** Per-thread scratch of one row (b, d). */
struct Work {
  std::vector<float> h, Ad, dts, xs, ck, hs, ab, dh, dAc, ddt, pu, pt;
  std::vector<double> dAtot;
  Work(int64_t N, int64_t L, int64_t Tc, int64_t nCk)
      : h(N), Ad(N), dts(std::max<int64_t>(L, 1)), xs(std::max<int64_t>(Tc, 1)), ck(nCk * N), hs((Tc + 1) * N), ab(Tc * N), dh(N), dAc(N), ddt(std::max<int64_t>(Tc, 1)), pu(N), pt(N), dAtot(N) {}
};

/** dts[τ] = Δ of steps t0 … t0+len−1 of row (b, d); xs[τ] = δ + bias when xs is given (for dδ). */
PB_INLINE void delta_row(const Args& a, int64_t b, int64_t d, int64_t t0, int64_t len, float* __restrict dts, float* __restrict xs) {
  const float* col = a.delta + (b * a.L + t0) * a.D + d;
  const float bias = a.dBias[d];
  for (int64_t t = 0; t < len; t++) dts[t] = col[t * a.D] + bias;   // strided gather, then vector maths
  if (xs)
    for (int64_t t = 0; t < len; t++) xs[t] = dts[t];
  if (a.softplus)
    for (int64_t t = 0; t < len; t++) dts[t] = softplus_f(dts[t]);
}

/**
 * The forward scan of row (b, d): y (when y is given) and the state entering every chunk of Tc
 * steps into ck[c·N + n] (when ck is given).
 */
PB_INLINE void forward_row(const Args& a, int64_t b, int64_t d, float* __restrict y, float* __restrict ck, int64_t Tc, Work& w) {
  const int64_t L = a.L, D = a.D, N = a.N;
  float* __restrict h = w.h.data();
  float* __restrict Ad = w.Ad.data();
  float* __restrict dts = w.dts.data();
  float* __restrict prod = w.pu.data();
  for (int64_t n = 0; n < N; n++) { Ad[n] = a.A[d * N + n]; h[n] = 0.f; }
  delta_row(a, b, d, 0, L, dts, nullptr);
  const float Dd = a.Ds[d];
  int64_t next = 0, c = 0;   // the next chunk start and its index
  for (int64_t t = 0; t < L; t++) {
    if (ck && t == next) {
      std::copy(h, h + N, ck + c * N);
      c++;
      next += Tc;
    }
    const int64_t i = (b * L + t) * D + d;
    const float dt = dts[t], ut = a.u[i], dtu = dt * ut;
    const float* __restrict Bt = a.Bm + (b * L + t) * N;
    const float* __restrict Ct = a.Cm + (b * L + t) * N;
    if (y) {
      forward_step(N, dt, dtu, Ad, Bt, Ct, h, prod);
      y[i] = lane_sum(prod, N) + Dd * ut;
    } else {
      forward_step(N, dt, dtu, Ad, Bt, nullptr, h, nullptr);
    }
  }
}

PB_INLINE void forward_rows_impl(const Args& a, int64_t r0, int64_t r1) {
  Work w(a.N, a.L, 0, 0);
  for (int64_t r = r0; r < r1; r++) {
    const int64_t b = r / a.D, d = r % a.D;
    forward_row(a, b, d, a.y, a.hOut ? a.hOut + r * a.nC * a.N : nullptr, a.Tc, w);
  }
}

/** One reverse step over the N states (restrict parameters: the loop vectorises without alias checks). */
PB_INLINE void backward_step(int64_t N, float g, float ut, float dt, const float* __restrict Bt, const float* __restrict Ct, const float* __restrict at,
                             const float* __restrict hp, const float* __restrict hc, const float* __restrict Ad, float* __restrict dh, float* __restrict dB,
                             float* __restrict dC, float* __restrict dAc, float* __restrict pu, float* __restrict pt) {
  const float dtu = dt * ut;
  for (int64_t n = 0; n < N; n++) {
    const float bn = Bt[n], e = at[n];
    const float dhn = dh[n] + Ct[n] * g;   // dh_t = C_t·g_t + Ā_{t+1}·dh_{t+1}
    const float ahp = e * hp[n];           // Ā_t·h_{t−1}
    dC[n] += g * hc[n];
    dB[n] += dhn * dtu;
    pu[n] = dhn * bn;                      // → du
    pt[n] = dhn * (bn * ut + Ad[n] * ahp); // → dΔ
    dAc[n] += (dhn * dt) * ahp;
    dh[n] = e * dhn;                       // the carry into step t − 1
  }
}

/**
 * The backward of rows (b, d) for d ∈ [d0, d1): du, dδ of those rows; dB, dC summed over the
 * block's channels into dBt, dCt ([L, N], overwritten); dA, dD, dδ_bias of each row into the
 * float64 partials pdA [B, D, N], pdD, pdb [B, D].
 * Tc: the chunk length; hStart (the chunked kernel) gives the state entering each chunk, else the
 * row is one chunk (nC = 1, state 0) or its checkpoints are computed first.
 */
PB_INLINE void backward_block_impl(const Args& a, int64_t b, int64_t d0, int64_t d1, int64_t Tc, int64_t nC, float* __restrict dBt, float* __restrict dCt,
                                   double* __restrict pdA, double* __restrict pdD, double* __restrict pdb) {
  const int64_t L = a.L, D = a.D, N = a.N;
  Work w(N, L, Tc, a.hStart || nC == 1 ? 0 : nC);
  float* __restrict Ad = w.Ad.data();
  float* __restrict dts = w.dts.data();
  float* __restrict xs = w.xs.data();
  float* __restrict hs = w.hs.data();    // [Tc + 1, N]: row 0 the state entering the chunk, row τ+1 = h_τ
  float* __restrict ab = w.ab.data();    // [Tc, N]: Ā_τ
  float* __restrict dh = w.dh.data();    // the carry Ā_{t+1}·dh_{t+1}
  float* __restrict dAc = w.dAc.data();  // dA of the chunk
  float* __restrict ddt = w.ddt.data();  // dΔ of the chunk's steps
  double* __restrict dAtot = w.dAtot.data();
  std::fill(dBt, dBt + L * N, 0.f);
  std::fill(dCt, dCt + L * N, 0.f);
  for (int64_t d = d0; d < d1; d++) {
    const float* ck = nullptr;   // state entering chunk c: ck[c·N + n] (null: zeros, one chunk)
    if (a.hStart) ck = a.hStart + (b * D + d) * nC * N;
    else if (nC > 1) {
      forward_row(a, b, d, nullptr, w.ck.data(), Tc, w);
      ck = w.ck.data();
    }
    for (int64_t n = 0; n < N; n++) { Ad[n] = a.A[d * N + n]; dh[n] = 0.f; dAtot[n] = 0.0; }
    const float Dd = a.Ds[d];
    double dDd = 0.0, dbd = 0.0;
    for (int64_t c = nC - 1; c >= 0; c--) {
      const int64_t t0 = c * Tc, len = std::min(Tc, L - t0);
      for (int64_t n = 0; n < N; n++) { hs[n] = ck ? ck[c * N + n] : 0.f; dAc[n] = 0.f; }
      delta_row(a, b, d, t0, len, dts, xs);
      // 1. recompute the chunk's Ā and states
      for (int64_t tau = 0; tau < len; tau++) {
        const int64_t i = (b * L + t0 + tau) * D + d;
        const float dt = dts[tau], dtu = dt * a.u[i];
        const float* __restrict Bt = a.Bm + (b * L + t0 + tau) * N;
        const float* __restrict hp = hs + tau * N;
        float* __restrict hn = hs + (tau + 1) * N;
        float* __restrict at = ab + tau * N;
        for (int64_t n = 0; n < N; n++) {
          const float e = expf_cephes(dt * Ad[n]);
          at[n] = e;
          hn[n] = e * hp[n] + dtu * Bt[n];
        }
      }
      // 2. the reverse recurrence and every step's gradients
      for (int64_t tau = len - 1; tau >= 0; tau--) {
        const int64_t t = t0 + tau, i = (b * L + t) * D + d;
        const float g = a.dy[i], ut = a.u[i], dt = dts[tau];
        const float* __restrict Bt = a.Bm + (b * L + t) * N;
        const float* __restrict Ct = a.Cm + (b * L + t) * N;
        float* __restrict dB = dBt + t * N;
        float* __restrict dC = dCt + t * N;
        const float* __restrict hp = hs + tau * N;
        const float* __restrict hc = hs + (tau + 1) * N;
        const float* __restrict at = ab + tau * N;
        float* __restrict pu = w.pu.data();
        float* __restrict pt = w.pt.data();
        backward_step(N, g, ut, dt, Bt, Ct, at, hp, hc, Ad, dh, dB, dC, dAc, pu, pt);
        a.du[i] = Dd * g + dt * lane_sum(pu, N);
        ddt[tau] = lane_sum(pt, N);
        dDd += static_cast<double>(g) * ut;
      }
      // 3. dδ = dΔ·softplus'(δ + bias) = dΔ·σ(x) (1 above the threshold, NaN → NaN)
      if (a.softplus)
        for (int64_t tau = 0; tau < len; tau++) {
          const float x = xs[tau];
          ddt[tau] = x > 20.f ? ddt[tau] : ddt[tau] / (1.f + expf_cephes(-x));
        }
      for (int64_t tau = len - 1; tau >= 0; tau--) {
        a.ddelta[(b * L + t0 + tau) * D + d] = ddt[tau];
        dbd += ddt[tau];
      }
      for (int64_t n = 0; n < N; n++) dAtot[n] += dAc[n];
    }
    for (int64_t n = 0; n < N; n++) pdA[(b * D + d) * N + n] = dAtot[n];
    pdD[b * D + d] = dDd;
    pdb[b * D + d] = dbd;
  }
}

// ---- the three builds of the hot functions ----------------------------------------------------
using ForwardRows = void (*)(const Args&, int64_t, int64_t);
using BackwardBlock = void (*)(const Args&, int64_t, int64_t, int64_t, int64_t, int64_t, float*, float*, double*, double*, double*);

void forward_rows_generic(const Args& a, int64_t r0, int64_t r1) { forward_rows_impl(a, r0, r1); }
void backward_block_generic(const Args& a, int64_t b, int64_t d0, int64_t d1, int64_t Tc, int64_t nC, float* dBt, float* dCt, double* pdA, double* pdD, double* pdb) {
  backward_block_impl(a, b, d0, d1, Tc, nC, dBt, dCt, pdA, pdD, pdb);
}
#if defined(PB_CPU_X86)
PB_AVX2 void forward_rows_avx2(const Args& a, int64_t r0, int64_t r1) { forward_rows_impl(a, r0, r1); }
PB_AVX2 void backward_block_avx2(const Args& a, int64_t b, int64_t d0, int64_t d1, int64_t Tc, int64_t nC, float* dBt, float* dCt, double* pdA, double* pdD, double* pdb) {
  backward_block_impl(a, b, d0, d1, Tc, nC, dBt, dCt, pdA, pdD, pdb);
}
PB_AVX512 void forward_rows_avx512(const Args& a, int64_t r0, int64_t r1) { forward_rows_impl(a, r0, r1); }
PB_AVX512 void backward_block_avx512(const Args& a, int64_t b, int64_t d0, int64_t d1, int64_t Tc, int64_t nC, float* dBt, float* dCt, double* pdA, double* pdD, double* pdb) {
  backward_block_impl(a, b, d0, d1, Tc, nC, dBt, dCt, pdA, pdD, pdb);
}
#endif

ForwardRows pick_forward() {
#if defined(PB_CPU_X86)
  if (simd_isa() == SimdIsa::Avx512) return forward_rows_avx512;
  if (simd_isa() == SimdIsa::Avx2) return forward_rows_avx2;
#endif
  return forward_rows_generic;
}
BackwardBlock pick_backward() {
#if defined(PB_CPU_X86)
  if (simd_isa() == SimdIsa::Avx512) return backward_block_avx512;
  if (simd_isa() == SimdIsa::Avx2) return backward_block_avx2;
#endif
  return backward_block_generic;
}

// ---- argument checks ---------------------------------------------------------------------------
/** a·b, failing (instead of wrapping) past 2⁶²: sizes come from the caller. */
int64_t mul(const KernelCall& c, int64_t x, int64_t y) {
  if (x != 0 && y > (int64_t{1} << 62) / x) c.fail("sizes too large: " + std::to_string(x) + " × " + std::to_string(y));
  return x * y;
}

Args geometry(KernelCall& c, bool chunked) {
  c.need_ints(chunked ? 6 : 5);
  Args a{};
  a.B = c.i(0), a.L = c.i(1), a.D = c.i(2), a.N = c.i(3);
  if (a.B < 0 || a.L < 0 || a.D < 0 || a.N < 0) {
    c.fail("sizes must be non-negative, got B " + std::to_string(a.B) + ", L " + std::to_string(a.L) + ", D " + std::to_string(a.D) + ", N " + std::to_string(a.N));
  }
  a.softplus = c.i(4) != 0;
  if (chunked) {
    a.Tc = c.i(5);
    if (a.Tc < 1 || a.Tc > (int64_t{1} << 30) || (a.Tc & (a.Tc - 1)) != 0) c.fail("chunk length Tc must be a power of two in [1, 2^30], got " + std::to_string(a.Tc));
    a.nC = (a.L + a.Tc - 1) / a.Tc;
  }
  mul(c, mul(c, mul(c, a.B, a.L), std::max<int64_t>(a.D, 1)), std::max<int64_t>(a.N, 1));   // every product below stays in range
  return a;
}

void forward_impl(KernelCall& c, bool chunked) {
  Args a = geometry(c, chunked);
  const int64_t B = a.B, L = a.L, D = a.D, N = a.N;
  a.y = c.outF(0, B * L * D);
  a.hOut = chunked ? c.outF(1, B * D * a.nC * N) : nullptr;
  a.u = c.inF(0, B * L * D);
  a.delta = c.inF(1, B * L * D);
  a.A = c.inF(2, D * N);
  a.Bm = c.inF(3, B * L * N);
  a.Cm = c.inF(4, B * L * N);
  a.Ds = c.inF(5, D);
  a.dBias = c.inF(6, D);
  if (!chunked) a.Tc = L + 1;   // no chunk starts to store
  const ForwardRows rows = pick_forward();
  // rows are uniform: ≥ 2^16 state updates per chunk of rows (tens of µs)
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(L * (N + 1), 1));
  parallel_for(B * D, grain, [&](int64_t r0, int64_t r1) { rows(a, r0, r1); });
}

void backward_impl(KernelCall& c, bool chunked) {
  Args a = geometry(c, chunked);
  const int64_t B = a.B, L = a.L, D = a.D, N = a.N;
  a.du = c.outF(0, B * L * D);
  a.ddelta = c.outF(1, B * L * D);
  float* dA = c.outF(2, D * N);
  float* dBm = c.outF(3, B * L * N);
  float* dCm = c.outF(4, B * L * N);
  float* dDs = c.outF(5, D);
  float* ddb = c.outF(6, D);
  a.dy = c.inF(0, B * L * D);
  a.u = c.inF(1, B * L * D);
  a.delta = c.inF(2, B * L * D);
  a.A = c.inF(3, D * N);
  a.Bm = c.inF(4, B * L * N);
  a.Cm = c.inF(5, B * L * N);
  a.Ds = c.inF(6, D);
  a.dBias = c.inF(7, D);
  a.hStart = chunked ? c.inF(8, B * D * a.nC * N) : nullptr;
  if (B * L * D == 0) {   // no step: every sum is empty
    std::fill(dA, dA + D * N, 0.f);
    std::fill(dBm, dBm + B * L * N, 0.f);
    std::fill(dCm, dCm + B * L * N, 0.f);
    std::fill(dDs, dDs + D, 0.f);
    std::fill(ddb, ddb + D, 0.f);
    return;
  }
  // chunks: the chunked kernel's own (from hStart) when they are at most kWholeRow steps; else one
  // chunk, or checkpoints for long rows (the scratch is O(chunk · N) per thread; the states a
  // longer chunk's hStart holds are the ones the checkpoint pass reaches, up to rounding)
  int64_t Tc, nC;
  if (chunked && std::min(a.Tc, L) <= kWholeRow) Tc = std::min(a.Tc, L), nC = a.nC;
  else if (L <= kWholeRow) Tc = L, nC = 1, a.hStart = nullptr;
  else Tc = kCheckpoint, nC = (L + kCheckpoint - 1) / kCheckpoint, a.hStart = nullptr;
  // tasks (b, channel block): at least kBwdTasks of them, from the shape alone (never the thread count)
  int64_t nDB = std::min(D, std::max<int64_t>(1, (kBwdTasks + B - 1) / B));
  const int64_t dBlk = (D + nDB - 1) / nDB;
  nDB = (D + dBlk - 1) / dBlk;
  const int64_t LN = L * N;
  std::vector<float> partB, partC;   // [B, nDB, L, N] when the channels are split
  if (nDB > 1) {
    partB.resize(static_cast<size_t>(B * nDB * LN));
    partC.resize(static_cast<size_t>(B * nDB * LN));
  }
  std::vector<double> pdA(static_cast<size_t>(B * D * N)), pdD(static_cast<size_t>(B * D)), pdb(static_cast<size_t>(B * D));
  const BackwardBlock block = pick_backward();
  parallel_tasks(B * nDB, [&](int64_t task) {
    const int64_t b = task / nDB, k = task % nDB;
    const int64_t d0 = k * dBlk, d1 = std::min(D, d0 + dBlk);
    float* dBt = nDB > 1 ? partB.data() + task * LN : dBm + b * LN;
    float* dCt = nDB > 1 ? partC.data() + task * LN : dCm + b * LN;
    block(a, b, d0, d1, Tc, nC, dBt, dCt, pdA.data(), pdD.data(), pdb.data());
  });
  // the sums over channel blocks (dB, dC) and over the batch (dA, dD, dδ_bias), in order
  if (nDB > 1) {
    parallel_for(B * LN, kElementwiseGrain, [&](int64_t e0, int64_t e1) {
      for (int64_t e = e0; e < e1; e++) {
        const int64_t b = e / LN, r = e % LN;
        float sB = 0.f, sC = 0.f;
        for (int64_t k = 0; k < nDB; k++) {
          sB += partB[static_cast<size_t>((b * nDB + k) * LN + r)];
          sC += partC[static_cast<size_t>((b * nDB + k) * LN + r)];
        }
        dBm[e] = sB;
        dCm[e] = sC;
      }
    });
  }
  parallel_for(D * N, kElementwiseGrain / std::max<int64_t>(B, 1) + 1, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; k++) {
      double s = 0.0;
      for (int64_t b = 0; b < B; b++) s += pdA[static_cast<size_t>(b * D * N + k)];
      dA[k] = static_cast<float>(s);
    }
  });
  for (int64_t d = 0; d < D; d++) {
    double sD = 0.0, sb = 0.0;
    for (int64_t b = 0; b < B; b++) { sD += pdD[static_cast<size_t>(b * D + d)]; sb += pdb[static_cast<size_t>(b * D + d)]; }
    dDs[d] = static_cast<float>(sD);
    ddb[d] = static_cast<float>(sb);
  }
}

void ss_forward(KernelCall& c) { forward_impl(c, false); }
void ss_backward(KernelCall& c) { backward_impl(c, false); }
void ss_chunked_forward(KernelCall& c) { forward_impl(c, true); }
void ss_chunked_backward(KernelCall& c) { backward_impl(c, true); }

}  // namespace
}  // namespace cpu
}  // namespace pb

REGISTER_KERNEL("selective_scan_forward", 1, 7, pb::cpu::ss_forward);
REGISTER_KERNEL("selective_scan_backward", 7, 8, pb::cpu::ss_backward);
REGISTER_KERNEL("selective_scan_chunked_forward", 2, 7, pb::cpu::ss_chunked_forward);
REGISTER_KERNEL("selective_scan_chunked_backward", 7, 9, pb::cpu::ss_chunked_backward);
