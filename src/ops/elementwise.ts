/**
 * Elementwise ops. Binary ops broadcast like NumPy; their backward sums the gradient back over
 * the broadcast dimensions (sumTo). A number operand becomes an `affine` kernel (x·a + b), so
 * `mul(x, 2)` or `add(x, 1)` never allocate a scalar tensor.
 */
import type { Tensor } from '../tensor.js';
import { empty } from '../creation.js';
import { runKernel } from '../dispatch/dispatch.js';
import { record1 } from '../autograd/node.js';
import { broadcastShapes, broadcastStrides } from '../util/shape.js';
import { sumTo } from './reduce.js';
import { assertFloat, assertSameDtype, assertSameDevice } from './util.js';

// ---- binary ------------------------------------------------------------------------------------

/** Runs a broadcasting binary kernel; ints = [ndim, ...outShape, ...aStrides, ...bStrides]. */
export function binaryKernel(kernel: string, a: Tensor, b: Tensor, outDtype = a.dtype): Tensor {
  assertSameDevice(kernel, a, b);
  assertSameDtype(kernel, a, b);
  const shape = broadcastShapes(kernel, a.shape, b.shape);
  const out = empty(shape, outDtype, a.device);
  runKernel(kernel, [out], [a, b], [shape.length, ...shape, ...broadcastStrides(a.shape, shape), ...broadcastStrides(b.shape, shape)]);
  return out;
}

function affine(x: Tensor, scale: number, shift: number): Tensor {
  assertFloat('affine', x);
  const out = empty(x.shape, x.dtype, x.device);
  runKernel('affine', [out], [x], [], [scale, shift]);
  return record1('affine', [x], out, [], (g) => [scale === 1 ? g : affine(g, scale, 0)]);
}

/** a + b */
export function add(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, 1, b);
  const out = binaryKernel('add', a, b);
  return record1('add', [a, b], out, [], (g) => [sumTo(g, a.shape), sumTo(g, b.shape)]);
}

/** a − b */
export function sub(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, 1, -b);
  const out = binaryKernel('sub', a, b);
  return record1('sub', [a, b], out, [], (g) => [sumTo(g, a.shape), sumTo(neg(g), b.shape)]);
}

/** a · b (elementwise) */
export function mul(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, b, 0);
  const out = binaryKernel('mul', a, b);
  // d(ab)/da = b, d(ab)/db = a
  return record1('mul', [a, b], out, [a, b], (g, [a_, b_]) => [
    a.requiresGrad ? sumTo(mul(g, b_), a.shape) : null,
    b.requiresGrad ? sumTo(mul(g, a_), b.shape) : null,
  ]);
}

/** a / b */
export function div(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, 1 / b, 0);
  const out = binaryKernel('div', a, b);
  // d(a/b)/da = 1/b, d(a/b)/db = −a/b²
  return record1('div', [a, b], out, [a, b], (g, [a_, b_]) => [
    a.requiresGrad ? sumTo(div(g, b_), a.shape) : null,
    b.requiresGrad ? sumTo(neg(div(mul(g, a_), mul(b_, b_))), b.shape) : null,
  ]);
}

/** aᵇ; b a number (fast path) or a tensor (then a must be positive where b's gradient is needed). */
export function pow(a: Tensor, b: Tensor | number): Tensor {
  assertFloat('pow', a);
  if (typeof b === 'number') {
    const out = empty(a.shape, a.dtype, a.device);
    runKernel('pow_scalar', [out], [a], [], [b]);
    return record1('pow', [a], out, [a], (g, [a_]) => {
      const dx = empty(a.shape, a.dtype, a.device);
      runKernel('pow_scalar_backward', [dx], [g, a_], [], [b]);   // g·b·a^(b−1)
      return [dx];
    });
  }
  const out = binaryKernel('pow', a, b);
  // d(aᵇ)/da = b·a^(b−1) = b·out/a ; d(aᵇ)/db = out·ln a
  return record1('pow', [a, b], out, [a, b, out], (g, [a_, b_, y]) => [
    a.requiresGrad ? sumTo(mul(g, mul(b_, pow(a_, sub(b_, 1)))), a.shape) : null,
    b.requiresGrad ? sumTo(mul(g, mul(y, log(a_))), b.shape) : null,
  ]);
}

/** Elementwise max; the gradient goes to a where a ≥ b, else to b. */
export function maximum(a: Tensor, b: Tensor): Tensor {
  const out = binaryKernel('maximum', a, b);
  return record1('maximum', [a, b], out, [a, b], (g, [a_, b_]) => {
    const gb = mul(g, binaryKernel('greater', b_, a_));   // g where b > a
    return [sumTo(sub(g, gb), a.shape), sumTo(gb, b.shape)];
  });
}

// ---- unary -------------------------------------------------------------------------------------

function unaryKernel(kernel: string, x: Tensor): Tensor {
  assertFloat(kernel, x);
  const out = empty(x.shape, x.dtype, x.device);
  runKernel(kernel, [out], [x]);
  return out;
}

/** Backward through a dedicated `<op>_backward` kernel reading the saved x or y. */
function unaryBackward(kernel: string, g: Tensor, v: Tensor): Tensor {
  const dx = empty(g.shape, g.dtype, g.device);
  runKernel(`${kernel}_backward`, [dx], [g, v]);
  return dx;
}

export function neg(x: Tensor): Tensor {
  const out = unaryKernel('neg', x);
  return record1('neg', [x], out, [], (g) => [neg(g)]);
}

export function exp(x: Tensor): Tensor {
  const y = unaryKernel('exp', x);
  return record1('exp', [x], y, [y], (g, [y_]) => [mul(g, y_)]);               // d eˣ = eˣ
}

export function log(x: Tensor): Tensor {
  const y = unaryKernel('log', x);
  return record1('log', [x], y, [x], (g, [x_]) => [div(g, x_)]);               // d ln x = 1/x
}

export function sqrt(x: Tensor): Tensor {
  const y = unaryKernel('sqrt', x);
  return record1('sqrt', [x], y, [y], (g, [y_]) => [div(g, mul(y_, 2))]);      // d √x = 1/(2√x)
}

export function abs(x: Tensor): Tensor {
  const y = unaryKernel('abs', x);
  return record1('abs', [x], y, [x], (g, [x_]) => [unaryBackward('abs', g, x_)]);
}

export function tanh(x: Tensor): Tensor {
  const y = unaryKernel('tanh', x);
  return record1('tanh', [x], y, [y], (g, [y_]) => [unaryBackward('tanh', g, y_)]);
}

export function sigmoid(x: Tensor): Tensor {
  const y = unaryKernel('sigmoid', x);
  return record1('sigmoid', [x], y, [y], (g, [y_]) => [unaryBackward('sigmoid', g, y_)]);
}

export function relu(x: Tensor): Tensor {
  const y = unaryKernel('relu', x);
  return record1('relu', [x], y, [x], (g, [x_]) => [unaryBackward('relu', g, x_)]);
}

/** Exact GELU, x·Φ(x) (PyTorch's default, not the tanh approximation). */
export function gelu(x: Tensor): Tensor {
  const y = unaryKernel('gelu', x);
  return record1('gelu', [x], y, [x], (g, [x_]) => [unaryBackward('gelu', g, x_)]);
}

/** SiLU / swish, x·σ(x) (Mamba's gate). */
export function silu(x: Tensor): Tensor {
  const y = unaryKernel('silu', x);
  return record1('silu', [x], y, [x], (g, [x_]) => [unaryBackward('silu', g, x_)]);
}

/** log(1 + eˣ), linear above 20 as PyTorch (Mamba's Δ). */
export function softplus(x: Tensor): Tensor {
  const y = unaryKernel('softplus', x);
  return record1('softplus', [x], y, [x], (g, [x_]) => [unaryBackward('softplus', g, x_)]);
}

/** Same-shape sum of many tensors (one kernel per term; used by accumulation). */
export function addN(ts: Tensor[]): Tensor {
  return ts.slice(1).reduce((acc, t) => add(acc, t), ts[0]);
}

/** Copy with a new element type (float ↔ int32); not differentiable through int32. */
export function cast(x: Tensor, dtype: Tensor['dtype']): Tensor {
  if (x.dtype === dtype) return x.view();
  const out = empty(x.shape, dtype, x.device);
  runKernel('cast', [out], [x]);
  return out;
}

/** A detached copy (own storage, no graph). */
export function clone(x: Tensor): Tensor {
  const out = empty(x.shape, x.dtype, x.device);
  runKernel('copy', [out], [x]);
  return record1('clone', [x], out, [], (g) => [g]);
}

/** A new handle without history: gradients stop here. */
export function detach(x: Tensor): Tensor {
  return x.view();
}

