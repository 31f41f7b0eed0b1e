// dropout: the mask is hashUniform(seed, i) ≥ p (reproducible for a seed, the same on every device),
// inverted scaling, keep fraction within a statistical bound, backward reuses the mask, edge p.
import { describe, it, expect } from 'vitest';
import { ones, fromArray, randn, sum, mul, dropout, Generator, manualSeed, defaultGenerator } from '../../src/index.js';
import { hashUniform } from '../../src/util/rng.js';

describe('dropout', () => {
  it('keeps element i iff hashUniform(seed, i) ≥ p and scales it by 1/(1 − p)', () => {
    const x = randn([1000], { generator: new Generator(1), dtype: 'float64' });
    const seed = 0xdeadbeef, p = 0.25;
    const y = dropout(x, p, { seed }).toArray(), xs = x.toArray();
    for (let i = 0; i < 1000; i++) expect(y[i]).toBe(hashUniform(seed, i) >= p ? xs[i] * (1 / (1 - p)) : 0);
  });

  it('is deterministic for a seed or a seeded generator, and differs across seeds', () => {
    const x = ones([4096]);
    const a = dropout(x, 0.5, { seed: 7 }).toArray(), b = dropout(x, 0.5, { seed: 7 }).toArray();
    expect(a).toEqual(b);
    expect(dropout(x, 0.5, { seed: 8 }).toArray()).not.toEqual(a);
    const g1 = new Generator(42), g2 = new Generator(42);
    expect(dropout(x, 0.5, { generator: g1 }).toArray()).toEqual(dropout(x, 0.5, { generator: g2 }).toArray());
    // successive calls draw new seeds: new masks
    expect(dropout(x, 0.5, { generator: g1 }).toArray()).not.toEqual(dropout(x, 0.5, { generator: new Generator(42) }).toArray());
    manualSeed(3);
    const d1 = dropout(x, 0.5).toArray();
    manualSeed(3);
    expect(dropout(x, 0.5).toArray()).toEqual(d1);
  });

  it('same mask in float32 and float64', () => {
    const m32 = dropout(ones([512]), 0.4, { seed: 11 }).toArray().map((v) => v !== 0);
    const m64 = dropout(ones([512], { dtype: 'float64' }), 0.4, { seed: 11 }).toArray().map((v) => v !== 0);
    expect(m32).toEqual(m64);
  });

  it('keeps a fraction 1 − p of 100k elements (within 5σ) and preserves the mean', () => {
    const n = 100_000, p = 0.3;
    const y = dropout(ones([n]), p, { generator: new Generator(2024) }).data;
    let kept = 0, total = 0;
    for (let i = 0; i < n; i++) { if (y[i] !== 0) kept++; total += y[i]; }
    // kept ~ Binomial(n, 1 − p): σ of the fraction = √(p(1 − p)/n) ≈ 0.00145
    expect(Math.abs(kept / n - (1 - p))).toBeLessThan(5 * Math.sqrt(p * (1 - p) / n));
    // survivors are 1/(1 − p): the mean is kept/n/(1 − p), within 5σ/(1 − p) of 1
    expect(Math.abs(total / n - 1)).toBeLessThan(5 * Math.sqrt(p * (1 - p) / n) / (1 - p));
    for (let i = 0; i < 100; i++) expect([0, Math.fround(1 / (1 - p))]).toContain(y[i]);
  });

  it('backward applies the same mask and scale', () => {
    const x = fromArray(new Float64Array(64).fill(3), [8, 8], { dtype: 'float64' }).requiresGrad_();
    const y = dropout(x, 0.5, { seed: 99 });
    sum(mul(y, 2)).backward();
    const yv = y.toArray(), gv = x.grad!.toArray();
    for (let i = 0; i < 64; i++) expect(gv[i]).toBe(yv[i] === 0 ? 0 : 2 * 2);   // 2 · 1/(1 − 0.5)
  });

  it('p = 0 and training = false are the identity (no seed drawn, gradient passes)', () => {
    const x = fromArray([1, 2, 3], [3], { dtype: 'float64' }).requiresGrad_();
    const g = new Generator(5);
    const state = g.getState();
    const y0 = dropout(x, 0, { generator: g }), ye = dropout(x, 0.9, { training: false, generator: g });
    expect(g.getState()).toEqual(state);
    expect(y0.storage).toBe(x.storage);
    expect(ye.toArray()).toEqual([1, 2, 3]);
    sum(mul(ye, fromArray([1, 2, 3], [3], { dtype: 'float64' }))).backward();
    expect(x.grad!.toArray()).toEqual([1, 2, 3]);
    expect(defaultGenerator).toBeDefined();
  });

  it('p = 1 gives zeros and a zero gradient', () => {
    const x = fromArray([1, -2, 3], [3], { dtype: 'float64' }).requiresGrad_();
    const y = dropout(x, 1, { seed: 1 });
    expect(y.toArray()).toEqual([0, 0, 0]);
    sum(y).backward();
    expect(x.grad!.toArray()).toEqual([0, 0, 0]);
  });

  it('rejects p outside [0, 1] and integer inputs', () => {
    expect(() => dropout(ones([2, 3]), 1.5)).toThrow(/dropout: p must be in \[0, 1\], got 1.5 \(input \[2, 3\]\)/);
    expect(() => dropout(ones([2]), -0.1)).toThrow(/dropout: p must be in \[0, 1\], got -0.1/);
    expect(() => dropout(ones([2]), NaN)).toThrow(/dropout: p must be in \[0, 1\], got NaN/);
    expect(() => dropout(fromArray([1, 2], [2], { dtype: 'int32' }), 0.5)).toThrow(/dropout: expected a float tensor, got int32\[2\]/);
  });
});
