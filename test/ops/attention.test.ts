// Fused scaled dot-product attention: exact causality of the gradients, equality with the composed
// ops (matmul, softmax, dropout), shapes and errors.
import { describe, it, expect } from 'vitest';
import { F, Generator, fromArray, full, tidy, memory, type Tensor } from '../../src/index.js';
import { rnd, maxDiff } from '../helpers/numeric.js';


/** softmax(scale·Q·Kᵀ + mask) [dropout] · V with the basic ops; mask = −∞ above the diagonal when causal. */
function composed(q: Tensor, k: Tensor, v: Tensor, causal: boolean, scale: number, dropout?: { p: number; seed: number }): Tensor {
  const Lq = q.shape[q.ndim - 2], Lk = k.shape[k.ndim - 2];
  let s = F.mul(F.matmul(q, F.transpose(k, -2, -1)), scale);
  if (causal) {
    const m = new Float64Array(Lq * Lk);
    for (let i = 0; i < Lq; i++) for (let j = i + 1; j < Lk; j++) m[i * Lk + j] = -Infinity;
    s = F.add(s, fromArray(m, [Lq, Lk], { dtype: q.dtype }));
  }
  let p = F.softmax(s, -1);
  if (dropout) p = F.dropout(p, dropout.p, { seed: dropout.seed });
  return F.matmul(p, v);
}

describe('scaledDotProductAttention', () => {
  it('causal: output t has EXACTLY zero gradient with respect to every later key and value', () => {
    const gen = new Generator(1);
    const B = 2, H = 3, L = 7, Dh = 4;
    const q = rnd(gen, [B, H, L, Dh]).requiresGrad_(), k = rnd(gen, [B, H, L, Dh]).requiresGrad_(), v = rnd(gen, [B, H, L, Dh]).requiresGrad_();
    for (let t = 0; t < L; t++) {
      q.zeroGrad(); k.zeroGrad(); v.zeroGrad();
      const out = F.scaledDotProductAttention(q, k, v, { causal: true });
      F.sum(F.mul(F.slice(out, 2, t, t + 1), rnd(gen, [B, H, 1, Dh]))).backward();
      const dk = k.grad!.toArray(), dv = v.grad!.toArray();
      let later = 0, earlierNonZero = 0;
      for (let bh = 0; bh < B * H; bh++) {
        for (let s = 0; s < L; s++) {
          for (let d = 0; d < Dh; d++) {
            const i = (bh * L + s) * Dh + d;
            if (s > t) { expect(dk[i] === 0 && dv[i] === 0).toBe(true); later++; }
            else if (dv[i] !== 0) earlierNonZero++;      // (dk is 0 too at t = 0: one visible key, softmax ≡ 1)
          }
        }
      }
      expect(later).toBe(B * H * (L - 1 - t) * Dh);
      expect(earlierNonZero).toBe(B * H * (t + 1) * Dh);
    }
    // and the forward: out[t] does not change when a later key/value changes
    const out1 = F.scaledDotProductAttention(q, k, v, { causal: true });
    const kd = k.toTyped(); kd[(0 * L + 5) * Dh] += 10;   // batch·head 0, position 5
    const out2 = F.scaledDotProductAttention(q, fromArray(kd, k.shape), v, { causal: true });
    expect(maxDiff(F.slice(out1, 2, 0, 5), F.slice(out2, 2, 0, 5))).toBe(0);
    expect(maxDiff(F.slice(out1, 2, 5, 7), F.slice(out2, 2, 5, 7))).toBeGreaterThan(0);
  });

  const variants: [string, boolean, number[], number[], number | undefined][] = [
    ['full', false, [2, 3, 6, 4], [2, 3, 6, 4], undefined],
    ['causal', true, [2, 2, 9, 8], [2, 2, 9, 8], undefined],
    ['causal, Lq 5 < Lk 8, scale 0.3, rank 3', true, [3, 5, 4], [3, 8, 4], 0.3],
    ['full, Lq 6 > Lk 3', false, [1, 2, 6, 5], [1, 2, 3, 5], undefined],
  ];
  for (const [name, causal, qs, ks, scale] of variants) {
    it(`equals matmul/softmax/matmul forward and backward (${name}, float64)`, () => {
      const gen = new Generator(2);
      const mk = () => { const g = new Generator(3); return [rnd(g, qs), rnd(g, ks), rnd(g, ks)].map((t) => t.requiresGrad_()); };
      const [q1, k1, v1] = mk(), [q2, k2, v2] = mk();
      const sc = scale ?? 1 / Math.sqrt(qs[qs.length - 1]);
      const a = F.scaledDotProductAttention(q1, k1, v1, { causal, scale });
      const b = composed(q2, k2, v2, causal, sc);
      expect(a.shape).toEqual([...qs.slice(0, -1), qs[qs.length - 1]]);
      expect(maxDiff(a, b)).toBeLessThan(1e-12);
      const r = rnd(gen, [...a.shape]);
      F.sum(F.mul(a, r)).backward();
      F.sum(F.mul(b, r)).backward();
      expect(maxDiff(q1.grad!, q2.grad!)).toBeLessThan(1e-12);
      expect(maxDiff(k1.grad!, k2.grad!)).toBeLessThan(1e-12);
      expect(maxDiff(v1.grad!, v2.grad!)).toBeLessThan(1e-12);
    });
  }

  it('dropout on the weights = F.dropout on the softmax with the same seed (forward and backward)', () => {
    const mk = () => { const g = new Generator(4); return [rnd(g, [2, 2, 6, 4]), rnd(g, [2, 2, 6, 4]), rnd(g, [2, 2, 6, 4])].map((t) => t.requiresGrad_()); };
    const [q1, k1, v1] = mk(), [q2, k2, v2] = mk();
    const a = F.scaledDotProductAttention(q1, k1, v1, { causal: true, dropoutP: 0.4, seed: 1234 });
    const b = composed(q2, k2, v2, true, 0.5, { p: 0.4, seed: 1234 });
    expect(maxDiff(a, b)).toBeLessThan(1e-12);
    const r = rnd(new Generator(5), [2, 2, 6, 4]);
    F.sum(F.mul(a, r)).backward();
    F.sum(F.mul(b, r)).backward();
    for (const [x, y] of [[q1, q2], [k1, k2], [v1, v2]]) expect(maxDiff(x.grad!, y.grad!)).toBeLessThan(1e-12);
    // training: false (or p = 0) is the plain attention
    const c = F.scaledDotProductAttention(q1, k1, v1, { causal: true, dropoutP: 0.4, seed: 1234, training: false });
    expect(maxDiff(c, F.scaledDotProductAttention(q1, k1, v1, { causal: true }))).toBe(0);
  });

  it('float32 agrees with float64', () => {
    const g = new Generator(6);
    const xs = [rnd(g, [2, 4, 16, 8]), rnd(g, [2, 4, 16, 8]), rnd(g, [2, 4, 16, 8])];
    const a = F.scaledDotProductAttention(xs[0], xs[1], xs[2], { causal: true });
    const xs32 = xs.map((t) => fromArray(t.toTyped(), t.shape, { dtype: 'float32' }));
    const b = F.scaledDotProductAttention(xs32[0], xs32[1], xs32[2], { causal: true });
    expect(b.dtype).toBe('float32');
    expect(maxDiff(a, b)).toBeLessThan(1e-5);
  });

  it('a uniform key set averages the values', () => {
    // all keys equal → every weight 1/Lk (causal: 1/(t+1)) → out[t] = mean of v[0..t]
    const q = full([1, 3, 2], 0.7), k = full([1, 3, 2], 0.2);
    const v = fromArray([1, 2, 3, 4, 5, 6], [1, 3, 2]);
    expect(F.scaledDotProductAttention(q, k, v).toArray()).toEqual([3, 4, 3, 4, 3, 4].map((x) => expect.closeTo(x, 6)));
    expect(F.scaledDotProductAttention(q, k, v, { causal: true }).toArray()).toEqual([1, 2, 2, 3, 3, 4].map((x) => expect.closeTo(x, 6)));
  });

  it('checks shapes and options', () => {
    const a = full([2, 3, 4], 1), b = full([2, 5, 4], 1);
    expect(() => F.scaledDotProductAttention(a, b, full([2, 4, 4], 1))).toThrow(/scaledDotProductAttention: expected k \[\.\.\., Lk, 4\] and v/);
    expect(() => F.scaledDotProductAttention(a, full([3, 5, 4], 1), full([3, 5, 4], 1))).toThrow(/must share their leading dimensions/);
    expect(() => F.scaledDotProductAttention(full([4], 1), full([4], 1), full([4], 1))).toThrow(/same rank ≥ 2/);
    expect(() => F.scaledDotProductAttention(a, b, b, { dropoutP: 1.5 })).toThrow(/dropoutP must be in \[0, 1\]/);
  });

  it('forward + backward inside tidy leaks nothing', () => {
    const g = new Generator(7);
    const q = rnd(g, [1, 2, 5, 3]).requiresGrad_();
    const run = () => tidy(() => { F.sum(F.scaledDotProductAttention(q, q, q, { causal: true, dropoutP: 0.2, seed: 3 })).backward(); });
    run(); q.zeroGrad();
    const before = memory().numTensors;
    run(); q.zeroGrad();
    expect(memory().numTensors).toBe(before);
  });
});
