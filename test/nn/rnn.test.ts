// nn.LSTM: PyTorch names, shapes and init; bidirectional = [forward | reversed direction];
// stacking; initial state; the paper's parameter counts; gradcheck of a tiny module.
import { describe, it, expect } from 'vitest';
import { nn, F, Generator, zeros, gradcheck, describeFailures, type Tensor } from '../../src/index.js';
import { rnd, maxDiff } from '../helpers/numeric.js';

const names = (m: nn.Module) => [...m.namedParameters()].map(([n, p]) => `${n}:${p.shape.join('x')}`);
const param = (m: nn.Module, name: string) => new Map(m.namedParameters()).get(name)!;

describe('nn.LSTM', () => {
  it('PyTorch parameter names and shapes (bidirectional, 2 layers)', () => {
    const m = new nn.LSTM(10, 4, { numLayers: 2, bidirectional: true });
    expect(names(m)).toEqual([
      'weight_ih_l0:16x10', 'weight_hh_l0:16x4', 'bias_ih_l0:16', 'bias_hh_l0:16',
      'weight_ih_l0_reverse:16x10', 'weight_hh_l0_reverse:16x4', 'bias_ih_l0_reverse:16', 'bias_hh_l0_reverse:16',
      'weight_ih_l1:16x8', 'weight_hh_l1:16x4', 'bias_ih_l1:16', 'bias_hh_l1:16',
      'weight_ih_l1_reverse:16x8', 'weight_hh_l1_reverse:16x4', 'bias_ih_l1_reverse:16', 'bias_hh_l1_reverse:16',
    ]);
    expect(names(new nn.LSTM(3, 2, { bias: false }))).toEqual(['weight_ih_l0:8x3', 'weight_hh_l0:8x2']);
  });

  it("PixelBytes' LSTM parameter counts (SPEC §3.6: rnn_bi 81/64/2 = 78,633 with embed and head)", () => {
    // LSTM#1: bidirectional, input 81, 32 per direction; LSTM#2: input 64, hidden 64, 1 layer
    expect(new nn.LSTM(81, 32, { bidirectional: true }).numParameters()).toBe(29_440);
    expect(new nn.LSTM(64, 64).numParameters()).toBe(33_280);
    // 29,440 + 33,280 + PxByEmbed 8,568 + head Linear(64→113) 7,345 = 78,633
    expect(29_440 + 33_280 + 8_568 + 7_345).toBe(78_633);
  });

  it('init: every parameter U(−1/√H, 1/√H)', () => {
    const m = new nn.LSTM(20, 64, { generator: new Generator(1) });
    for (const p of m.parameters()) {
      const xs = p.toArray();
      expect(Math.max(...xs.map(Math.abs))).toBeLessThanOrEqual(1 / 8);
      expect(Math.max(...xs.map(Math.abs))).toBeGreaterThan(0.12);
    }
  });

  it('bidirectional output = [forward direction | reversed direction] along the features', () => {
    const gen = new Generator(2);
    const m = new nn.LSTM(5, 3, { bidirectional: true, dtype: 'float64', generator: gen });
    const x = rnd(gen, [2, 6, 5]);
    const { output, h, c } = m.forward(x);
    expect(output.shape).toEqual([2, 6, 6]);
    expect(h.shape).toEqual([2, 2, 3]);
    expect(c.shape).toEqual([2, 2, 3]);
    const proj = (sfx: string, inp: Tensor) => F.linear(inp, param(m, `weight_ih_l0${sfx}`), F.add(param(m, `bias_ih_l0${sfx}`), param(m, `bias_hh_l0${sfx}`)));
    const fwd = F.lstmSequence(proj('', x), param(m, 'weight_hh_l0'));
    // the reverse direction = a forward LSTM over the time-flipped input, flipped back
    const rev = F.lstmSequence(proj('_reverse', F.flip(x, 1)), param(m, 'weight_hh_l0_reverse'));
    expect(maxDiff(F.slice(output, 2, 0, 3), fwd.out)).toBeLessThan(1e-14);
    expect(maxDiff(F.slice(output, 2, 3, 6), F.flip(rev.out, 1))).toBeLessThan(1e-14);
    // h_n: [forward final (t = T−1), reverse final (t = 0)]
    expect(maxDiff(F.slice(h, 0, 0, 1), F.reshape(F.slice(F.slice(output, 1, 5, 6), 2, 0, 3), [1, 2, 3]))).toBe(0);
    expect(maxDiff(F.slice(h, 0, 1, 2), F.reshape(F.slice(F.slice(output, 1, 0, 1), 2, 3, 6), [1, 2, 3]))).toBe(0);
    expect(maxDiff(F.slice(c, 0, 1, 2), F.reshape(rev.cT, [1, 2, 3]))).toBeLessThan(1e-14);
  });

  it('stacked layers feed each other; h_n is [layers·dirs, B, H]', () => {
    const gen = new Generator(3);
    const m = new nn.LSTM(4, 3, { numLayers: 2, dtype: 'float64', generator: gen });
    const x = rnd(gen, [2, 5, 4]);
    const { output, h } = m.forward(x);
    const layer = (l: number, inp: Tensor) => F.lstmSequence(
      F.linear(inp, param(m, `weight_ih_l${l}`), F.add(param(m, `bias_ih_l${l}`), param(m, `bias_hh_l${l}`))), param(m, `weight_hh_l${l}`));
    const l0 = layer(0, x), l1 = layer(1, l0.out);
    expect(maxDiff(output, l1.out)).toBeLessThan(1e-14);
    expect(maxDiff(h, F.stack([l0.hT, l1.hT], 0))).toBeLessThan(1e-14);
  });

  it('an initial state of zeros is the default; a given state is used', () => {
    const gen = new Generator(4);
    const m = new nn.LSTM(3, 2, { bidirectional: true, dtype: 'float64', generator: gen });
    const x = rnd(gen, [2, 4, 3]);
    const z = zeros([2, 2, 2], { dtype: 'float64' });
    expect(maxDiff(m.forward(x).output, m.forward(x, { h: z, c: z }).output)).toBe(0);
    const s = { h: rnd(gen, [2, 2, 2]), c: rnd(gen, [2, 2, 2]) };
    expect(maxDiff(m.forward(x).output, m.forward(x, s).output)).toBeGreaterThan(1e-3);
    expect(() => m.forward(x, { h: zeros([1, 2, 2], { dtype: 'float64' }), c: z })).toThrow(/LSTM: initial h must have shape \[2, 2, 2\], got \[1, 2, 2\]/);
  });

  it('gradcheck through the whole module (float64, bidirectional, 2 layers, initial state)', () => {
    const gen = new Generator(5);
    const m = new nn.LSTM(3, 2, { numLayers: 2, bidirectional: true, dtype: 'float64', generator: gen });
    const x = rnd(gen, [2, 4, 3]).requiresGrad_(), h0 = rnd(gen, [4, 2, 2]).requiresGrad_(), c0 = rnd(gen, [4, 2, 2]).requiresGrad_();
    const r = gradcheck((xx, hh, cc) => { const o = m.forward(xx, { h: hh, c: cc }); return [o.output, o.h, o.c]; }, [x, h0, c0, ...m.parameters()]);
    expect(r.ok, describeFailures('LSTM', r)).toBe(true);
  });

  it('checks its input', () => {
    const m = new nn.LSTM(3, 2);
    expect(() => m.forward(zeros([2, 4, 5]))).toThrow(/LSTM: input must have shape \[B, T, 3\] \(batch first\), got \[2, 4, 5\]/);
    expect(() => new nn.LSTM(3, 2, { batchFirst: false })).toThrow(/batchFirst = true/);
    expect(() => new nn.LSTM(3, 0)).toThrow(/hiddenSize must be an integer ≥ 1, got 0/);
  });
});
