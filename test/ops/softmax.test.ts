// softmax / logSoftmax: golden values, rows summing to 1, stability for huge logits, other axes,
// gradients against the closed forms, errors.
import { describe, it, expect } from 'vitest';
import { fromArray, tensor, randn, sum, mul, softmax, logSoftmax, transpose, Generator } from '../../src/index.js';

const f64 = { dtype: 'float64' as const };
// softmax([1, 2, 3]) = [e, e², e³] / (e + e² + e³); log Σ = 3 + log(1 + e⁻¹ + e⁻²) = 3.40760596444438
const SM = [0.09003057317038046, 0.24472847105479764, 0.6652409557748219];
const LSM = [-2.40760596444438, -1.40760596444438, -0.40760596444438];

function close(actual: number[], expected: number[], digits: number): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i], digits));
}

describe('softmax', () => {
  it('matches the formula', () => {
    close(softmax(tensor([1, 2, 3], f64)).toArray(), SM, 14);
    close(softmax(tensor([[1, 2, 3], [0, 0, 0]])).toArray(), [...SM, 1 / 3, 1 / 3, 1 / 3], 6);
  });

  it('rows sum to 1', () => {
    const y = softmax(randn([16, 113], { generator: new Generator(3), std: 4 }));
    const v = y.toArray();
    for (let r = 0; r < 16; r++) {
      let s = 0;
      for (let j = 0; j < 113; j++) { s += v[r * 113 + j]; expect(v[r * 113 + j]).toBeGreaterThanOrEqual(0); }
      expect(s).toBeCloseTo(1, 5);
    }
  });

  it('is stable for logits like 1000 (shift invariance) and −∞ entries', () => {
    close(softmax(tensor([1001, 1002, 1003])).toArray(), SM, 6);
    close(softmax(tensor([-1000, -999, -998])).toArray(), SM, 6);
    expect(softmax(tensor([1000, -Infinity])).toArray()).toEqual([1, 0]);
  });

  it('works along another axis (the permute path)', () => {
    const x = tensor([[1, 0], [2, 0], [3, 0]]);          // columns: [1, 2, 3] and [0, 0, 0]
    const y = softmax(x, 0);
    expect(y.shape).toEqual([3, 2]);
    close(y.toArray(), [SM[0], 1 / 3, SM[1], 1 / 3, SM[2], 1 / 3], 6);
    close(y.toArray(), transpose(softmax(transpose(x, 0, 1)), 0, 1).toArray(), 7);
  });

  it('backward: dx = y ⊙ (g − Σ g⊙y)', () => {
    const x = fromArray([1, 2, 3], [3], f64).requiresGrad_();
    const g = [1, -2, 0.5];
    sum(mul(softmax(x), fromArray(g, [3], f64))).backward();
    const dot = SM[0] * g[0] + SM[1] * g[1] + SM[2] * g[2];
    close(x.grad!.toArray(), SM.map((y, j) => y * (g[j] - dot)), 14);
  });

  it('names the op in errors', () => {
    expect(() => softmax(tensor([1, 2]), 1)).toThrow(/softmax: axis 1 is out of range for a tensor of rank 1/);
    expect(() => softmax(fromArray([1, 2], [2], { dtype: 'int32' }))).toThrow(/softmax: expected a float tensor, got int32\[2\]/);
    expect(() => softmax(fromArray([1], []))).toThrow(/softmax: input must have at least one dimension/);
  });
});

describe('logSoftmax', () => {
  it('matches the formula, stably', () => {
    close(logSoftmax(tensor([1, 2, 3], f64)).toArray(), LSM, 13);
    close(logSoftmax(tensor([1001, 1002, 1003], f64)).toArray(), LSM, 11);
    const big = logSoftmax(tensor([1000, 0])).toArray();
    expect(big[0]).toBe(0);
    expect(big[1]).toBe(-1000);                          // log(softmax) would give −∞ here
  });

  it('equals log(softmax) along axis 1 of a 3-D tensor', () => {
    const x = randn([2, 5, 3], { generator: new Generator(5), dtype: 'float64' });
    const a = logSoftmax(x, 1).toArray(), b = softmax(x, 1).toArray().map(Math.log);
    close(a, b, 12);
  });

  it('backward: dx = g − softmax ⊙ Σ g', () => {
    const x = fromArray([1, 2, 3], [3], f64).requiresGrad_();
    const g = [1, -2, 0.5];
    sum(mul(logSoftmax(x), fromArray(g, [3], f64))).backward();
    const s = g[0] + g[1] + g[2];
    close(x.grad!.toArray(), g.map((gj, j) => gj - SM[j] * s), 14);
  });
});
