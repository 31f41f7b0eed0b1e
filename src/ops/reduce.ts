/**
 * Reductions: sum, mean, max over one or more axes (keepdim optional), and the two helpers that
 * broadcasting's backward needs: sumTo (reduce a gradient back to an input's shape) and
 * broadcastTo (the backward of a sum).
 */
import type { Tensor } from '../tensor.js';
import { empty } from '../creation.js';
import { runKernel } from '../dispatch/dispatch.js';
import { record, record1 } from '../autograd/node.js';
import { broadcastStrides, normAxis, numel, sameShape, shapeStr, type Shape } from '../util/shape.js';
import { reshape } from './shape.js';
import { mul } from './elementwise.js';
import { assertFloat } from './util.js';

function axesOf(op: string, x: Tensor, axis?: number | number[]): number[] {
  if (axis === undefined) return x.shape.map((_, i) => i);
  const list = (Array.isArray(axis) ? axis : [axis]).map((a) => normAxis(op, a, x.ndim));
  if (new Set(list).size !== list.length) throw new RangeError(`${op}: repeated axis in [${list.join(', ')}]`);
  return list.sort((p, q) => p - q);
}

/** [outer, n, inner] around one axis. */
function split3(shape: Shape, axis: number): [number, number, number] {
  return [numel(shape.slice(0, axis)), shape[axis], numel(shape.slice(axis + 1))];
}

/** Sum over the given axes (all by default). */
export function sum(x: Tensor, axis?: number | number[], keepdim = false): Tensor {
  assertFloat('sum', x);
  const axes = axesOf('sum', x, axis);
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  let cur = x.view();
  let curShape = [...x.shape];
  for (const a of axes) {  // one axis at a time; each pass shrinks the data
    const [outer, n, inner] = split3(curShape, a);
    curShape[a] = 1;
    const next = empty(curShape, x.dtype, x.device);
    runKernel('sum_axis', [next], [cur], [outer, n, inner]);
    cur.dispose();
    cur = next;
  }
  const outShape = keepdim ? keptShape : x.shape.filter((_, i) => !axes.includes(i));
  const out = cur.view(outShape);
  cur.dispose();
  return record1('sum', [x], out, [], (g) => [broadcastTo(reshape(g, keptShape), x.shape)]);
}

/** Mean over the given axes (all by default). */
export function mean(x: Tensor, axis?: number | number[], keepdim = false): Tensor {
  const axes = axesOf('mean', x, axis);
  const n = numel(axes.map((a) => x.shape[a]));
  return mul(sum(x, axes, keepdim), 1 / n);
}

/**
 * Max over one axis: values and the (first) argmax as int32. The gradient flows to the argmax only.
 */
export function max(x: Tensor, axis: number, keepdim = false): { values: Tensor; indices: Tensor } {
  assertFloat('max', x);
  const a = normAxis('max', axis, x.ndim);
  const [outer, n, inner] = split3(x.shape, a);
  if (n === 0) throw new RangeError(`max: axis ${axis} of ${shapeStr(x.shape)} is empty`);
  const outShape = keepdim ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a);
  const values = empty(outShape, x.dtype, x.device);
  const indices = empty(outShape, 'int32', x.device);
  runKernel('max_axis', [values, indices], [x], [outer, n, inner]);
  record('max', [x], [values, indices], [indices], ([g], [idx]) => {
    const dx = empty(x.shape, x.dtype, x.device);
    runKernel('max_axis_backward', [dx], [g!, idx], [outer, n, inner]);
    return [dx];
  });
  indices.requiresGrad = false;
  return { values, indices };
}

/** Reads x as the larger shape `shape` (NumPy broadcasting). */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  if (sameShape(x.shape, shape)) return x.view();
  if (x.ndim > shape.length || x.shape.some((d, i) => d !== 1 && d !== shape[shape.length - x.ndim + i])) {
    throw new RangeError(`broadcastTo: cannot broadcast ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
  }
  const out = empty(shape, x.dtype, x.device);
  runKernel('broadcast_to', [out], [x], [shape.length, ...shape, ...broadcastStrides(x.shape, shape)]);
  return record1('broadcastTo', [x], out, [], (g) => [sumTo(g, x.shape)]);
}

/** Sums a gradient of a broadcast result back to the shape of the input that was broadcast. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  const s = sum(g, axes, true);
  const out = reshape(s, shape);
  s.dispose();
  return out;
}
