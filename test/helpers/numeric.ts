// Numeric helpers shared by the op and module tests.
import { expect } from 'vitest';
import { fromArray, type Generator, type Tensor } from '../../src/index.js';

type FloatDType = 'float32' | 'float64';

/** A tensor of values uniform in [lo, hi), float64 unless said. */
export function uniform(gen: Generator, shape: number[], lo = -1, hi = 1, dtype: FloatDType = 'float64'): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return fromArray(Array.from({ length: n }, () => gen.uniform(lo, hi)), shape, { dtype });
}

/** Uniform in [-1, 1). */
export function rnd(gen: Generator, shape: number[], dtype: FloatDType = 'float64'): Tensor {
  return uniform(gen, shape, -1, 1, dtype);
}

/** max |a − b| over two equally long tensors or arrays (the lengths are asserted equal). */
export function maxDiff(a: Tensor | ArrayLike<number>, b: Tensor | ArrayLike<number>): number {
  const x = toNumbers(a), y = toNumbers(b);
  expect(x.length).toBe(y.length);
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return d;
}

function toNumbers(v: Tensor | ArrayLike<number>): ArrayLike<number> {
  return 'isTensor' in (v as object) ? (v as Tensor).toArray() : (v as ArrayLike<number>);
}
