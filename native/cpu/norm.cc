// LayerNorm and RMSNorm over the last dimension: twins of src/backend/cpu/norm.ts (the oracle).
// x is [N, D] (N rows).
//
//   layernorm            outs [y, mean [N], rstd [N]], ins [x, weight? [D], bias? [D]], ints [N, D, hasWeight, hasBias], floats [eps]
//   layernorm_backward   outs [dx, dweight? [D], dbias? [D]], ins [g, x, mean, rstd, weight?], ints [N, D, hasWeight, hasBias]
//   rmsnorm              outs [y, rstd [N]], ins [x, weight?], ints [N, D, hasWeight], floats [eps]
//   rmsnorm_backward     outs [dx, dweight?], ins [g, x, rstd, weight?], ints [N, D, hasWeight]
//
//   x̂ = (x − mean)·rstd (RMSNorm: mean = 0), rstd = 1/√(Σ(x − mean)²/D + eps), y = x̂·w + b
//   dx = rstd·(dn − mean(dn) − x̂·mean(dn·x̂)), dn = g·w (RMSNorm: no mean(dn) term)
//   dweight = Σ_rows g·x̂,  dbias = Σ_rows g
//
// Forward, per row (the pool splits the rows): the statistics in double with two passes, as the
// oracle (mean, then the centred sum of squares: no E[x²] − E[x]² cancellation), the sums in
// kLanes partial sums. y is computed in float, but from the double mean: x − mean is taken as
// (x − m_f) − (mean − m_f) with m_f the mean rounded to float — x − m_f is exact when x is near the
// mean (Sterbenz), so a row of mean 1000 and spread 1e-3 keeps its x̂ to a few ulp, where a plain
// float mean would lose ~5 % of it.
// Backward: rows are cut into fixed chunks of ~kChunkElems elements (the cut depends on N and D only,
// never on the thread count). A task takes one chunk: dx row by row, and the chunk's partial
// dweight/dbias rows in double; the partials are then added chunk after chunk — deterministic bits,
// and the oracle's float64 accumulation up to the order of the additions.
#include "common.h"

namespace pb {
namespace cpu {
namespace {

constexpr int kLanes = 8;
constexpr int64_t kRowWork = 1 << 14;      // elements per forward parallel chunk
constexpr int64_t kChunkElems = 1 << 14;   // elements per backward chunk (one partial row each)

double lanes_total(double* acc) {
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int l = 0; l < w; l++) acc[l] += acc[l + w];
  return acc[0];
}

// Σ (x[j] − c)² in double (c = 0: Σ x²)
double sum_sq(const float* __restrict__ x, double c, int64_t n) {
  double acc[kLanes] = {0};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; l++) { const double d = x[j + l] - c; acc[l] += d * d; }
  double s = lanes_total(acc);
  for (; j < n; j++) { const double d = x[j] - c; s += d * d; }
  return s;
}

double total(const float* __restrict__ x, int64_t n) {
  double acc[kLanes] = {0};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; l++) acc[l] += x[j + l];
  double s = lanes_total(acc);
  for (; j < n; j++) s += x[j];
  return s;
}

struct Shape { int64_t N, D; bool hw, hb; };

// ints [N, D, hasWeight(, hasBias)]: checks the counts of ints, outputs and inputs
Shape parse(const KernelCall& c, bool rms, int outs, int ins) {
  c.need_ints(rms ? 3 : 4);
  Shape s{c.i(0), c.i(1), c.i(2) != 0, !rms && c.i(3) != 0};
  if (s.N < 0 || s.D < 0) c.fail("negative size [N " + std::to_string(s.N) + ", D " + std::to_string(s.D) + "]");
  c.need_outs(static_cast<size_t>(outs));
  c.need_ins(static_cast<size_t>(ins));
  return s;
}

// ---- forward -------------------------------------------------------------------------------------
template <bool RMS>
void norm_forward(KernelCall& c) {
  c.need_ints(RMS ? 3 : 4);
  const bool hw0 = c.i(2) != 0, hb0 = !RMS && c.i(3) != 0;
  const Shape s = parse(c, RMS, RMS ? 2 : 3, 1 + hw0 + hb0);
  c.need_floats(1);
  const int64_t N = s.N, D = s.D;
  const double eps = c.f(0);
  float* y = c.outF(0, N * D);
  float* mean_out = RMS ? nullptr : c.outF(1, N);
  float* rstd_out = c.outF(RMS ? 1 : 2, N);
  const float* x = c.inF(0, N * D);
  const float* w = s.hw ? c.inF(1, D) : nullptr;
  const float* b = s.hb ? c.inF(s.hw ? 2 : 1, D) : nullptr;
  parallel_for(N, std::max<int64_t>(1, kRowWork / std::max<int64_t>(D, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* __restrict__ xr = x + r * D;
      float* __restrict__ yr = y + r * D;
      const double mean = RMS ? 0.0 : total(xr, D) / static_cast<double>(D);
      const double rstd = 1.0 / std::sqrt(sum_sq(xr, mean, D) / static_cast<double>(D) + eps);
      const float mf = static_cast<float>(mean), cf = static_cast<float>(mean - mf), rf = static_cast<float>(rstd);
      if (w && b) for (int64_t j = 0; j < D; j++) yr[j] = ((xr[j] - mf) - cf) * rf * w[j] + b[j];
      else if (w) for (int64_t j = 0; j < D; j++) yr[j] = ((xr[j] - mf) - cf) * rf * w[j];
      else if (b) for (int64_t j = 0; j < D; j++) yr[j] = ((xr[j] - mf) - cf) * rf + b[j];
      else for (int64_t j = 0; j < D; j++) yr[j] = ((xr[j] - mf) - cf) * rf;
      if (!RMS) mean_out[r] = mf;
      rstd_out[r] = rf;
    }
  });
}

// ---- backward ------------------------------------------------------------------------------------
// One row: dx, and (ACC) the row's g·x̂ and g added to the chunk's partial rows pw/pb.
template <bool RMS, bool W, bool ACC>
void backward_row(float* __restrict__ dx, const float* __restrict__ g, const float* __restrict__ x, float mean, float rstd,
                  const float* __restrict__ w, int64_t D, double* __restrict__ pw, double* __restrict__ pb) {
  double a1[kLanes] = {0}, a2[kLanes] = {0};   // Σ dn, Σ dn·x̂
  int64_t j = 0;
  for (; j + kLanes <= D; j += kLanes)
    for (int l = 0; l < kLanes; l++) {
      const float xh = (x[j + l] - mean) * rstd;
      const float dn = W ? g[j + l] * w[j + l] : g[j + l];
      a1[l] += dn;
      a2[l] += static_cast<double>(dn) * xh;
    }
  double sdn = RMS ? 0.0 : lanes_total(a1), sdnx = lanes_total(a2);
  for (; j < D; j++) {
    const float xh = (x[j] - mean) * rstd;
    const float dn = W ? g[j] * w[j] : g[j];
    sdn += dn;
    sdnx += static_cast<double>(dn) * xh;
  }
  const float mdn = RMS ? 0.f : static_cast<float>(sdn / static_cast<double>(D));
  const float mdnx = static_cast<float>(sdnx / static_cast<double>(D));
  for (j = 0; j < D; j++) {
    const float gv = g[j];
    const float xh = (x[j] - mean) * rstd;
    const float dn = W ? gv * w[j] : gv;
    dx[j] = rstd * (dn - mdn - xh * mdnx);
    if (ACC) {
      if (pw) pw[j] += static_cast<double>(gv) * xh;
      if (pb) pb[j] += gv;
    }
  }
}

template <bool RMS>
void norm_backward(KernelCall& c) {
  c.need_ints(RMS ? 3 : 4);
  const bool hw0 = c.i(2) != 0, hb0 = !RMS && c.i(3) != 0;
  const Shape s = parse(c, RMS, 1 + hw0 + hb0, (RMS ? 3 : 4) + hw0);
  const int64_t N = s.N, D = s.D;
  float* dx = c.outF(0, N * D);
  float* dw = s.hw ? c.outF(1, D) : nullptr;
  float* db = s.hb ? c.outF(s.hw ? 2 : 1, D) : nullptr;
  const float* g = c.inF(0, N * D);
  const float* x = c.inF(1, N * D);
  const float* mean = RMS ? nullptr : c.inF(2, N);
  const float* rstd = c.inF(RMS ? 2 : 3, N);
  const float* w = s.hw ? c.inF(RMS ? 3 : 4, D) : nullptr;
  if (D == 0) return;

  const bool acc = dw || db;
  const int64_t rows_per = std::max<int64_t>(1, kChunkElems / D);
  const int64_t chunks = (N + rows_per - 1) / rows_per;
  std::vector<double> pw(dw ? static_cast<size_t>(chunks * D) : 0), pb(db ? static_cast<size_t>(chunks * D) : 0);
  parallel_tasks(chunks, [&](int64_t q) {
    double* qw = dw ? pw.data() + q * D : nullptr;
    double* qb = db ? pb.data() + q * D : nullptr;
    for (int64_t r = q * rows_per, r1 = std::min(N, r + rows_per); r < r1; r++) {
      const float m = RMS ? 0.f : mean[r];
      auto row = [&](auto fn) { fn(dx + r * D, g + r * D, x + r * D, m, rstd[r], w, D, qw, qb); };
      if (w) acc ? row(backward_row<RMS, true, true>) : row(backward_row<RMS, true, false>);
      else acc ? row(backward_row<RMS, false, true>) : row(backward_row<RMS, false, false>);
    }
  });
  // the chunks' partial rows, added in chunk order
  for (int k = 0; k < 2; k++) {
    float* out = k == 0 ? dw : db;
    if (!out) continue;
    const double* part = k == 0 ? pw.data() : pb.data();
    for (int64_t j = 0; j < D; j++) {
      double t = 0;
      for (int64_t q = 0; q < chunks; q++) t += part[q * D + j];
      out[j] = static_cast<float>(t);
    }
  }
}

}  // namespace
}  // namespace cpu
}  // namespace pb

REGISTER_KERNEL("layernorm", 3, -1, pb::cpu::norm_forward<false>);
REGISTER_KERNEL("layernorm_backward", -1, -1, pb::cpu::norm_backward<false>);
REGISTER_KERNEL("rmsnorm", 2, -1, pb::cpu::norm_forward<true>);
REGISTER_KERNEL("rmsnorm_backward", -1, -1, pb::cpu::norm_backward<true>);
