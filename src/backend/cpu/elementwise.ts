/**
 * CPU reference kernels for the elementwise set. Plain loops; the readable spec of the device
 * kernels. Forward and backward of each activation sit together.
 */
import { registerCpuKernel } from './device.js';
import type { FloatArray, TypedArray } from '../../dtype.js';

// ---------------------------------------------------------------------------------------------
// Binary ops with NumPy broadcasting.
// ints = [ndim, ...outShape, ...aStrides, ...bStrides]; a stride of 0 repeats that input along
// the dimension. The innermost dimension runs as a tight loop; an odometer walks the others.
// ---------------------------------------------------------------------------------------------
type BinaryFn = (x: number, y: number) => number;

function binaryBroadcast(out: TypedArray, a: TypedArray, b: TypedArray, ints: number[], f: BinaryFn): void {
  const nd = ints[0];
  if (nd === 0) { out[0] = f(a[0], b[0]); return; }
  const shape = ints.slice(1, 1 + nd), sa = ints.slice(1 + nd, 1 + 2 * nd), sb = ints.slice(1 + 2 * nd, 1 + 3 * nd);
  const inner = shape[nd - 1], ia = sa[nd - 1], ib = sb[nd - 1];
  const rows = inner === 0 ? 0 : out.length / inner;
  const idx = new Array<number>(nd - 1).fill(0);
  let offA = 0, offB = 0, o = 0;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < inner; j++) out[o++] = f(a[offA + j * ia], b[offB + j * ib]);
    // odometer over the outer dimensions
    for (let d = nd - 2; d >= 0; d--) {
      offA += sa[d]; offB += sb[d];
      if (++idx[d] < shape[d]) break;
      offA -= sa[d] * shape[d]; offB -= sb[d] * shape[d]; idx[d] = 0;
    }
  }
}

/** Same shape on both sides: one flat loop per op (the common, fast case). */
function isFlat(ints: number[], n: number): boolean {
  const nd = ints[0];
  if (nd === 0) return true;
  let s = 1;
  for (let d = nd - 1; d >= 0; d--) {
    if (ints[1 + nd + d] !== s || ints[1 + 2 * nd + d] !== s) return false;
    s *= ints[1 + d];
  }
  return s === n;
}

registerCpuKernel('add', ([out], [a, b], ints) => {
  if (!isFlat(ints, out.length)) return binaryBroadcast(out, a, b, ints, (x, y) => x + y);
  for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i];
});
registerCpuKernel('sub', ([out], [a, b], ints) => {
  if (!isFlat(ints, out.length)) return binaryBroadcast(out, a, b, ints, (x, y) => x - y);
  for (let i = 0; i < out.length; i++) out[i] = a[i] - b[i];
});
registerCpuKernel('mul', ([out], [a, b], ints) => {
  if (!isFlat(ints, out.length)) return binaryBroadcast(out, a, b, ints, (x, y) => x * y);
  for (let i = 0; i < out.length; i++) out[i] = a[i] * b[i];
});
registerCpuKernel('div', ([out], [a, b], ints) => {
  if (!isFlat(ints, out.length)) return binaryBroadcast(out, a, b, ints, (x, y) => x / y);
  for (let i = 0; i < out.length; i++) out[i] = a[i] / b[i];
});
registerCpuKernel('pow', ([out], [a, b], ints) => binaryBroadcast(out, a, b, ints, Math.pow));
registerCpuKernel('maximum', ([out], [a, b], ints) => binaryBroadcast(out, a, b, ints, Math.max));
registerCpuKernel('minimum', ([out], [a, b], ints) => binaryBroadcast(out, a, b, ints, Math.min));

// ---------------------------------------------------------------------------------------------
// Fill, copy, affine (x·scale + shift: the scalar versions of add/sub/mul/div), pow by a scalar.
// ---------------------------------------------------------------------------------------------
registerCpuKernel('fill', ([out], _ins, _ints, [value]) => { out.fill(value); });
registerCpuKernel('copy', ([out], [x]) => { out.set(x); });
registerCpuKernel('cast', ([out], [x]) => {
  if (out instanceof Int32Array) for (let i = 0; i < x.length; i++) out[i] = Math.trunc(x[i]);
  else out.set(x);
});
registerCpuKernel('affine', ([out], [x], _ints, [scale, shift]) => {
  for (let i = 0; i < out.length; i++) out[i] = x[i] * scale + shift;
});
registerCpuKernel('pow_scalar', ([out], [x], _ints, [p]) => {
  if (p === 2) for (let i = 0; i < out.length; i++) out[i] = x[i] * x[i];
  else for (let i = 0; i < out.length; i++) out[i] = Math.pow(x[i], p);
});
// d/dx x^p = p·x^(p-1)
registerCpuKernel('pow_scalar_backward', ([dx], [g, x], _ints, [p]) => {
  for (let i = 0; i < dx.length; i++) dx[i] = g[i] * p * Math.pow(x[i], p - 1);
});

// ---------------------------------------------------------------------------------------------
// Unary activations: forward y = f(x); backward dx = g · f'(·), reading x or y, whichever the
// derivative is cheapest in (tanh and sigmoid from y, the rest from x).
// ---------------------------------------------------------------------------------------------
function unary(name: string, f: (x: number) => number): void {
  registerCpuKernel(name, ([out], [x]) => { for (let i = 0; i < out.length; i++) out[i] = f(x[i]); });
}
function unaryBackward(name: string, df: (g: number, v: number) => number): void {
  registerCpuKernel(`${name}_backward`, ([dx], [g, v]) => { for (let i = 0; i < dx.length; i++) dx[i] = df(g[i], v[i]); });
}

unary('neg', (x) => -x);
unary('exp', Math.exp);                        // backward: g·y            (composed in ops/)
unary('log', Math.log);                        // backward: g / x          (composed in ops/)
unary('sqrt', Math.sqrt);                      // backward: g / (2y)       (composed in ops/)
unary('abs', Math.abs);
unaryBackward('abs', (g, x) => (x > 0 ? g : x < 0 ? -g : 0));
unary('sign', Math.sign);

unary('tanh', Math.tanh);
unaryBackward('tanh', (g, y) => g * (1 - y * y));          // reads y

export const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
unary('sigmoid', sigmoid);
unaryBackward('sigmoid', (g, y) => g * y * (1 - y));      // reads y

unary('relu', (x) => (x > 0 ? x : 0));
unaryBackward('relu', (g, x) => (x > 0 ? g : 0));

// GELU, exact (PyTorch's default): x·Φ(x), Φ the standard normal CDF.
const SQRT1_2 = Math.SQRT1_2, INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
unary('gelu', (x) => 0.5 * x * (1 + erf(x * SQRT1_2)));
unaryBackward('gelu', (g, x) => g * (0.5 * (1 + erf(x * SQRT1_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x)));

// SiLU (swish): x·σ(x); derivative σ(x)·(1 + x·(1 − σ(x))).
unary('silu', (x) => x * sigmoid(x));
unaryBackward('silu', (g, x) => { const s = sigmoid(x); return g * s * (1 + x * (1 - s)); });

// Softplus as PyTorch (beta 1, threshold 20): log(1 + eˣ), and x itself above 20.
export const softplus = (x: number) => (x > 20 ? x : Math.log1p(Math.exp(x)));
unary('softplus', softplus);
unaryBackward('softplus', (g, x) => (x > 20 ? g : g * sigmoid(x)));

/**
 * erf(x) to about 1e-15 relative: Maclaurin series for |x| < 2.5, Lentz's continued fraction for
 * erfc beyond (JS has no Math.erf).
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // erf x = 2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1))
    let term = ax, sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * sum * 2 / Math.sqrt(Math.PI);
  }
  // erfc x = e^(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …))))
  let f = ax, c = ax, d = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    d = ax + an * d; d = 1 / d;
    c = ax + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

// ---------------------------------------------------------------------------------------------
// where(cond, a, b) with broadcasting: ints as for binary ops, plus the condition's strides.
// ---------------------------------------------------------------------------------------------
registerCpuKernel('where', ([out], [cond, a, b], ints) => {
  const nd = ints[0];
  if (nd === 0) { out[0] = cond[0] !== 0 ? a[0] : b[0]; return; }
  const shape = ints.slice(1, 1 + nd);
  const sc = ints.slice(1 + nd, 1 + 2 * nd), sa = ints.slice(1 + 2 * nd, 1 + 3 * nd), sb = ints.slice(1 + 3 * nd, 1 + 4 * nd);
  // innermost dimension as a tight loop, an odometer over the others (as binaryBroadcast)
  const inner = shape[nd - 1], ic = sc[nd - 1], ia = sa[nd - 1], ib = sb[nd - 1];
  const rows = inner === 0 ? 0 : out.length / inner;
  const idx = new Array<number>(nd - 1).fill(0);
  let offC = 0, offA = 0, offB = 0, o = 0;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < inner; j++) out[o++] = cond[offC + j * ic] !== 0 ? a[offA + j * ia] : b[offB + j * ib];
    for (let d = nd - 2; d >= 0; d--) {
      offC += sc[d]; offA += sa[d]; offB += sb[d];
      if (++idx[d] < shape[d]) break;
      offC -= sc[d] * shape[d]; offA -= sa[d] * shape[d]; offB -= sb[d] * shape[d]; idx[d] = 0;
    }
  }
});

/** Comparisons produce 0/1 in the output dtype (masks for where/masked_fill). */
registerCpuKernel('greater', ([out], [a, b], ints) => binaryBroadcast(out, a, b, ints, (x, y) => (x > y ? 1 : 0)));
registerCpuKernel('equal', ([out], [a, b], ints) => binaryBroadcast(out, a, b, ints, (x, y) => (x === y ? 1 : 0)));

export type { FloatArray };
