/**
 * CPU reference kernels for indexing: index_select (embedding lookups) and gather, each with its
 * scatter-add backward. Indices are int32 and already checked by the op (ops/indexing.ts), so the
 * kernels read them unguarded. The backward loops run in a fixed order, so their sums are
 * deterministic (the device twins must keep that: one thread per destination, or sorted indices).
 * (where / masked_fill use the 'where' kernel in elementwise.ts.)
 */
import { registerCpuKernel } from './device.js';
import type { TypedArray } from '../../dtype.js';

// ---------------------------------------------------------------------------------------------
// index_select along one axis: x viewed as [outer, n, inner], idx holds k values in [0, n).
// out[o, j, i] = x[o, idx[j], i]                           out is [outer, k, inner]
// ins = [x, idx (int32 [k])], ints = [outer, n, inner, k]
// ---------------------------------------------------------------------------------------------
registerCpuKernel('index_select', ([out], [x, idx], [outer, n, inner, k]) => {
  for (let o = 0; o < outer; o++) {
    const xb = o * n * inner;
    let dst = o * k * inner;
    for (let j = 0; j < k; j++) {
      const src = xb + idx[j] * inner;
      for (let i = 0; i < inner; i++) out[dst++] = x[src + i];
    }
  }
});

// The backward: index_add of g into zeros. dx[o, idx[j], i] += g[o, j, i], j ascending.
// ins = [g ([outer, k, inner]), idx], ints = [outer, n, inner, k]
registerCpuKernel('index_select_backward', ([dx], [g, idx], [outer, n, inner, k]) => {
  dx.fill(0);
  for (let o = 0; o < outer; o++) {
    const xb = o * n * inner;
    let src = o * k * inner;
    for (let j = 0; j < k; j++) {
      const dst = xb + idx[j] * inner;
      for (let i = 0; i < inner; i++) dx[dst + i] += g[src++];
    }
  }
});

// ---------------------------------------------------------------------------------------------
// gather (torch.gather): out has the index's shape; along `axis` the position comes from index,
// along every other dimension from the output position itself:
//   out[p] = x[Σ_d p_d · xStrides[d] + index[p] · axisStride]
// where xStrides is x's row-major strides with the axis entry set to 0 and axisStride the axis's
// own stride. (index.shape[d] ≤ x.shape[d] for d ≠ axis, as torch.)
// ins = [x, index (int32, same rank)], ints = [ndim, ...indexShape, ...xStrides (axis → 0), axisStride]
// ---------------------------------------------------------------------------------------------
/** a: the dense side (out, or g), walked in index order; b: the strided side (x, or dx). */
function gatherWalk(a: TypedArray, b: TypedArray, index: TypedArray, ints: number[], scatterAdd: boolean): void {
  const nd = ints[0], total = index.length;
  if (total === 0) return;
  const shape = ints.slice(1, 1 + nd), strides = ints.slice(1 + nd, 1 + 2 * nd), sAxis = ints[1 + 2 * nd];
  const inner = shape[nd - 1], si = strides[nd - 1];
  const rows = total / inner;
  const idx = new Int32Array(Math.max(nd - 1, 1));
  let base = 0, p = 0;
  for (let r = 0; r < rows; r++) {
    if (scatterAdd) for (let j = 0; j < inner; j++, p++) b[base + j * si + index[p] * sAxis] += a[p];
    else for (let j = 0; j < inner; j++, p++) a[p] = b[base + j * si + index[p] * sAxis];
    for (let d = nd - 2; d >= 0; d--) {
      base += strides[d];
      if (++idx[d] < shape[d]) break;
      base -= strides[d] * shape[d]; idx[d] = 0;
    }
  }
}

registerCpuKernel('gather', ([out], [x, index], ints) => gatherWalk(out, x, index, ints, false));

// The backward: scatter-add. dx = 0; dx[Σ p_d · xStrides[d] + index[p] · axisStride] += g[p], p ascending.
// ins = [g (index's shape), index], ints as the forward
registerCpuKernel('gather_backward', ([dx], [g, index], ints) => {
  dx.fill(0);
  gatherWalk(g, dx, index, ints, true);
});
