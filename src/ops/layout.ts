/**
 * Layout changes that move data (tensors are always contiguous, so these copy): permute /
 * transpose, slice, flip, concat, stack. Their backwards are layout changes too: the inverse
 * permutation, a scatter of the slice back into zeros, flip again, one slice per concat input.
 * (reshape, squeeze and friends share storage and live in shape.ts.)
 */
import type { Tensor } from '../tensor.js';
import { empty } from '../creation.js';
import { runKernel } from '../dispatch/dispatch.js';
import { record1 } from '../autograd/node.js';
import { normAxis, numel, shapeStr, stridesOf, type Shape } from '../util/shape.js';
import { assertSameDevice, assertSameDtype } from './util.js';

/**
 * The 'slice' kernel: out[idx] = x[offset + Σ idx_d · strides[d]] with idx walking `walk` row-major
 * (strides may be negative); the output is allocated with `shape` (same element count as `walk`).
 */
function stridedCopy(x: Tensor, shape: Shape, offset: number, strides: readonly number[], walk: Shape = shape): Tensor {
  const out = empty(shape, x.dtype, x.device);
  runKernel('slice', [out], [x], [walk.length, ...walk, offset, ...strides]);
  return out;
}

/** A new handle on x, recorded so that gradients pass through (the no-copy case of a layout op). */
function identity(op: string, x: Tensor): Tensor {
  return record1(op, [x], x.view(), [], (g) => [g]);
}

// ---- permute / transpose -----------------------------------------------------------------------

/** Reorders the dimensions: out.shape[i] = x.shape[dims[i]] (torch.permute). Copies. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const nd = x.ndim;
  const perm = dims.map((d) => (Number.isInteger(d) && d < 0 ? d + nd : d));
  const seen = new Set(perm);
  if (perm.length !== nd || seen.size !== nd || perm.some((d) => !Number.isInteger(d) || d < 0 || d >= nd)) {
    throw new RangeError(`permute: dims [${dims.join(', ')}] is not a permutation of 0..${nd - 1} for input ${shapeStr(x.shape)}`);
  }
  if (perm.every((p, i) => p === i)) return identity('permute', x);
  const out = empty(perm.map((p) => x.shape[p]), x.dtype, x.device);
  runKernel('permute', [out], [x], [nd, ...x.shape, ...perm]);
  const inverse = new Array<number>(nd);
  perm.forEach((p, i) => { inverse[p] = i; });
  return record1('permute', [x], out, [], (g) => [permute(g, inverse)]);
}

/** Swaps two dimensions (torch.transpose). Copies. */
export function transpose(x: Tensor, a: number, b: number): Tensor {
  const i = normAxis('transpose', a, x.ndim), j = normAxis('transpose', b, x.ndim);
  const perm = x.shape.map((_, d) => d);
  perm[i] = j; perm[j] = i;
  return permute(x, perm);
}

// ---- slice -------------------------------------------------------------------------------------

/** One axis of a multi-axis slice: [start, end?, step?] as Python's start:end:step; null = the whole axis. */
export type SliceRange = readonly [start?: number, end?: number, step?: number] | null | undefined;

/**
 * Python-style slicing, copying the result.
 *
 *   slice(x, axis, start, end?, step = 1)   x[..., start:end:step, ...] along one axis
 *   slice(x, [r0, r1, …])                   r_i = [start, end?, step?] or null for axis i
 *                                           (missing trailing axes are taken whole)
 *
 * Negative start/end count from the end of the axis; out-of-range bounds are clamped (an empty
 * result is fine), as in Python and torch. step must be a positive integer (use flip to reverse).
 * The backward scatters the gradient into zeros shaped like x.
 */
export function slice(x: Tensor, axis: number, start: number, end?: number, step?: number): Tensor;
export function slice(x: Tensor, ranges: readonly SliceRange[]): Tensor;
export function slice(x: Tensor, axisOrRanges: number | readonly SliceRange[], start?: number, end?: number, step?: number): Tensor {
  const nd = x.ndim;
  const ranges: SliceRange[] = new Array(nd).fill(null);
  if (typeof axisOrRanges === 'number') {
    ranges[normAxis('slice', axisOrRanges, nd)] = [start, end, step];
  } else {
    if (axisOrRanges.length > nd) throw new RangeError(`slice: ${axisOrRanges.length} ranges for input ${shapeStr(x.shape)} of rank ${nd}`);
    axisOrRanges.forEach((r, i) => { ranges[i] = r; });
  }
  const xStrides = stridesOf(x.shape);
  const outShape: number[] = [], strides: number[] = [];
  let offset = 0;
  for (let d = 0; d < nd; d++) {
    const n = x.shape[d], r = ranges[d];
    const st = r?.[2] ?? 1;
    if (!Number.isInteger(st) || st < 1) throw new RangeError(`slice: step ${st} on axis ${d} of ${shapeStr(x.shape)} must be a positive integer (use flip to reverse)`);
    const lo = clampIndex('start', r?.[0] ?? 0, n, d, x.shape), hi = clampIndex('end', r?.[1] ?? n, n, d, x.shape);
    outShape.push(Math.max(0, Math.ceil((hi - lo) / st)));
    offset += lo * xStrides[d];
    strides.push(st * xStrides[d]);
  }
  if (outShape.every((n, d) => n === x.shape[d])) return identity('slice', x);
  const out = stridedCopy(x, outShape, offset, strides);
  const ints = [nd, ...outShape, offset, ...strides];
  return record1('slice', [x], out, [], (g) => {
    const dx = empty(x.shape, g.dtype, g.device);
    runKernel('slice_backward', [dx], [g], ints);
    return [dx];
  });
}

/** Python slice bound: negative counts from the end, then clamped to [0, n]. */
function clampIndex(what: string, i: number, n: number, axis: number, shape: Shape): number {
  if (!Number.isInteger(i)) throw new RangeError(`slice: ${what} ${i} on axis ${axis} of ${shapeStr(shape)} is not an integer`);
  const j = i < 0 ? i + n : i;
  return Math.min(Math.max(j, 0), n);
}

// ---- flip --------------------------------------------------------------------------------------

/** Reverses the order of elements along the given axes (torch.flip). Its backward is the same flip. */
export function flip(x: Tensor, axes: number | readonly number[]): Tensor {
  const list = (typeof axes === 'number' ? [axes] : [...axes]).map((a) => normAxis('flip', a, x.ndim));
  if (new Set(list).size !== list.length) throw new RangeError(`flip: repeated axis in [${list.join(', ')}] for input ${shapeStr(x.shape)}`);
  const xStrides = stridesOf(x.shape);
  let offset = 0;
  const strides = xStrides.map((s, d) => {
    if (!list.includes(d) || x.shape[d] <= 1) return s;
    offset += (x.shape[d] - 1) * s;
    return -s;
  });
  if (offset === 0) return identity('flip', x);
  const out = stridedCopy(x, x.shape, offset, strides);
  return record1('flip', [x], out, [], (g) => [stridedCopy(g, g.shape, offset, strides)]);
}

// ---- concat / stack ----------------------------------------------------------------------------

function checkJoin(op: string, xs: readonly Tensor[]): void {
  if (xs.length === 0) throw new RangeError(`${op}: needs at least one tensor`);
  assertSameDevice(op, ...xs);
  assertSameDtype(op, ...xs);
}

/**
 * Runs the 'concat' kernel: each x_k viewed as [outer, lens[k], inner] lands in `outShape`
 * viewed as [outer, Σ lens, inner]. The backward slices g back into one gradient per input.
 */
function joinAlong(op: string, xs: readonly Tensor[], outShape: number[], outer: number, inner: number, lens: number[]): Tensor {
  const out = empty(outShape, xs[0].dtype, xs[0].device);
  runKernel('concat', [out], [...xs], [outer, inner, ...lens]);
  const total = lens.reduce((s, n) => s + n, 0);
  return record1(op, [...xs], out, [], (g) => {
    let off = 0;
    return xs.map((x, k) => {
      const start = off;
      off += lens[k];
      if (!x.requiresGrad) return null;
      // x_k's block [outer, n_k, inner] of g viewed as [outer, total, inner]
      return stridedCopy(g, x.shape, start * inner, [total * inner, inner, 1], [outer, lens[k], inner]);
    });
  });
}

/** Joins tensors along an existing axis (torch.cat); all other dimensions must match. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  checkJoin('concat', xs);
  const x0 = xs[0];
  if (x0.ndim === 0) throw new RangeError('concat: zero-dimensional tensors cannot be concatenated (use stack)');
  const a = normAxis('concat', axis, x0.ndim);
  xs.forEach((x, k) => {
    if (x.ndim !== x0.ndim || x.shape.some((d, i) => i !== a && d !== x0.shape[i])) {
      throw new RangeError(`concat: input ${k} has shape ${shapeStr(x.shape)} but input 0 has ${shapeStr(x0.shape)} (all dimensions except axis ${axis} must match)`);
    }
  });
  const lens = xs.map((x) => x.shape[a]);
  const outShape = [...x0.shape];
  outShape[a] = lens.reduce((s, n) => s + n, 0);
  return joinAlong('concat', xs, outShape, numel(x0.shape.slice(0, a)), numel(x0.shape.slice(a + 1)), lens);
}

/** Joins same-shaped tensors along a new axis (torch.stack): concat of unsqueezed inputs. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  checkJoin('stack', xs);
  const x0 = xs[0];
  const a = normAxis('stack', axis, x0.ndim + 1);
  xs.forEach((x, k) => {
    if (x.ndim !== x0.ndim || x.shape.some((d, i) => d !== x0.shape[i])) {
      throw new RangeError(`stack: input ${k} has shape ${shapeStr(x.shape)} but input 0 has ${shapeStr(x0.shape)} (all shapes must be equal)`);
    }
  });
  const outShape = [...x0.shape.slice(0, a), xs.length, ...x0.shape.slice(a)];
  // stacking = concat of [outer, 1, inner] blocks
  return joinAlong('stack', xs, outShape, numel(x0.shape.slice(0, a)), numel(x0.shape.slice(a)), xs.map(() => 1));
}
