/**
 * softmax and logSoftmax over one axis (default the last). The kernels run along the last axis,
 * x viewed as [rows, n]; another axis is moved last by a permute and back afterwards (both
 * recorded, so the gradient flows through them). Each has a dedicated backward kernel reading y.
 */
import type { Tensor } from '../tensor.js';
import { empty } from '../creation.js';
import { runKernel } from '../dispatch/dispatch.js';
import { record1 } from '../autograd/node.js';
import { normAxis } from '../util/shape.js';
import { transpose } from './layout.js';
import { assertFloat } from './util.js';

function alongAxis(op: string, kernel: string, x: Tensor, axis: number): Tensor {
  assertFloat(op, x);
  if (x.ndim === 0) throw new RangeError(`${op}: input must have at least one dimension, got a scalar`);
  const a = normAxis(op, axis, x.ndim);
  const last = x.ndim - 1;
  if (a !== last) {
    // move the axis last, run, move it back (the intermediates belong to the graph only)
    const xt = transpose(x, a, last);
    const yt = alongAxis(op, kernel, xt, last);
    const y = transpose(yt, a, last);
    xt.dispose(); yt.dispose();
    return y;
  }
  const n = x.shape[last], rows = n === 0 ? 0 : x.size / n;
  const y = empty(x.shape, x.dtype, x.device);
  runKernel(kernel, [y], [x], [rows, n]);
  return record1(op, [x], y, [y], (g, [y_]) => {
    const dx = empty(x.shape, g.dtype, g.device);
    runKernel(`${kernel}_backward`, [dx], [g, y_], [rows, n]);
    return [dx];
  });
}

/** exp(x) / Σ exp(x) along `axis`, computed stably (the row max is subtracted first). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return alongAxis('softmax', 'softmax', x, axis);
}

/** x − log Σ exp(x) along `axis`, stably; use it (or crossEntropy) rather than log(softmax(x)). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return alongAxis('logSoftmax', 'log_softmax', x, axis);
}
