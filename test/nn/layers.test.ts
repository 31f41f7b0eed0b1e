// nn layers: PyTorch parameter names and shapes, default initialisations, forward = the op.
import { describe, it, expect } from 'vitest';
import { nn, F, Generator, tensor, fromArray, randn, type Tensor } from '../../src/index.js';

const names = (m: nn.Module) => [...m.namedParameters()].map(([n, p]) => `${n}:${p.shape.join('x')}`);
const absMax = (t: Tensor) => Math.max(...t.toArray().map(Math.abs));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('init and names', () => {
  it('Linear: weight [out, in], bias [out], both U(±1/√in)', () => {
    const l = new nn.Linear(100, 50, { generator: new Generator(1) });
    expect(names(l)).toEqual(['weight:50x100', 'bias:50']);
    expect(absMax(l.weight)).toBeLessThanOrEqual(0.1);
    expect(absMax(l.weight)).toBeGreaterThan(0.099);     // 5000 draws reach the bound
    expect(absMax(l.bias!)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(mean(l.weight.toArray()))).toBeLessThan(0.005);
    expect(names(new nn.Linear(3, 2, { bias: false }))).toEqual(['weight:2x3']);
  });

  it('Embedding: N(0, 1)', () => {
    const e = new nn.Embedding(113, 90, { generator: new Generator(2) });
    expect(names(e)).toEqual(['weight:113x90']);
    const xs = e.weight.toArray();
    const m = mean(xs), sd = Math.sqrt(mean(xs.map((v) => (v - m) ** 2)));
    expect(Math.abs(m)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
  });

  it('Conv2d: fan_in = C·KH·KW; PxByEmbed E = 9 → bound 1/9', () => {
    const c = new nn.Conv2d(9, 9, 3, { padding: 1, generator: new Generator(3) });
    expect(names(c)).toEqual(['weight:9x9x3x3', 'bias:9']);
    expect(absMax(c.weight)).toBeLessThanOrEqual(1 / 9);
    expect(absMax(c.weight)).toBeGreaterThan(0.105);
    expect(absMax(c.bias!)).toBeLessThanOrEqual(1 / 9);
  });

  it('Conv1dDepthwiseCausal: weight [D, 1, K], fan_in = K → bound 1/2 at K = 4', () => {
    const c = new nn.Conv1dDepthwiseCausal(162, 4, { generator: new Generator(4) });
    expect(names(c)).toEqual(['weight:162x1x4', 'bias:162']);
    expect(absMax(c.weight)).toBeLessThanOrEqual(0.5);
    expect(absMax(c.weight)).toBeGreaterThan(0.49);
  });

  it('LayerNorm ones/zeros; RMSNorm weight ones; variants without affine', () => {
    const ln = new nn.LayerNorm(5);
    expect(names(ln)).toEqual(['weight:5', 'bias:5']);
    expect(ln.weight!.toArray()).toEqual([1, 1, 1, 1, 1]);
    expect(ln.bias!.toArray()).toEqual([0, 0, 0, 0, 0]);
    expect(ln.eps).toBe(1e-5);
    expect(names(new nn.LayerNorm(5, { elementwiseAffine: false }))).toEqual([]);
    expect(names(new nn.LayerNorm(5, { bias: false }))).toEqual(['weight:5']);
    const rms = new nn.RMSNorm(4);
    expect(names(rms)).toEqual(['weight:4']);
    expect(rms.weight.toArray()).toEqual([1, 1, 1, 1]);
    expect(rms.eps).toBe(1e-5);
  });

  it('the same generator seed gives the same parameters', () => {
    const a = new nn.Linear(7, 5, { generator: new Generator(9) }), b = new nn.Linear(7, 5, { generator: new Generator(9) });
    expect(a.weight.toArray()).toEqual(b.weight.toArray());
    expect(a.bias!.toArray()).toEqual(b.bias!.toArray());
  });

  it('nested modules get dotted PyTorch names (state-dict keys)', () => {
    class Embed extends nn.Module {
      embed = this.registerModule('embed', new nn.Embedding(113, 9));
      conv = this.registerModule('conv', new nn.Conv2d(9, 9, 3, { padding: 1 }));
      norm = this.registerModule('norm', new nn.LayerNorm(81));
    }
    expect([...new Embed().stateDict().keys()]).toEqual(['embed.weight', 'conv.weight', 'conv.bias', 'norm.weight', 'norm.bias']);
  });

  it('rejects bad sizes', () => {
    expect(() => new nn.Linear(0, 3)).toThrow(/Linear: inFeatures must be an integer ≥ 1, got 0/);
    expect(() => new nn.Conv2d(3, 3, 0)).toThrow(/kernelSize/);
  });
});

describe('forward', () => {
  it('each layer is its op', () => {
    const x = randn([2, 3, 4]);
    const l = new nn.Linear(4, 5);
    expect(l.forward(x).toArray()).toEqual(F.linear(x, l.weight, l.bias).toArray());
    const ln = new nn.LayerNorm(4);
    expect(ln.forward(x).toArray()).toEqual(F.layerNorm(x).toArray());
    const rms = new nn.RMSNorm(4);
    expect(rms.forward(x).toArray()).toEqual(F.rmsNorm(x).toArray());
    const e = new nn.Embedding(6, 2);
    const ids = fromArray([5, 0, 1], [3], { dtype: 'int32' });
    expect(e.forward(ids).toArray()).toEqual(F.embedding(e.weight, ids).toArray());
    const c = new nn.Conv2d(3, 2, [2, 3], { stride: 2, padding: [1, 0] });
    const img = randn([1, 3, 5, 6]);
    expect(c.forward(img).toArray()).toEqual(F.conv2d(img, c.weight, c.bias, { stride: 2, padding: [1, 0] }).toArray());
    const c1 = new nn.Conv1dDepthwiseCausal(3, 4);
    const seq = randn([2, 3, 7]);
    expect(c1.forward(seq).toArray()).toEqual(F.conv1dDepthwiseCausal(seq, c1.weight, c1.bias).toArray());
  });

  it('gradients reach every parameter', () => {
    const l = new nn.Linear(3, 2), ln = new nn.LayerNorm(2);
    F.sum(F.mul(ln.forward(l.forward(randn([4, 3]))), tensor([1, -1]))).backward();
    for (const p of [...l.parameters(), ...ln.parameters()]) expect(p.grad).not.toBeNull();
  });

  it('Dropout drops in train(), is the identity in eval()', () => {
    const d = new nn.Dropout(0.5, { generator: new Generator(1) });
    const x = tensor(Array.from({ length: 1000 }, () => 1));
    const y = d.forward(x).toArray();
    expect(y.every((v) => v === 0 || v === 2)).toBe(true);
    const kept = y.filter((v) => v === 2).length;
    expect(kept).toBeGreaterThan(400);
    expect(kept).toBeLessThan(600);
    d.eval();
    expect(d.forward(x).toArray()).toEqual(x.toArray());
  });
});
