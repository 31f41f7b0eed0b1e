/**
 * CPU reference kernels for LayerNorm and RMSNorm over the last dimension. x is viewed as
 * [N, D] (N = rows). Statistics are computed in float64 with two passes (mean, then the centred
 * sum of squares: no E[x²] − E[x]² cancellation) and saved per row for the backward, which
 * recomputes x̂ from them (llm.c's layernorm_backward). Weight/bias gradients are summed over the
 * rows in order, in float64: deterministic.
 */
import { registerCpuKernel } from './device.js';

// y [N, D] = (x − mean) · rstd · weight + bias, per row; mean [N], rstd [N] saved.
// outs = [y, mean, rstd]; ins = [x, weight if hasWeight, bias if hasBias];
// ints = [N, D, hasWeight, hasBias]; floats = [eps]
//
//   mean = Σ_j x_j / D,  var = Σ_j (x_j − mean)² / D  (biased, as PyTorch),  rstd = 1 / √(var + eps)
registerCpuKernel('layernorm', ([y, meanOut, rstdOut], ins, [N, D, hasWeight, hasBias], [eps]) => {
  const x = ins[0];
  const w = hasWeight ? ins[1] : null;
  const b = hasBias ? ins[hasWeight ? 2 : 1] : null;
  for (let i = 0; i < N; i++) {
    const row = i * D;
    let s = 0;
    for (let j = 0; j < D; j++) s += x[row + j];
    const mean = s / D;
    let v = 0;
    for (let j = 0; j < D; j++) { const c = x[row + j] - mean; v += c * c; }
    const rstd = 1 / Math.sqrt(v / D + eps);
    for (let j = 0; j < D; j++) {
      let o = (x[row + j] - mean) * rstd;
      if (w) o *= w[j];
      if (b) o += b[j];
      y[row + j] = o;
    }
    meanOut[i] = mean;
    rstdOut[i] = rstd;
  }
});

// The backward of layernorm, with x̂ = (x − mean)·rstd and dn = g·weight (g without weight):
//   dx_j      = rstd · (dn_j − mean_k(dn_k) − x̂_j · mean_k(dn_k · x̂_k))
//   dweight_j = Σ_rows g_j · x̂_j,   dbias_j = Σ_rows g_j
// outs = [dx, dweight if hasWeight, dbias if hasBias]; ins = [g, x, mean, rstd, weight if hasWeight];
// ints = [N, D, hasWeight, hasBias]
registerCpuKernel('layernorm_backward', (outs, ins, [N, D, hasWeight, hasBias]) => {
  const [dx] = outs;
  const dw = hasWeight ? outs[1] : null;
  const db = hasBias ? outs[hasWeight ? 2 : 1] : null;
  const [g, x, meanIn, rstdIn] = ins;
  const w = hasWeight ? ins[4] : null;
  const accW = new Float64Array(hasWeight ? D : 0), accB = new Float64Array(hasBias ? D : 0);
  for (let i = 0; i < N; i++) {
    const row = i * D, mean = meanIn[i], rstd = rstdIn[i];
    let sdn = 0, sdnx = 0;
    for (let j = 0; j < D; j++) {
      const xh = (x[row + j] - mean) * rstd;
      const dn = w ? g[row + j] * w[j] : g[row + j];
      sdn += dn; sdnx += dn * xh;
    }
    const mdn = sdn / D, mdnx = sdnx / D;
    for (let j = 0; j < D; j++) {
      const gv = g[row + j];
      const xh = (x[row + j] - mean) * rstd;
      const dn = w ? gv * w[j] : gv;
      dx[row + j] = rstd * (dn - mdn - xh * mdnx);
      if (dw) accW[j] += gv * xh;
      if (db) accB[j] += gv;
    }
  }
  if (dw) dw.set(accW);
  if (db) db.set(accB);
});

// RMSNorm: y [N, D] = x · rstd · weight, rstd = 1 / √(Σ_j x_j² / D + eps) saved per row.
// outs = [y, rstd]; ins = [x, weight if hasWeight]; ints = [N, D, hasWeight]; floats = [eps]
registerCpuKernel('rmsnorm', ([y, rstdOut], ins, [N, D, hasWeight], [eps]) => {
  const x = ins[0];
  const w = hasWeight ? ins[1] : null;
  for (let i = 0; i < N; i++) {
    const row = i * D;
    let ss = 0;
    for (let j = 0; j < D; j++) { const v = x[row + j]; ss += v * v; }
    const rstd = 1 / Math.sqrt(ss / D + eps);
    for (let j = 0; j < D; j++) y[row + j] = w ? x[row + j] * rstd * w[j] : x[row + j] * rstd;
    rstdOut[i] = rstd;
  }
});

// The backward of rmsnorm, with x̂ = x·rstd and dn = g·weight:
//   dx_j = rstd · (dn_j − x̂_j · mean_k(dn_k · x̂_k)),   dweight_j = Σ_rows g_j · x̂_j
// outs = [dx, dweight if hasWeight]; ins = [g, x, rstd, weight if hasWeight]; ints = [N, D, hasWeight]
registerCpuKernel('rmsnorm_backward', (outs, ins, [N, D, hasWeight]) => {
  const [dx] = outs;
  const dw = hasWeight ? outs[1] : null;
  const [g, x, rstdIn] = ins;
  const w = hasWeight ? ins[3] : null;
  const accW = new Float64Array(hasWeight ? D : 0);
  for (let i = 0; i < N; i++) {
    const row = i * D, rstd = rstdIn[i];
    let sdnx = 0;
    for (let j = 0; j < D; j++) {
      const dn = w ? g[row + j] * w[j] : g[row + j];
      sdnx += dn * x[row + j] * rstd;
    }
    const mdnx = sdnx / D;
    for (let j = 0; j < D; j++) {
      const gv = g[row + j];
      const xh = x[row + j] * rstd;
      const dn = w ? gv * w[j] : gv;
      dx[row + j] = rstd * (dn - xh * mdnx);
      if (dw) accW[j] += gv * xh;
    }
  }
  if (dw) dw.set(accW);
});
