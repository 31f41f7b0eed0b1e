// Mamba's depthwise causal conv1d on the CPU: the twin of the 'conv1d_causal' kernels of
// src/backend/cpu/conv.ts (their oracle and convention) and of native/kernels/conv.cu.
//
// Kernel 'conv1d_causal'           outs [y [B, D, L]], ins [x [B, D, L], w [D, 1, K]] or [x, w, b [D]],
//                                  ints [B, D, L, K, hasBias]
//   y[n, d, t] = b[d] + Σ_{j<K, t+j−(K−1) ≥ 0} w[d, j] · x[n, d, t + j − (K − 1)]
// Kernel 'conv1d_causal_backward'  outs [dx [B, D, L], dw [D, 1, K], db [D]] (db written even without a bias),
//                                  ins [gy [B, D, L], x, w], ints [B, D, L, K]
//   dx[n, d, u] = Σ_{j<K, u+(K−1)−j < L} w[d, j] · gy[n, d, u + (K − 1) − j]
//   dw[d, j]    = Σ_n Σ_t gy[n, d, t] · x[n, d, t + j − (K − 1)],   db[d] = Σ_n Σ_t gy[n, d, t]
//
// The same arithmetic as the oracle: float64 sums (a product of two floats is exact in float64)
// in the oracle's order — taps j ascending from the bias for y, the same for dx; for dw/db n then t
// ascending — rounded once to float32, so the results equal the oracle's to the last bit.
// y and dx: parallel over the B·D rows, each row a loop over t that the compiler vectorises (the
// first K−1 steps, which read the zero padding, are peeled off). dw, db: parallel over channels d
// (each owns its K + 1 sums, so the reduction order is fixed whatever the thread count).
#include "common.h"

namespace pb {
namespace cpu {
namespace {

struct Geom {
  int64_t B, D, L, K;
};

Geom geometry(KernelCall& c, size_t nints) {
  c.need_ints(nints);
  Geom g{c.i(0), c.i(1), c.i(2), c.i(3)};
  if (g.B < 0 || g.D < 0 || g.L < 0) c.fail("sizes must be non-negative, got B " + std::to_string(g.B) + ", D " + std::to_string(g.D) + ", L " + std::to_string(g.L));
  if (g.K < 1 || g.K > (int64_t{1} << 20)) c.fail("kernel size K must be in [1, 2^20], got " + std::to_string(g.K));
  const int64_t lim = int64_t{1} << 40;
  if (g.B > lim || g.D > lim || g.L > lim || (g.B && g.D && g.B * g.D > lim / std::max<int64_t>(g.L, 1)) || (g.D && g.D > lim / g.K)) c.fail("sizes too large");
  return g;
}

/** Rows per parallel chunk: ≥ 2^14 multiply-adds. */
int64_t row_grain(const Geom& g) { return std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(g.L * g.K, 1)); }

void conv1d_causal(KernelCall& c) {
  const Geom g = geometry(c, 5);
  const bool hasBias = c.i(4) != 0;
  c.need_ins(hasBias ? 3 : 2);
  const int64_t B = g.B, D = g.D, L = g.L, K = g.K, K1 = K - 1;
  float* y = c.outF(0, B * D * L);
  const float* x = c.inF(0, B * D * L);
  const float* w = c.inF(1, D * K);
  const float* bias = hasBias ? c.inF(2, D) : nullptr;
  parallel_for(B * D, row_grain(g), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const int64_t d = r % D;
      const float* __restrict xr = x + r * L;
      float* __restrict yr = y + r * L;
      const float* wd = w + d * K;
      const double b0 = bias ? bias[d] : 0.0;
      const int64_t tHead = std::min(K1, L);   // steps whose window reaches before t = 0
      for (int64_t t = 0; t < tHead; t++) {
        double s = b0;
        for (int64_t j = K1 - t; j < K; j++) s += static_cast<double>(wd[j]) * xr[t + j - K1];
        yr[t] = static_cast<float>(s);
      }
      if (K == 4) {   // Mamba's d_conv: the taps in registers
        const double w0 = wd[0], w1 = wd[1], w2 = wd[2], w3 = wd[3];
        for (int64_t t = tHead; t < L; t++) {
          double s = b0;
          s += w0 * xr[t - 3];
          s += w1 * xr[t - 2];
          s += w2 * xr[t - 1];
          s += w3 * xr[t];
          yr[t] = static_cast<float>(s);
        }
      } else {
        for (int64_t t = tHead; t < L; t++) {
          double s = b0;
          for (int64_t j = 0; j < K; j++) s += static_cast<double>(wd[j]) * xr[t + j - K1];
          yr[t] = static_cast<float>(s);
        }
      }
    }
  });
}

void conv1d_causal_backward(KernelCall& c) {
  const Geom g = geometry(c, 4);
  const int64_t B = g.B, D = g.D, L = g.L, K = g.K, K1 = K - 1;
  float* dx = c.outF(0, B * D * L);
  float* dw = c.outF(1, D * K);
  float* db = c.outF(2, D);
  const float* gy = c.inF(0, B * D * L);
  const float* x = c.inF(1, B * D * L);
  const float* w = c.inF(2, D * K);
  // dx: the transposed filter, reading gy up to K − 1 steps ahead (none past the end)
  parallel_for(B * D, row_grain(g), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const int64_t d = r % D;
      const float* __restrict gr = gy + r * L;
      float* __restrict dxr = dx + r * L;
      const float* wd = w + d * K;
      const int64_t uBody = std::max<int64_t>(0, L - K1);   // u < uBody: every tap in range
      if (K == 4) {
        const double w0 = wd[0], w1 = wd[1], w2 = wd[2], w3 = wd[3];
        for (int64_t u = 0; u < uBody; u++) {
          double s = 0.0;
          s += w0 * gr[u + 3];
          s += w1 * gr[u + 2];
          s += w2 * gr[u + 1];
          s += w3 * gr[u];
          dxr[u] = static_cast<float>(s);
        }
      } else {
        for (int64_t u = 0; u < uBody; u++) {
          double s = 0.0;
          for (int64_t j = 0; j < K; j++) s += static_cast<double>(wd[j]) * gr[u + K1 - j];
          dxr[u] = static_cast<float>(s);
        }
      }
      for (int64_t u = uBody; u < L; u++) {
        double s = 0.0;
        for (int64_t j = u + K1 - L + 1; j < K; j++) s += static_cast<double>(wd[j]) * gr[u + K1 - j];
        dxr[u] = static_cast<float>(s);
      }
    }
  });
  // dw, db: channel d owns its sums (n, then t ascending: the oracle's order; each sum is one
  // dependency chain — the K + 1 chains of a channel overlap)
  const int64_t chGrain = std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(B * L * (K + 1), 1));
  parallel_for(D, chGrain, [&](int64_t d0, int64_t d1) {
    std::vector<double> acc(static_cast<size_t>(K));
    for (int64_t d = d0; d < d1; d++) {
      std::fill(acc.begin(), acc.end(), 0.0);
      double accB = 0.0;
      for (int64_t n = 0; n < B; n++) {
        const float* gr = gy + (n * D + d) * L;
        const float* xr = x + (n * D + d) * L;
        if (K == 4) {   // Mamba's d_conv: the four tap sums in registers
          double a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
          for (int64_t t = 0; t < std::min<int64_t>(3, L); t++) {   // taps before t = 0 read padding: no term
            const double gv = gr[t];
            accB += gv;
            if (t >= 3) a0 += gv * xr[t - 3];
            if (t >= 2) a1 += gv * xr[t - 2];
            if (t >= 1) a2 += gv * xr[t - 1];
            a3 += gv * xr[t];
          }
          for (int64_t t = 3; t < L; t++) {
            const double gv = gr[t];
            accB += gv;
            a0 += gv * xr[t - 3];
            a1 += gv * xr[t - 2];
            a2 += gv * xr[t - 1];
            a3 += gv * xr[t];
          }
          acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
        } else {
          for (int64_t t = 0; t < L; t++) {
            const double gv = gr[t];
            accB += gv;
            for (int64_t j = t < K1 ? K1 - t : 0; j < K; j++) acc[static_cast<size_t>(j)] += gv * xr[t + j - K1];
          }
        }
      }
      for (int64_t j = 0; j < K; j++) dw[d * K + j] = static_cast<float>(acc[static_cast<size_t>(j)]);
      db[d] = static_cast<float>(accB);
    }
  });
}

}  // namespace
}  // namespace cpu
}  // namespace pb

REGISTER_KERNEL("conv1d_causal", 1, -1, pb::cpu::conv1d_causal);
REGISTER_KERNEL("conv1d_causal_backward", 3, 3, pb::cpu::conv1d_causal_backward);
