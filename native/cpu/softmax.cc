// Softmax family and classification losses: twins of src/backend/cpu/softmax.ts and loss.ts (the
// oracles). Rows of length n (classes C) are contiguous.
//
//   softmax / log_softmax    outs [y], ins [x], ints [rows, n]
//   softmax_backward         outs [dx], ins [g, y], ints [rows, n]       dx = y·(g − Σ g·y)
//   log_softmax_backward     outs [dx], ins [g, y], ints [rows, n]       dx = g − e^y·Σ g
//   cross_entropy            outs [loss [N], lse [N]], ins [logits [N, C], targets int32 [N]], ints [N, C, ignoreIndex]
//   cross_entropy_backward   outs [dx [N, C]], ins [logits, targets, lse, g], ints [N, C, ignoreIndex, gStride], floats [scale]
//   nll_loss                 outs [loss [N]], ins [logp [N, C], targets], ints [N, C, ignoreIndex]
//   nll_loss_backward        outs [dx [N, C]], ins [targets, g], ints [N, C, ignoreIndex, gStride], floats [scale]
//
// Algorithm: a row is small (a few KiB, in L1), so each kernel makes its passes over one row before
// the next — max, then Σ exp(x − max), then the outputs — and the pool splits the rows. Stable as
// the oracle: the row max is subtracted before exp, and the max ignores NaN (`v > m`) exactly like
// the oracle's loop, so a NaN anywhere still poisons the whole row through the sum.
// The sums (Σ exp, Σ g·y, Σ g) use kLanes double partial sums, added in a fixed order: the oracle
// sums in float64 too, so only the order differs (error ~1e-16, invisible after rounding to float).
// exp is exp_f below, a branch-free float exp the compiler vectorises (libm's expf is a call per
// element): Cody–Waite reduction and a degree-6 polynomial, 1–2 ulp, with the oracle's 0, denormals,
// +∞ and NaN at the ends of the range. Targets are checked (ignoreIndex or in [0, C)) before any
// write: a bad one is an error that names it, never a wild read.
#include "common.h"

namespace pb {
namespace cpu {
namespace {

constexpr int kLanes = 8;
constexpr int64_t kRowWork = 1 << 14;   // elements per parallel chunk (a chunk ≥ ~20 µs)

// e^x in float, branch-free (vectorisable): x = n·ln2 + r, |r| ≤ ln2/2, e^r by Cephes' expf
// polynomial, 2^n applied as two factors 2^(n/2)·2^(n−n/2) so the results stay exact down to the
// denormals (n ≥ −150) and up to FLT_MAX (n = 128). Below −104 the result is 0, above ln(FLT_MAX)
// +∞, and a NaN stays NaN (every select tests x itself; no integer conversion of NaN).
inline float exp_f(float x) {
  const float t = x * 1.44269504088896341f + 12582912.f;   // 1.5·2²³: rounds x·log2(e) to an integer
  const float kf = t - 12582912.f;
  uint32_t tb;
  std::memcpy(&tb, &t, 4);
  const int32_t n = static_cast<int32_t>(tb - 0x4B400000u);   // that integer, from the bits of t
  const float r = (x - kf * 0.693359375f) - kf * -2.12194440e-4f;   // x − n·ln2, ln2 in two parts
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.f;
  const int32_t n1 = n >> 1, n2 = n - n1;
  const uint32_t b1 = static_cast<uint32_t>(n1 + 127) << 23, b2 = static_cast<uint32_t>(n2 + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &b1, 4);
  std::memcpy(&s2, &b2, 4);
  float y = p * s1 * s2;
  y = x < -104.f ? 0.f : y;
  y = x > 88.7228394f ? INFINITY : y;
  return y;
}

// max_j x[j] with the oracle's `x > m` (a NaN never becomes the max); −∞ for an empty row. GCC
// vector types: the compiler does not vectorise a max reduction by itself without
// -ffinite-math-only (it cannot know that the order of a NaN-ignoring max is irrelevant).
typedef float f32x4 __attribute__((vector_size(16)));

float row_max(const float* x, int64_t n) {
  f32x4 a = {-INFINITY, -INFINITY, -INFINITY, -INFINITY}, b = a;
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    f32x4 u, v;
    std::memcpy(&u, x + j, 16);
    std::memcpy(&v, x + j + 4, 16);
    a = u > a ? u : a;
    b = v > b ? v : b;
  }
  float m = -INFINITY;
  for (int l = 0; l < 4; l++) {
    m = a[l] > m ? a[l] : m;
    m = b[l] > m ? b[l] : m;
  }
  for (; j < n; j++) m = x[j] > m ? x[j] : m;
  return m;
}

double lanes_total(double* acc) {
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int l = 0; l < w; l++) acc[l] += acc[l + w];
  return acc[0];
}

// Σ_j exp(x[j] − m); STORE also writes each term to e.
template <bool STORE>
double sum_exp(const float* __restrict__ x, float m, int64_t n, float* __restrict__ e) {
  double acc[kLanes] = {0};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; l++) {
      const float v = exp_f(x[j + l] - m);
      if (STORE) e[j + l] = v;
      acc[l] += v;
    }
  double s = lanes_total(acc);
  for (; j < n; j++) {
    const float v = exp_f(x[j] - m);
    if (STORE) e[j] = v;
    s += v;
  }
  return s;
}

// Σ_j a[j]·b[j], the products in double (as the oracle).
double dot(const float* __restrict__ a, const float* __restrict__ b, int64_t n) {
  double acc[kLanes] = {0};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; l++) acc[l] += static_cast<double>(a[j + l]) * b[j + l];
  double s = lanes_total(acc);
  for (; j < n; j++) s += static_cast<double>(a[j]) * b[j];
  return s;
}

// Σ_j a[j] in double.
double total(const float* __restrict__ a, int64_t n) {
  double acc[kLanes] = {0};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; l++) acc[l] += a[j + l];
  double s = lanes_total(acc);
  for (; j < n; j++) s += a[j];
  return s;
}

void check_rows(const KernelCall& c, int64_t rows, int64_t n, const char* what = "n") {
  if (rows < 0 || n < 0) c.fail("negative size [rows " + std::to_string(rows) + ", " + what + " " + std::to_string(n) + "]");
}

template <class F>
void for_rows(int64_t rows, int64_t n, F&& fn) {
  parallel_for(rows, std::max<int64_t>(1, kRowWork / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) fn(r);
  });
}

// ---- softmax / log_softmax -----------------------------------------------------------------------
template <bool LOG>
void softmax_fwd(KernelCall& c) {
  c.need_ints(2);
  const int64_t rows = c.i(0), n = c.i(1);
  check_rows(c, rows, n);
  float* y = c.outF(0, rows * n);
  const float* x = c.inF(0, rows * n);
  if (rows * n == 0) return;
  for_rows(rows, n, [&](int64_t r) {
    const float* __restrict__ xr = x + r * n;
    float* __restrict__ yr = y + r * n;
    const float m = row_max(xr, n);
    if (LOG) {
      const double lse = static_cast<double>(m) + std::log(sum_exp<false>(xr, m, n, nullptr));
      for (int64_t j = 0; j < n; j++) yr[j] = static_cast<float>(xr[j] - lse);   // in double, as the oracle
    } else {
      const float inv = static_cast<float>(1.0 / sum_exp<true>(xr, m, n, yr));
      for (int64_t j = 0; j < n; j++) yr[j] *= inv;
    }
  });
}

template <bool LOG>
void softmax_bwd(KernelCall& c) {
  c.need_ints(2);
  const int64_t rows = c.i(0), n = c.i(1);
  check_rows(c, rows, n);
  float* dx = c.outF(0, rows * n);
  const float* g = c.inF(0, rows * n);
  const float* y = c.inF(1, rows * n);
  if (rows * n == 0) return;
  for_rows(rows, n, [&](int64_t r) {
    const float* __restrict__ gr = g + r * n;
    const float* __restrict__ yr = y + r * n;
    float* __restrict__ dr = dx + r * n;
    if (LOG) {
      const float s = static_cast<float>(total(gr, n));
      for (int64_t j = 0; j < n; j++) dr[j] = gr[j] - exp_f(yr[j]) * s;
    } else {
      const float s = static_cast<float>(dot(gr, yr, n));
      for (int64_t j = 0; j < n; j++) dr[j] = yr[j] * (gr[j] - s);
    }
  });
}

// ---- losses --------------------------------------------------------------------------------------
// Every target is ignoreIndex or in [0, C); the first one that is not fails the call.
void check_targets(const KernelCall& c, const int32_t* t, int64_t N, int64_t C, int64_t ignore) {
  for (int64_t r = 0; r < N; r++)
    if (t[r] != ignore && (t[r] < 0 || t[r] >= C))
      c.fail("target " + std::to_string(t[r]) + " is out of range [0, " + std::to_string(C) + ") at position " + std::to_string(r) +
             " (ignoreIndex " + std::to_string(ignore) + ")");
}

// g is [N] (gStride 1) or one scalar (gStride 0)
void check_grad(const KernelCall& c, size_t k, int64_t N, int64_t gStride) {
  if (gStride != 0 && gStride != 1) c.fail("gStride " + std::to_string(gStride) + " is not 0 or 1");
  if (N > 0) c.need_at_least(c.in(k), "g", gStride ? N : 1);
}

// loss[r] = lse_r − x[r, t_r] (0 where ignored), lse_r = m + log Σ exp(x − m): max, Σ exp and the
// loss in one visit of the row (it stays in L1 between the two passes).
void cross_entropy(KernelCall& c) {
  c.need_ints(3);
  const int64_t N = c.i(0), C = c.i(1), ignore = c.i(2);
  check_rows(c, N, C, "C");
  float* loss = c.outF(0, N);
  float* lse = c.outF(1, N);
  const float* x = c.inF(0, N * C);
  const int32_t* t = c.inI(1, N);
  check_targets(c, t, N, C, ignore);
  for_rows(N, C, [&](int64_t r) {
    const float* __restrict__ xr = x + r * C;
    const float m = row_max(xr, C);
    const double l = static_cast<double>(m) + std::log(sum_exp<false>(xr, m, C, nullptr));
    lse[r] = static_cast<float>(l);
    loss[r] = t[r] == ignore ? 0.f : static_cast<float>(l - xr[t[r]]);
  });
}

// dx[r, c] = k_r·(exp(x[r, c] − lse[r]) − [c = t_r]), k_r = scale·g[r·gStride]; 0 on ignored rows.
void cross_entropy_backward(KernelCall& c) {
  c.need_ints(4);
  c.need_floats(1);
  const int64_t N = c.i(0), C = c.i(1), ignore = c.i(2), gStride = c.i(3);
  check_rows(c, N, C, "C");
  const double scale = c.f(0);
  float* dx = c.outF(0, N * C);
  const float* x = c.inF(0, N * C);
  const int32_t* t = c.inI(1, N);
  const float* lse = c.inF(2, N);
  const float* g = c.inF(3);
  check_grad(c, 3, N, gStride);
  check_targets(c, t, N, C, ignore);
  if (N * C == 0) return;
  for_rows(N, C, [&](int64_t r) {
    float* __restrict__ dr = dx + r * C;
    if (t[r] == ignore) { std::fill(dr, dr + C, 0.f); return; }
    const float* __restrict__ xr = x + r * C;
    const double k = scale * g[r * gStride];
    const float kf = static_cast<float>(k), l = lse[r];
    for (int64_t j = 0; j < C; j++) dr[j] = kf * exp_f(xr[j] - l);
    dr[t[r]] = static_cast<float>(dr[t[r]] - k);
  });
}

// loss[r] = −logp[r, t_r] (0 where ignored)
void nll_loss(KernelCall& c) {
  c.need_ints(3);
  const int64_t N = c.i(0), C = c.i(1), ignore = c.i(2);
  check_rows(c, N, C, "C");
  float* loss = c.outF(0, N);
  const float* logp = c.inF(0, N * C);
  const int32_t* t = c.inI(1, N);
  check_targets(c, t, N, C, ignore);
  for (int64_t r = 0; r < N; r++) loss[r] = t[r] == ignore ? 0.f : -logp[r * C + t[r]];
}

// dx[r, c] = −scale·g[r·gStride] where c = t_r, else 0
void nll_loss_backward(KernelCall& c) {
  c.need_ints(4);
  c.need_floats(1);
  const int64_t N = c.i(0), C = c.i(1), ignore = c.i(2), gStride = c.i(3);
  check_rows(c, N, C, "C");
  const double scale = c.f(0);
  float* dx = c.outF(0, N * C);
  const int32_t* t = c.inI(0, N);
  const float* g = c.inF(1);
  check_grad(c, 1, N, gStride);
  check_targets(c, t, N, C, ignore);
  if (N * C == 0) return;
  parallel_for(N, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(C, 1)), [&](int64_t b, int64_t e) {
    std::fill(dx + b * C, dx + e * C, 0.f);
    for (int64_t r = b; r < e; r++)
      if (t[r] != ignore) dx[r * C + t[r]] = static_cast<float>(-scale * g[r * gStride]);
  });
}

}  // namespace
}  // namespace cpu
}  // namespace pb

REGISTER_KERNEL("softmax", 1, 1, pb::cpu::softmax_fwd<false>);
REGISTER_KERNEL("log_softmax", 1, 1, pb::cpu::softmax_fwd<true>);
REGISTER_KERNEL("softmax_backward", 1, 2, pb::cpu::softmax_bwd<false>);
REGISTER_KERNEL("log_softmax_backward", 1, 2, pb::cpu::softmax_bwd<true>);
REGISTER_KERNEL("cross_entropy", 2, 2, pb::cpu::cross_entropy);
REGISTER_KERNEL("cross_entropy_backward", 1, 4, pb::cpu::cross_entropy_backward);
REGISTER_KERNEL("nll_loss", 1, 2, pb::cpu::nll_loss);
REGISTER_KERNEL("nll_loss_backward", 1, 2, pb::cpu::nll_loss_backward);
