/**
 * Indexing: indexSelect (embedding lookups), gather (torch.gather), where, maskedFill.
 * Integer indices are int32 and checked on the host before any kernel runs (on a device that
 * reads them back), so an out-of-range index is an error naming the op, the value and the valid
 * range, never a silent out-of-bounds read. The backwards scatter-add into zeros in a fixed order.
 */
import type { Tensor } from '../tensor.js';
import { empty, full } from '../creation.js';
import { runKernel } from '../dispatch/dispatch.js';
import { record1 } from '../autograd/node.js';
import { broadcastShapes, broadcastStrides, normAxis, numel, sameShape, shapeStr, stridesOf, type Shape } from '../util/shape.js';
import { sumTo } from './reduce.js';
import { assertSameDevice, assertSameDtype, hostValues } from './util.js';


function assertInt32(op: string, t: Tensor, name: string): void {
  if (t.dtype !== 'int32') throw new TypeError(`${op}: ${name} must be int32, got ${t.dtype}${shapeStr(t.shape)}`);
}

/** Every index in [0, n); the error names the value, its flat position and the range. */
function checkRange(op: string, index: Tensor, n: number, axis: number, x: Tensor): void {
  const v = hostValues(index);
  for (let i = 0; i < v.length; i++) {
    if (v[i] < 0 || v[i] >= n) {
      throw new RangeError(`${op}: index ${v[i]} at position ${i} is out of range [0, ${n}) for axis ${axis} of input ${shapeStr(x.shape)}`);
    }
  }
}

// ---- indexSelect -------------------------------------------------------------------------------

/**
 * Picks entries along `axis` (torch.index_select): out.shape = x.shape with the axis replaced by
 * indices.length; indices int32 1-D, repeats allowed. An embedding lookup is
 * indexSelect(weight [V, D], 0, ids [T]) → [T, D]. Backward: index_add of g into zeros.
 */
export function indexSelect(x: Tensor, axis: number, indices: Tensor): Tensor {
  assertSameDevice('indexSelect', x, indices);
  assertInt32('indexSelect', indices, 'indices');
  if (indices.ndim !== 1) throw new RangeError(`indexSelect: indices must be 1-D, got shape ${shapeStr(indices.shape)}`);
  const a = normAxis('indexSelect', axis, x.ndim);
  const n = x.shape[a], k = indices.size;
  checkRange('indexSelect', indices, n, a, x);
  const outer = numel(x.shape.slice(0, a)), inner = numel(x.shape.slice(a + 1));
  const out = empty([...x.shape.slice(0, a), k, ...x.shape.slice(a + 1)], x.dtype, x.device);
  const ints = [outer, n, inner, k];
  runKernel('index_select', [out], [x, indices], ints);
  return record1('indexSelect', [x], out, [indices], (g, [idx]) => {
    const dx = empty(x.shape, g.dtype, g.device);
    runKernel('index_select_backward', [dx], [g, idx], ints);
    return [dx];
  });
}

// ---- gather ------------------------------------------------------------------------------------

/**
 * torch.gather: out has index's shape and out[…, j, …] = x[…, index[…, j, …], …] along `axis`
 * (every other coordinate is the output's own). index is int32 of x's rank with
 * index.shape[d] ≤ x.shape[d] for d ≠ axis. Backward: scatter-add of g into zeros.
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  assertSameDevice('gather', x, index);
  assertInt32('gather', index, 'index');
  const a = normAxis('gather', axis, x.ndim);
  if (index.ndim !== x.ndim || index.shape.some((d, i) => i !== a && d > x.shape[i])) {
    throw new RangeError(`gather: index ${shapeStr(index.shape)} must have the rank of input ${shapeStr(x.shape)} and no larger dimension except along axis ${axis}`);
  }
  checkRange('gather', index, x.shape[a], a, x);
  const xStrides = stridesOf(x.shape);
  const strides = xStrides.map((s, d) => (d === a ? 0 : s));
  const ints = [x.ndim, ...index.shape, ...strides, xStrides[a]];
  const out = empty(index.shape, x.dtype, x.device);
  runKernel('gather', [out], [x, index], ints);
  return record1('gather', [x], out, [index], (g, [idx]) => {
    const dx = empty(x.shape, g.dtype, g.device);
    runKernel('gather_backward', [dx], [g, idx], ints);
    return [dx];
  });
}

// ---- where / maskedFill ------------------------------------------------------------------------

/** The 'where' kernel: ints = [ndim, ...outShape, ...condStrides, ...aStrides, ...bStrides]. */
function whereKernel(cond: Tensor, a: Tensor, b: Tensor, shape: Shape): Tensor {
  const out = empty(shape, a.dtype, a.device);
  runKernel('where', [out], [cond, a, b], [shape.length, ...shape,
    ...broadcastStrides(cond.shape, shape), ...broadcastStrides(a.shape, shape), ...broadcastStrides(b.shape, shape)]);
  return out;
}

/**
 * a where cond is nonzero, else b; cond (float or int32), a and b broadcast together (NumPy rules).
 * a or b may be a number. The gradient goes to a where cond holds and to b elsewhere, each summed
 * back over its broadcast dimensions; cond gets none.
 */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const like = typeof a !== 'number' ? a : typeof b !== 'number' ? b : null;
  const opts = { dtype: like?.dtype ?? 'float32', device: like?.device ?? cond.device } as const;
  const ta = typeof a === 'number' ? full([], a, opts) : a;
  const tb = typeof b === 'number' ? full([], b, opts) : b;
  assertSameDevice('where', cond, ta, tb);
  assertSameDtype('where', ta, tb);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, ta.shape), tb.shape);
  const out = whereKernel(cond, ta, tb, shape);
  if (ta !== a) ta.dispose();
  if (tb !== b) tb.dispose();
  const branches: [Tensor, 'a' | 'b'][] = [];
  if (typeof a !== 'number') branches.push([a, 'a']);
  if (typeof b !== 'number') branches.push([b, 'b']);
  if (branches.length === 0) return out;
  return record1('where', branches.map(([t]) => t), out, [cond], (g, [c]) => {
    const zero = full([], 0, { dtype: g.dtype, device: g.device });
    return branches.map(([t, side]) => (!t.requiresGrad ? null
      : sumTo(side === 'a' ? whereKernel(c, g, zero, g.shape) : whereKernel(c, zero, g, g.shape), t.shape)));
  });
}

/**
 * x with `value` wherever mask is nonzero (torch.masked_fill); mask (float or int32) broadcasts to
 * x's shape. The gradient is g where the mask is zero, and zero where the value was filled in.
 */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  assertSameDevice('maskedFill', x, mask);
  const shape = broadcastShapes('maskedFill', mask.shape, x.shape);
  if (!sameShape(shape, x.shape)) throw new RangeError(`maskedFill: mask ${shapeStr(mask.shape)} does not broadcast to input ${shapeStr(x.shape)}`);
  const v = full([], value, { dtype: x.dtype, device: x.device });
  const out = whereKernel(mask, v, x, x.shape);
  v.dispose();
  return record1('maskedFill', [x], out, [mask], (g, [m]) => {
    const zero = full([], 0, { dtype: g.dtype, device: g.device });
    return [whereKernel(m, zero, g, g.shape)];
  });
}
