// AdamW against steps of PyTorch's formula written out by hand, SGD with momentum by hand,
// clipGradNorm, state dicts and an exact resume through a safetensors checkpoint.
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, F, nn, optim, Generator, saveSafetensors, loadSafetensors, tidy, memory, type Tensor } from '../../src/index.js';

const f64 = (v: number[]) => tensor(v, { dtype: 'float64' });
const setGrad = (p: Tensor, g: number[]) => { p.zeroGrad(); p.grad = tensor(g, { dtype: p.dtype }); };

describe('AdamW', () => {
  it('three steps equal PyTorch\'s formula computed by hand (defaults: lr 1e-3, betas 0.9/0.999, eps 1e-8, wd 0.01)', () => {
    const p = f64([1]).requiresGrad_();
    const opt = new optim.AdamW([p]);
    // step 1, g = 0.5:
    //   p ← 1·(1 − 1e-3·0.01) = 0.99999
    //   m = 0.1·0.5 = 0.05;  v = 0.001·0.25 = 0.00025;  bc1 = 0.1, bc2 = 0.001
    //   m̂ = 0.5, v̂ = 0.25, √v̂ = 0.5;  p ← 0.99999 − 1e-3·0.5/(0.5 + 1e-8) = 0.99999 − 0.00099999998 = 0.99899000002
    setGrad(p, [0.5]); opt.step();
    expect(p.item()).toBeCloseTo(0.99899000002, 14);
    // step 2, g = −0.25:
    //   p ← 0.99899000002·0.99999
    //   m = 0.05 + 0.1·(−0.25 − 0.05) = 0.02;  v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225
    //   bc1 = 1 − 0.81 = 0.19, bc2 = 1 − 0.998001 = 0.001999
    //   m̂ = 0.02/0.19 = 0.105263157894737, v̂ = 0.00031225/0.001999 = 0.156203101550776
    //   p ← 0.99898001012 − 1e-3·0.105263157894737/(0.395225381… + 1e-8) = 0.998713673087078
    setGrad(p, [-0.25]); opt.step();
    expect(p.item()).toBeCloseTo(0.998713673087078, 14);
    // step 3, g = 1: m = 0.02 + 0.1·(1 − 0.02) = 0.118; v = 0.999·0.00031225 + 0.001 = 0.00131193775
    //   bc1 = 0.271, bc2 = 0.002997001; m̂ = 0.435424354243543, v̂ = 0.437750187604209
    //   p ← 0.998713673087078·0.99999 − 1e-3·0.435424354243543/(0.661626…+1e-8) = 0.998045574360040
    setGrad(p, [1]); opt.step();
    expect(p.item()).toBeCloseTo(0.998045574360040, 14);
    const st = opt.stateDict().state[0];
    expect(st.step).toBe(3);
    expect((st.exp_avg as Tensor).item()).toBeCloseTo(0.118, 15);
    expect((st.exp_avg_sq as Tensor).item()).toBeCloseTo(0.00131193775, 15);
  });

  it('float32 parameters follow the float64 trajectory to float32 precision; eps matters when v is tiny', () => {
    const p32 = tensor([0.5, -2, 3]).requiresGrad_(), p64 = f64([0.5, -2, 3]).requiresGrad_();
    const o32 = new optim.AdamW([p32], { lr: 0.1, weightDecay: 0.1, eps: 1e-3 }), o64 = new optim.AdamW([p64], { lr: 0.1, weightDecay: 0.1, eps: 1e-3 });
    const g = new Generator(5);
    for (let t = 0; t < 10; t++) {
      const gr = [g.uniform(-1, 1), 1e-6 * g.uniform(-1, 1), 0];
      setGrad(p32, gr); setGrad(p64, gr); o32.step(); o64.step();
    }
    p32.toArray().forEach((v, i) => expect(Math.abs(v - p64.toArray()[i])).toBeLessThan(1e-6));
    // the third element never had a gradient ≠ 0: only weight decay moved it: 3·(1 − 0.01)^10
    expect(p64.toArray()[2]).toBeCloseTo(3 * 0.99 ** 10, 12);
  });

  it('skips parameters without a gradient; zeroGrad drops gradients', () => {
    const a = f64([1]).requiresGrad_(), b = f64([2]).requiresGrad_();
    const opt = new optim.AdamW([a, b]);
    setGrad(a, [1]);
    opt.step();
    expect(b.item()).toBe(2);
    expect(Object.keys(opt.stateDict().state)).toEqual(['0']);
    opt.zeroGrad();
    expect(a.grad).toBeNull();
  });

  it('parameter groups override the defaults (e.g. no weight decay on biases)', () => {
    const w = f64([1]).requiresGrad_(), b = f64([1]).requiresGrad_();
    const opt = new optim.AdamW([{ params: [w] }, { params: [b], options: { weightDecay: 0 } }], { lr: 0.1, weightDecay: 0.5 });
    setGrad(w, [0]); setGrad(b, [0]);
    opt.step();
    expect(w.item()).toBeCloseTo(0.95, 15);   // 1·(1 − 0.1·0.5), the Adam term is 0 (m = 0)
    expect(b.item()).toBe(1);
    const sd = opt.stateDict();
    expect(sd.param_groups.map((g) => [g.weight_decay, g.params])).toEqual([[0.5, [0]], [0, [1]]]);
    expect(sd.param_groups[0]).toMatchObject({ lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, amsgrad: false });
  });

  it('rejects bad hyper-parameters and mismatched state dicts', () => {
    const p = f64([1]).requiresGrad_();
    expect(() => new optim.AdamW([p], { betas: [1, 0.999] })).toThrow(/invalid beta1 1/);
    expect(() => new optim.AdamW([p], { lr: -1 })).toThrow(/invalid learning rate -1/);
    expect(() => new optim.AdamW([p, p])).toThrow(/appears twice/);
    const opt = new optim.AdamW([p]);
    setGrad(p, [1]); opt.step();
    const other = new optim.AdamW([f64([1, 2]).requiresGrad_()]);
    expect(() => other.loadStateDict(opt.stateDict())).toThrow(/state 'exp_avg' of parameter 0 is float64\[1\], the parameter is float64\[2\]/);
    expect(() => new optim.AdamW([p, f64([1]).requiresGrad_()]).loadStateDict({ ...opt.stateDict(), param_groups: [] })).toThrow(/0 parameter groups/);
  });
});

describe('SGD', () => {
  it('momentum 0.9, dampening 0, weight decay 0.1, by hand', () => {
    const p = f64([1]).requiresGrad_();
    const opt = new optim.SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.1 });
    // step 1: d = 1 + 0.1·1 = 1.1; buf = 1.1; p = 1 − 0.11 = 0.89
    setGrad(p, [1]); opt.step();
    expect(p.item()).toBeCloseTo(0.89, 15);
    // step 2: d = 1 + 0.089 = 1.089; buf = 0.99 + 1.089 = 2.079; p = 0.89 − 0.2079 = 0.6821
    setGrad(p, [1]); opt.step();
    expect(p.item()).toBeCloseTo(0.6821, 15);
  });

  it('nesterov and plain SGD', () => {
    const p = f64([1]).requiresGrad_(), q = f64([1]).requiresGrad_();
    const o1 = new optim.SGD([p], { lr: 0.1, momentum: 0.5, nesterov: true }), o2 = new optim.SGD([q], { lr: 0.1 });
    // nesterov step 1: buf = 2; d = 2 + 0.5·2 = 3 → p = 0.7.  plain: q = 1 − 0.2 = 0.8
    setGrad(p, [2]); setGrad(q, [2]); o1.step(); o2.step();
    expect(p.item()).toBeCloseTo(0.7, 15);
    expect(q.item()).toBeCloseTo(0.8, 15);
  });
});

describe('clipGradNorm', () => {
  it('returns the total 2-norm and scales by maxNorm/(norm + 1e-6) when above', () => {
    const a = f64([0, 0]).requiresGrad_(), b = f64([0]).requiresGrad_(), c = f64([0]).requiresGrad_();
    setGrad(a, [3, 4]); setGrad(b, [12]);                 // √(9 + 16 + 144) = 13; c has no grad
    const norm = optim.clipGradNorm([a, b, c], 6.5);
    expect(norm).toBe(13);
    const coef = 6.5 / (13 + 1e-6);
    expect(a.grad!.toArray()).toEqual([3 * coef, 4 * coef]);
    expect(b.grad!.toArray()).toEqual([12 * coef]);
    expect(c.grad).toBeNull();
  });

  it('leaves gradients alone when the norm is below maxNorm', () => {
    const a = tensor([0, 0]).requiresGrad_();
    setGrad(a, [3, 4]);
    expect(optim.clipGradNorm([a], 5.5)).toBeCloseTo(5, 6);
    expect(a.grad!.toArray()).toEqual([3, 4]);
  });
});

describe('exact resume', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pxb-optim-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function makeModel() {
    const gen = new Generator(11);
    const lin = new nn.Linear(4, 3, { generator: gen });
    const norm = new nn.LayerNorm(3);
    return { lin, norm, params: [...lin.parameters(), ...norm.parameters()] };
  }
  const R = tensor([[1, -2, 0.5], [0.25, 3, -1]]);
  const xs = Array.from({ length: 6 }, (_, t) => tensor([[t, 1, -t / 2, 0.5], [1, -1, t / 3, 2]]));
  function trainStep(m: ReturnType<typeof makeModel>, opt: optim.AdamW, t: number) {
    tidy(() => {
      opt.zeroGrad();
      const y = m.norm.forward(m.lin.forward(xs[t]));
      F.sum(F.mul(y, R)).backward();
      optim.clipGradNorm(m.params, 0.5);
      opt.step();
    });
  }

  it('2 steps + save + load + 4 steps equals 6 uninterrupted steps, bit for bit', () => {
    const a = makeModel();
    const oa = new optim.AdamW(a.params, { lr: 0.05 });
    for (let t = 0; t < 6; t++) trainStep(a, oa, t);

    const b = makeModel();
    const ob = new optim.AdamW(b.params, { lr: 0.05 });
    for (let t = 0; t < 2; t++) trainStep(b, ob, t);
    const model = new Map([...b.lin.stateDict()].map(([k, v]) => [`lin.${k}`, v] as [string, Tensor]));
    for (const [k, v] of b.norm.stateDict()) model.set(`norm.${k}`, v);
    saveSafetensors(join(dir, 'model.safetensors'), model);
    const flat = optim.stateDictToTensors(ob.stateDict());
    saveSafetensors(join(dir, 'optim.safetensors'), flat.tensors, flat.metadata);

    const c = makeModel();
    const oc = new optim.AdamW(c.params, { lr: 123 });     // hyper-parameters come from the checkpoint
    const lm = loadSafetensors(join(dir, 'model.safetensors'));
    c.lin.loadStateDict(new Map([...lm.tensors].filter(([k]) => k.startsWith('lin.')).map(([k, v]) => [k.slice(4), v])));
    c.norm.loadStateDict(new Map([...lm.tensors].filter(([k]) => k.startsWith('norm.')).map(([k, v]) => [k.slice(5), v])));
    const lo = loadSafetensors(join(dir, 'optim.safetensors'));
    oc.loadStateDict(optim.stateDictFromTensors(lo.tensors, lo.metadata));
    expect(oc.paramGroups[0].options.lr).toBe(0.05);
    for (let t = 2; t < 6; t++) trainStep(c, oc, t);

    a.params.forEach((p, i) => expect(c.params[i].toArray()).toEqual(p.toArray()));
    expect(oc.stateDict().state[0].step).toBe(6);
  });

  it('a training step inside tidy leaves the live tensor count unchanged after the first step', () => {
    const m = makeModel();
    const o = new optim.AdamW(m.params);
    trainStep(m, o, 0);
    m.params.forEach((p) => p.zeroGrad());
    const before = memory().numTensors;
    trainStep(m, o, 1);
    m.params.forEach((p) => p.zeroGrad());
    expect(memory().numTensors).toBe(before);
  });
});
