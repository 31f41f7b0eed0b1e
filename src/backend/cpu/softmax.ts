/**
 * CPU reference kernels for softmax and log-softmax along the last axis, x viewed as [rows, n].
 * Numerically stable: every row subtracts its max before exp, so logits of 1000 are fine.
 * Forward and the dedicated backward of each sit together; both backwards read the saved output y.
 */
import { registerCpuKernel } from './device.js';

// y[r, j] = exp(x[r, j] − m_r) / Σ_k exp(x[r, k] − m_r),   m_r = max_k x[r, k]
// ints = [rows, n]
registerCpuKernel('softmax', ([y], [x], [rows, n]) => {
  for (let r = 0; r < rows; r++) {
    const b = r * n;
    let m = -Infinity;
    for (let j = 0; j < n; j++) if (x[b + j] > m) m = x[b + j];
    let s = 0;
    for (let j = 0; j < n; j++) { const e = Math.exp(x[b + j] - m); y[b + j] = e; s += e; }
    const inv = 1 / s;
    for (let j = 0; j < n; j++) y[b + j] *= inv;
  }
});

// dx[r, j] = y[r, j] · (g[r, j] − Σ_k g[r, k] · y[r, k])
// ins = [g, y], ints = [rows, n]
registerCpuKernel('softmax_backward', ([dx], [g, y], [rows, n]) => {
  for (let r = 0; r < rows; r++) {
    const b = r * n;
    let dot = 0;
    for (let j = 0; j < n; j++) dot += g[b + j] * y[b + j];
    for (let j = 0; j < n; j++) dx[b + j] = y[b + j] * (g[b + j] - dot);
  }
});

// y[r, j] = x[r, j] − m_r − log Σ_k exp(x[r, k] − m_r)
// ints = [rows, n]
registerCpuKernel('log_softmax', ([y], [x], [rows, n]) => {
  for (let r = 0; r < rows; r++) {
    const b = r * n;
    let m = -Infinity;
    for (let j = 0; j < n; j++) if (x[b + j] > m) m = x[b + j];
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.exp(x[b + j] - m);
    const lse = m + Math.log(s);
    for (let j = 0; j < n; j++) y[b + j] = x[b + j] - lse;
  }
});

// dx[r, j] = g[r, j] − exp(y[r, j]) · Σ_k g[r, k]       (exp(y) is the softmax)
// ins = [g, y], ints = [rows, n]
registerCpuKernel('log_softmax_backward', ([dx], [g, y], [rows, n]) => {
  for (let r = 0; r < rows; r++) {
    const b = r * n;
    let s = 0;
    for (let j = 0; j < n; j++) s += g[b + j];
    for (let j = 0; j < n; j++) dx[b + j] = g[b + j] - Math.exp(y[b + j]) * s;
  }
});
