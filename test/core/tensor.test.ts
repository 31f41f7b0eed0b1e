// Tensors: creation, dtypes, seeded randomness, item/toArray, errors that name op and shapes.
import { describe, it, expect } from 'vitest';
import {
  zeros, ones, full, arange, rand, randn, randint, fromArray, tensor, scalar, manualSeed, Generator,
  add, mul, sub, div, exp, relu, sum, mean, broadcastTo, reshape, flatten, squeeze, unsqueeze, cast,
} from '../../src/index.js';

describe('creation', () => {
  it('zeros / ones / full / arange / tensor', () => {
    expect(zeros([2, 3]).toArray()).toEqual([0, 0, 0, 0, 0, 0]);
    expect(ones([2]).toArray()).toEqual([1, 1]);
    expect(full([2, 2], 7, { dtype: 'int32' }).toArray()).toEqual([7, 7, 7, 7]);
    expect(arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.device).toBe('cpu');
    expect(scalar(3).shape).toEqual([]);
    expect(scalar(3).item()).toBe(3);
  });

  it('keeps float32 rounding, float64 precision and int32 checks', () => {
    expect(fromArray([0.1]).item()).toBe(Math.fround(0.1));
    expect(fromArray([0.1], [1], { dtype: 'float64' }).item()).toBe(0.1);
    expect(() => fromArray([1.5], [1], { dtype: 'int32' })).toThrow(/1.5 at index 0 is not an int32/);
    expect(() => fromArray([1, 2, 3], [2, 2])).toThrow(/3 values cannot have shape \[2, 2\]/);
    expect(() => tensor([[1, 2], [3]] as never)).toThrow(/ragged/);
    expect(() => zeros([2, -1])).toThrow(/invalid shape \[2, -1\]/);
  });

  it('is reproducible: the same seed gives the same numbers', () => {
    manualSeed(42);
    const a = randn([100]).toArray();
    manualSeed(42);
    const b = randn([100]).toArray();
    expect(a).toEqual(b);
    const g1 = new Generator(7), g2 = new Generator(7);
    expect(rand([50], { generator: g1 }).toArray()).toEqual(rand([50], { generator: g2 }).toArray());
    expect(rand([50], { generator: new Generator(8) }).toArray()).not.toEqual(rand([50], { generator: new Generator(7) }).toArray());
  });

  it('draws plausible distributions', () => {
    const g = new Generator(1);
    const n = randn([100_000], { generator: g, dtype: 'float64' }).toArray();
    const m = n.reduce((s, v) => s + v, 0) / n.length;
    const v = n.reduce((s, x) => s + (x - m) ** 2, 0) / n.length;
    expect(Math.abs(m)).toBeLessThan(0.02);     // σ/√n ≈ 0.003
    expect(Math.abs(v - 1)).toBeLessThan(0.03);
    const u = rand([100_000], { generator: g, lo: -2, hi: 3 }).toArray();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThan(3);
    const ints = randint(0, 5, [1000], { generator: g }).toArray();
    expect(new Set(ints)).toEqual(new Set([0, 1, 2, 3, 4]));
  });

  it('generator state round-trips (for exact resume)', () => {
    const g = new Generator(3);
    g.normal();                          // leaves a spare normal inside
    const state = g.getState();
    const a = [g.normal(), g.random(), g.nextUint32()];
    g.setState(state);
    expect([g.normal(), g.random(), g.nextUint32()]).toEqual(a);
  });
});

describe('elementwise and reductions: golden values', () => {
  it('broadcasts like NumPy', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    const b = tensor([10, 20, 30]);
    expect(add(a, b).toArray()).toEqual([11, 22, 33, 14, 25, 36]);
    expect(mul(a, tensor([[2], [3]])).toArray()).toEqual([2, 4, 6, 12, 15, 18]);
    expect(sub(b, a).shape).toEqual([2, 3]);
    expect(div(a, 2).toArray()).toEqual([0.5, 1, 1.5, 2, 2.5, 3]);
    expect(relu(tensor([-1, 0, 2])).toArray()).toEqual([0, 0, 2]);
    expect(exp(scalar(0)).item()).toBe(1);
    expect(broadcastTo(tensor([[1], [2]]), [2, 3]).toArray()).toEqual([1, 1, 1, 2, 2, 2]);
  });

  it('reduces over axes with and without keepdim', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(sum(a).item()).toBe(21);
    expect(sum(a, 0).toArray()).toEqual([5, 7, 9]);
    expect(sum(a, 1, true).shape).toEqual([2, 1]);
    expect(mean(a, -1).toArray()).toEqual([2, 5]);
    expect(sum(a, [0, 1]).shape).toEqual([]);
  });

  it('reshapes without copying and checks sizes', () => {
    const a = arange(6);
    const b = reshape(a, [2, -1]);
    expect(b.shape).toEqual([2, 3]);
    expect(b.storage).toBe(a.storage);
    expect(flatten(reshape(a, [1, 2, 3]), 1).shape).toEqual([1, 6]);
    expect(squeeze(reshape(a, [1, 6, 1])).shape).toEqual([6]);
    expect(unsqueeze(a, -1).shape).toEqual([6, 1]);
    expect(() => reshape(a, [4, -1])).toThrow(/reshape: cannot reshape \[6\] \(6 elements\) into \[4, -1\]/);
    expect(cast(tensor([1.7, -2.2]), 'int32').toArray()).toEqual([1, -2]);
  });

  it('errors name the op, the shapes and the dtypes', () => {
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow(/add: shapes \[2, 3\] and \[4\] cannot be broadcast together/);
    expect(() => mul(zeros([2]), zeros([2], { dtype: 'float64' }))).toThrow(/mul: dtypes differ \(float32\[2\], float64\[2\]\)/);
    expect(() => exp(zeros([2], { dtype: 'int32' }))).toThrow(/exp: expected a float tensor, got int32\[2\]/);
    expect(() => sum(zeros([2, 3]), 2)).toThrow(/sum: axis 2 is out of range for a tensor of rank 2/);
    expect(() => zeros([2]).to('nonexistent')).toThrow(/unknown device 'nonexistent'/);
  });

  it('a disposed tensor cannot be used', () => {
    const a = ones([2]);
    a.dispose();
    expect(() => add(a, a)).toThrow(/used after dispose/);
  });
});
