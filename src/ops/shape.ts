/**
 * reshape and its relatives. They share storage with their input (no kernel, no copy): a new
 * handle on the same bytes. Layout changes that must move data (permute, slice, …) are in layout.ts.
 */
import type { Tensor } from '../tensor.js';
import { record1 } from '../autograd/node.js';
import { numel, shapeStr, normAxis, type Shape } from '../util/shape.js';

/** Same elements, new shape; one dimension may be -1 (inferred). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const target = inferShape('reshape', x, shape);
  const out = x.view(target);
  return record1('reshape', [x], out, [], (g) => [reshape(g, x.shape)]);
}

function inferShape(op: string, x: Tensor, shape: Shape): number[] {
  const s = [...shape];
  const neg = s.indexOf(-1);
  if (neg >= 0) {
    if (s.indexOf(-1, neg + 1) >= 0) throw new RangeError(`${op}: only one dimension can be -1 in ${shapeStr(shape)}`);
    const rest = numel(s.filter((_, i) => i !== neg));
    if (rest === 0 || x.size % rest !== 0) throw new RangeError(`${op}: cannot reshape ${shapeStr(x.shape)} (${x.size} elements) into ${shapeStr(shape)}`);
    s[neg] = x.size / rest;
  }
  if (numel(s) !== x.size || s.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new RangeError(`${op}: cannot reshape ${shapeStr(x.shape)} (${x.size} elements) into ${shapeStr(shape)}`);
  }
  return s;
}

/** Flattens dimensions start..end (inclusive) into one. */
export function flatten(x: Tensor, start = 0, end = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis('flatten', start, x.ndim), e = normAxis('flatten', end, x.ndim);
  const shape = [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

/** Inserts a dimension of length 1 at `axis`. */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normAxis('unsqueeze', axis, x.ndim + 1);
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/** Removes a dimension of length 1 (or all of them when axis is omitted). */
export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const a = normAxis('squeeze', axis, x.ndim);
  if (x.shape[a] !== 1) throw new RangeError(`squeeze: dimension ${axis} of ${shapeStr(x.shape)} is not 1`);
  return reshape(x, [...x.shape.slice(0, a), ...x.shape.slice(a + 1)]);
}
