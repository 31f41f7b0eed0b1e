// layerNorm and rmsNorm: golden values computed by hand, backward by hand, numerics, errors.
import { describe, it, expect } from 'vitest';
import { tensor, fromArray, F, Generator } from '../../src/index.js';

const close = (got: number[], want: number[], tol = 1e-6) => {
  expect(got.length).toBe(want.length);
  got.forEach((v, i) => expect(Math.abs(v - want[i]), `index ${i}: ${v} vs ${want[i]}`).toBeLessThan(tol));
};

describe('layerNorm', () => {
  it('golden: row [1, 2, 3, 4] (mean 2.5, var 1.25), eps 0', () => {
    // x̂ = (x − 2.5)/√1.25 = [−1.5, −0.5, 0.5, 1.5]·0.894427191
    const s = 1 / Math.sqrt(1.25);
    const y = F.layerNorm(tensor([[1, 2, 3, 4]], { dtype: 'float64' }), null, null, 0);
    close(y.toArray(), [-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s], 1e-15);
  });

  it('golden: affine and default eps 1e-5', () => {
    // row [2, 4]: mean 3, var 1 → x̂ = [−1, 1]/√(1 + 1e-5); y = x̂·[2, 3] + [1, −1]
    const r = 1 / Math.sqrt(1 + 1e-5);
    const y = F.layerNorm(tensor([[2, 4], [0, 0]], { dtype: 'float64' }), tensor([2, 3], { dtype: 'float64' }), tensor([1, -1], { dtype: 'float64' }));
    // a constant row normalises to 0 (then + bias)
    close(y.toArray(), [1 - 2 * r, -1 + 3 * r, 1, -1], 1e-15);
  });

  it('backward by hand: row [1, 3] (x̂ = [−1, 1]·r), eps 0', () => {
    // D = 2: x̂ = [−1, 1] exactly, rstd = 1; with g = [1, 0] and w = [2, 5]:
    // dn = [2, 0], mean(dn) = 1, mean(dn·x̂) = −1 → dx = [2 − 1 − 1, 0 − 1 + 1] = [0, 0]
    //   (a 2-element row's output depends only on sign(x1 − x0): zero gradient almost everywhere)
    // dweight = g·x̂ = [−1, 0], dbias = g = [1, 0]
    const x = tensor([[1, 3]], { dtype: 'float64' }).requiresGrad_();
    const w = tensor([2, 5], { dtype: 'float64' }).requiresGrad_();
    const b = tensor([0, 0], { dtype: 'float64' }).requiresGrad_();
    F.layerNorm(x, w, b, 0).backward(tensor([[1, 0]], { dtype: 'float64' }));
    close(x.grad!.toArray(), [0, 0], 1e-15);
    close(w.grad!.toArray(), [-1, 0], 1e-15);
    close(b.grad!.toArray(), [1, 0], 1e-15);
  });

  it('backward by hand: row [0, 0, 3] with g = [1, 0, 0]', () => {
    // mean 1, var 2, rstd = 1/√2; x̂ = [−1, −1, 2]/√2
    // dn = g = [1, 0, 0]; mean(dn) = 1/3; mean(dn·x̂) = −1/(3√2)
    // dx_j = rstd·(dn_j − 1/3 + x̂_j/(3√2)) → [(1 − 1/3 − 1/6), (−1/3 − 1/6), (−1/3 + 1/3)]/√2 = [1/2, −1/2, 0]/√2
    const x = tensor([[0, 0, 3]], { dtype: 'float64' }).requiresGrad_();
    F.layerNorm(x, null, null, 0).backward(tensor([[1, 0, 0]], { dtype: 'float64' }));
    close(x.grad!.toArray(), [0.5 / Math.SQRT2, -0.5 / Math.SQRT2, 0], 1e-15);
  });

  it('large mean, tiny variance (no single-pass cancellation) in float32', () => {
    const x = tensor([[10000.5, 10000.25, 10000.75, 10000.5]]);   // exact in float32; var = 0.03125
    const y = F.layerNorm(x, null, null, 0);
    const s = 1 / Math.sqrt(0.03125);
    close(y.toArray(), [0, -0.25 * s, 0.25 * s, 0], 1e-5);
  });

  it('leaves no saved statistics behind when no grad is recorded', async () => {
    const { memory, noGrad } = await import('../../src/index.js');
    const x = tensor([[1, 2, 3]]);
    const before = memory().numTensors;
    const y = noGrad(() => F.layerNorm(x));
    expect(memory().numTensors).toBe(before + 1);
    y.dispose();
  });

  it('errors name the op and the shapes', () => {
    expect(() => F.layerNorm(tensor([[1, 2, 3]]), tensor([1, 1]))).toThrow('layerNorm: weight/bias [2] must be [3], the last dimension of input [1, 3]');
    expect(() => F.rmsNorm(tensor([[1, 2]]), tensor([1, 1], { dtype: 'float64' }))).toThrow(/rmsNorm: dtypes differ/);
  });
});

describe('rmsNorm', () => {
  it('golden: row [3, 4] (mean of squares 12.5), eps 0, weight [1, 2]', () => {
    const r = 1 / Math.sqrt(12.5);
    const y = F.rmsNorm(tensor([[3, 4]], { dtype: 'float64' }), tensor([1, 2], { dtype: 'float64' }), 0);
    close(y.toArray(), [3 * r, 8 * r], 1e-15);
  });

  it('default eps is 1e-5 (mamba_ssm RMSNorm)', () => {
    const y = F.rmsNorm(tensor([[1, -1]], { dtype: 'float64' }));
    close(y.toArray(), [1 / Math.sqrt(1 + 1e-5), -1 / Math.sqrt(1 + 1e-5)], 1e-15);
  });

  it('backward by hand: row [3, 4], g = [1, 0], no weight, eps 0', () => {
    // rstd = 1/√12.5, x̂ = [3, 4]·rstd; mean(g·x̂) = 1.5·rstd
    // dx = rstd·(g − x̂·1.5·rstd) = rstd·([1, 0] − [4.5, 6]/12.5) = rstd·[0.64, −0.48]
    const x = tensor([[3, 4]], { dtype: 'float64' }).requiresGrad_();
    F.rmsNorm(x, null, 0).backward(tensor([[1, 0]], { dtype: 'float64' }));
    const r = 1 / Math.sqrt(12.5);
    close(x.grad!.toArray(), [0.64 * r, -0.48 * r], 1e-15);
  });

  it('matches the composed formula on random float32 data', () => {
    const g = new Generator(3);
    const xs = Array.from({ length: 5 * 81 }, () => g.normal());
    const ws = Array.from({ length: 81 }, () => g.uniform(0.5, 1.5));
    const y = F.rmsNorm(fromArray(xs, [5, 81]), fromArray(ws, [81])).toArray();
    for (let i = 0; i < 5; i++) {
      const row = xs.slice(i * 81, i * 81 + 81);
      const r = 1 / Math.sqrt(row.reduce((s, v) => s + v * v, 0) / 81 + 1e-5);
      close(y.slice(i * 81, i * 81 + 81), row.map((v, j) => v * r * ws[j]), 1e-5);
    }
  });
});
