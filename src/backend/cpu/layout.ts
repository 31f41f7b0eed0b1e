/**
 * CPU reference kernels for layout changes that move data: permute (transpose), strided slices
 * (slice, flip) and their scatter backward, concat. Every one is a copy driven by integer sizes
 * and strides; an odometer walks the outer dimensions and the innermost one runs as a tight loop.
 */
import { registerCpuKernel } from './device.js';
import type { TypedArray } from '../../dtype.js';

// ---------------------------------------------------------------------------------------------
// The strided walk shared by permute and slice: output element o (row-major over `shape`) reads
// x[offset + Σ_d idx_d · strides[d]]. Dimensions of length 1 are dropped and neighbours that are
// contiguous in x are merged first, so a slice of whole rows becomes one long inner loop.
// ---------------------------------------------------------------------------------------------

/** Drops length-1 dimensions and merges (d, d+1) when strides[d] = strides[d+1]·shape[d+1]. */
function coalesce(shape: number[], strides: number[]): { shape: number[]; strides: number[] } {
  const sh: number[] = [], st: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const k = sh.length - 1;
    if (k >= 0 && st[k] === strides[d] * shape[d]) { sh[k] *= shape[d]; st[k] = strides[d]; continue; }
    sh.push(shape[d]); st.push(strides[d]);
  }
  return { shape: sh, strides: st };
}

/**
 * scatter = false: out[o] = x[pos(o)]          (gather through strides)
 * scatter = true:  x[pos(o)] = out[o]          (the backward: write g back through the same strides)
 * `a` is the dense side (walked in order), `b` the strided side.
 */
function stridedWalk(a: TypedArray, b: TypedArray, shape0: number[], offset: number, strides0: number[], scatter: boolean): void {
  const total = a.length;
  if (total === 0) return;
  const { shape, strides } = coalesce(shape0, strides0);
  const nd = shape.length;
  if (nd === 0) { if (scatter) b[offset] = a[0]; else a[0] = b[offset]; return; }
  const inner = shape[nd - 1], si = strides[nd - 1];
  const rows = total / inner;
  const idx = new Int32Array(Math.max(nd - 1, 1));
  let base = offset, o = 0;
  for (let r = 0; r < rows; r++) {
    if (scatter) {
      if (si === 1) for (let j = 0; j < inner; j++) b[base + j] = a[o++];
      else for (let j = 0, p = base; j < inner; j++, p += si) b[p] = a[o++];
    } else {
      if (si === 1) for (let j = 0; j < inner; j++) a[o++] = b[base + j];
      else for (let j = 0, p = base; j < inner; j++, p += si) a[o++] = b[p];
    }
    // odometer over the outer dimensions
    for (let d = nd - 2; d >= 0; d--) {
      base += strides[d];
      if (++idx[d] < shape[d]) break;
      base -= strides[d] * shape[d]; idx[d] = 0;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// permute: out = x with its dimensions reordered, out.shape[d] = shape[perm[d]].
// ints = [ndim, ...shape (of x), ...perm]
// The backward is permute by the inverse permutation (composed in ops/layout.ts).
// ---------------------------------------------------------------------------------------------
registerCpuKernel('permute', ([out], [x], ints) => {
  const nd = ints[0];
  const shape = ints.slice(1, 1 + nd), perm = ints.slice(1 + nd, 1 + 2 * nd);
  const xStrides = new Array<number>(nd);
  for (let d = nd - 1, s = 1; d >= 0; d--) { xStrides[d] = s; s *= shape[d]; }
  const outShape = perm.map((p) => shape[p]), strides = perm.map((p) => xStrides[p]);
  stridedWalk(out, x, outShape, 0, strides, false);
});

// ---------------------------------------------------------------------------------------------
// slice: a strided window of x. out[idx] = x[offset + Σ_d idx_d · strides[d]] (row-major idx over
// outShape). For slice(start, step) along axis d: offset += start·xStride[d], strides[d] =
// step·xStride[d]. Strides may be negative: flip is slice with offset at the last element.
// ints = [ndim, ...outShape, offset, ...strides]
// ---------------------------------------------------------------------------------------------
registerCpuKernel('slice', ([out], [x], ints) => {
  const nd = ints[0];
  stridedWalk(out, x, ints.slice(1, 1 + nd), ints[1 + nd], ints.slice(2 + nd, 2 + 2 * nd), false);
});

// The backward of slice: dx = 0, then dx[offset + Σ idx_d · strides[d]] = g[idx]. The positions are
// distinct (|strides| come from a step ≥ 1), so a plain store, no accumulation.
// ints = [ndim, ...gShape, offset, ...strides]   (as the forward; dx has x's size)
registerCpuKernel('slice_backward', ([dx], [g], ints) => {
  const nd = ints[0];
  dx.fill(0);
  stridedWalk(g, dx, ints.slice(1, 1 + nd), ints[1 + nd], ints.slice(2 + nd, 2 + 2 * nd), true);
});

// ---------------------------------------------------------------------------------------------
// concat along one axis. Each input k is viewed as [outer, n_k, inner], the output as
// [outer, Σ n_k, inner]; input k lands at axis offset Σ_{j<k} n_j.
// ins = [x_0, …, x_{K-1}], ints = [outer, inner, n_0, …, n_{K-1}]
// The backward is one slice per input (composed in ops/layout.ts).
// ---------------------------------------------------------------------------------------------
registerCpuKernel('concat', ([out], xs, ints) => {
  const outer = ints[0], inner = ints[1];
  let total = 0;
  for (let k = 0; k < xs.length; k++) total += ints[2 + k];
  const rowOut = total * inner;
  let off = 0;
  for (let k = 0; k < xs.length; k++) {
    const x = xs[k], block = ints[2 + k] * inner;
    for (let o = 0; o < outer; o++) {
      const src = o * block, dst = o * rowOut + off;
      for (let j = 0; j < block; j++) out[dst + j] = x[src + j];
    }
    off += block;
  }
});
