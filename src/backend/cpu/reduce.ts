/**
 * CPU reference kernels for reductions along one axis. A tensor is viewed as [outer, n, inner]
 * around the reduced axis (n = its length), so one kernel serves every axis of every rank.
 */
import { registerCpuKernel } from './device.js';

// out[o, i] = Σ_k x[o, k, i]        ints = [outer, n, inner]
registerCpuKernel('sum_axis', ([out], [x], [outer, n, inner]) => {
  out.fill(0);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner, ob = o * inner;
    for (let k = 0; k < n; k++) {
      const row = base + k * inner;
      for (let i = 0; i < inner; i++) out[ob + i] += x[row + i];
    }
  }
});

// values[o, i] = max_k x[o, k, i], indices[o, i] = the first k that reaches it (NaN wins, as torch)
registerCpuKernel('max_axis', ([values, indices], [x], [outer, n, inner]) => {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = -Infinity, arg = 0;
      for (let k = 0; k < n; k++) {
        const v = x[(o * n + k) * inner + i];
        if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) { best = v; arg = k; }
      }
      values[o * inner + i] = best;
      indices[o * inner + i] = arg;
    }
  }
});

// The backward of max: dx[o, k, i] = g[o, i] where k = indices[o, i], else 0.   ints = [outer, n, inner]
registerCpuKernel('max_axis_backward', ([dx], [g, indices], [outer, n, inner]) => {
  dx.fill(0);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) dx[(o * n + indices[o * inner + i]) * inner + i] = g[o * inner + i];
  }
});

// out = x read with broadcast strides (the backward of sum, and explicit expand).
// ints = [ndim, ...outShape, ...xStrides]
registerCpuKernel('broadcast_to', ([out], [x], ints) => {
  const nd = ints[0];
  if (nd === 0) { out[0] = x[0]; return; }
  const shape = ints.slice(1, 1 + nd), sx = ints.slice(1 + nd, 1 + 2 * nd);
  const inner = shape[nd - 1], ix = sx[nd - 1];
  const idx = new Array<number>(nd - 1).fill(0);
  let off = 0, o = 0;
  for (let r = 0, rows = out.length / Math.max(inner, 1); r < rows; r++) {
    for (let j = 0; j < inner; j++) out[o++] = x[off + j * ix];
    for (let d = nd - 2; d >= 0; d--) {
      off += sx[d];
      if (++idx[d] < shape[d]) break;
      off -= sx[d] * shape[d]; idx[d] = 0;
    }
  }
});
