// nn.MultiheadAttention and nn.TransformerEncoderLayer: PyTorch names, init and defaults; forward
// = the composition written out with basic ops; causal masking; dropout only in training;
// the paper's parameter count; gradcheck of a tiny layer.
import { describe, it, expect } from 'vitest';
import { nn, F, Generator, fromArray, gradcheck, describeFailures, type Tensor } from '../../src/index.js';
import { rnd, maxDiff } from '../helpers/numeric.js';

const names = (m: nn.Module) => [...m.namedParameters()].map(([n, p]) => `${n}:${p.shape.join('x')}`);

/** Multi-head attention with the basic ops, head by head. */
function mhaByHand(m: nn.MultiheadAttention, q: Tensor, k: Tensor, v: Tensor, causal = false): Tensor {
  const D = m.embedDim, H = m.numHeads, Dh = D / H;
  const W = m.inProjWeight, b = m.inProjBias!;
  const proj = (x: Tensor, i: number) => F.linear(x, F.slice(W, 0, i * D, (i + 1) * D), F.slice(b, 0, i * D, (i + 1) * D));
  const Q = proj(q, 0), K = proj(k, 1), V = proj(v, 2);
  const heads: Tensor[] = [];
  for (let h = 0; h < H; h++) {
    const qh = F.slice(Q, 2, h * Dh, (h + 1) * Dh), kh = F.slice(K, 2, h * Dh, (h + 1) * Dh), vh = F.slice(V, 2, h * Dh, (h + 1) * Dh);
    let s = F.mul(F.matmul(qh, F.transpose(kh, 1, 2)), 1 / Math.sqrt(Dh));
    if (causal) {
      const Lq = q.shape[1], Lk = k.shape[1], mask = new Float64Array(Lq * Lk);
      for (let i = 0; i < Lq; i++) for (let j = i + 1; j < Lk; j++) mask[i * Lk + j] = -Infinity;
      s = F.add(s, fromArray(mask, [Lq, Lk], { dtype: q.dtype }));
    }
    heads.push(F.matmul(F.softmax(s, -1), vh));
  }
  return m.outProj.forward(F.concat(heads, 2));
}

describe('nn.MultiheadAttention', () => {
  it("PyTorch's names, xavier in_proj, zero biases, out_proj as Linear", () => {
    const m = new nn.MultiheadAttention(80, 4, { generator: new Generator(1) });
    expect(names(m)).toEqual(['in_proj_weight:240x80', 'in_proj_bias:240', 'out_proj.weight:80x80', 'out_proj.bias:80']);
    const w = m.inProjWeight.toArray().map(Math.abs), bound = Math.sqrt(6 / (80 + 240));
    expect(Math.max(...w)).toBeLessThanOrEqual(bound);
    expect(Math.max(...w)).toBeGreaterThan(0.98 * bound);
    expect(m.inProjBias!.toArray().every((x) => x === 0)).toBe(true);
    expect(m.outProj.bias!.toArray().every((x) => x === 0)).toBe(true);
    expect(Math.max(...m.outProj.weight.toArray().map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(80));
    expect(() => new nn.MultiheadAttention(10, 3)).toThrow(/embedDim 10 must be divisible by numHeads 3/);
  });

  it('self-attention = the per-head composition (and with a causal mask)', () => {
    const gen = new Generator(2);
    const m = new nn.MultiheadAttention(12, 3, { dtype: 'float64', generator: gen });
    for (let i = 0; i < 2; i++) {   // non-zero biases, to see them used
      const b = rnd(gen, [i ? 12 : 36]);
      (i ? m.outProj.bias! : m.inProjBias!).assign(b);
    }
    const x = rnd(gen, [2, 5, 12]);
    expect(maxDiff(m.forward(x), mhaByHand(m, x, x, x))).toBeLessThan(1e-13);
    expect(maxDiff(m.forward(x, x, x, { causal: true }), mhaByHand(m, x, x, x, true))).toBeLessThan(1e-13);
  });

  it('cross-attention (separate query / key / value) = the per-head composition', () => {
    const gen = new Generator(3);
    const m = new nn.MultiheadAttention(8, 2, { dtype: 'float64', generator: gen });
    m.inProjBias!.assign(rnd(gen, [24]));
    const q = rnd(gen, [2, 3, 8]), kv = rnd(gen, [2, 6, 8]), v = rnd(gen, [2, 6, 8]);
    expect(maxDiff(m.forward(q, kv, v), mhaByHand(m, q, kv, v))).toBeLessThan(1e-13);
  });
});

describe('nn.TransformerEncoderLayer', () => {
  it("PyTorch's names; the PixelBytes layer (80, 4 heads, FFN 320) has 77,840 parameters", () => {
    const l = new nn.TransformerEncoderLayer(80, 4, { dimFeedforward: 320 });
    expect(names(l)).toEqual([
      'self_attn.in_proj_weight:240x80', 'self_attn.in_proj_bias:240', 'self_attn.out_proj.weight:80x80', 'self_attn.out_proj.bias:80',
      'linear1.weight:320x80', 'linear1.bias:320', 'linear2.weight:80x320', 'linear2.bias:80',
      'norm1.weight:80', 'norm1.bias:80', 'norm2.weight:80', 'norm2.bias:80',
    ]);
    // SPEC §3.6: attention 1 layer = 95,477 = PxByEmbed(→80) 8,484 + this layer + head Linear(80→113) 9,153
    expect(l.numParameters()).toBe(77_840);
    expect(8_484 + 77_840 + 9_153).toBe(95_477);
    // PyTorch defaults: FFN 2048, dropout 0.1, ReLU, post-LN
    const d = new nn.TransformerEncoderLayer(16, 2);
    expect(d.linear1.weight.shape).toEqual([2048, 16]);
    expect(d.dropout.p).toBe(0.1);
    expect(d.selfAttn.dropout).toBe(0.1);
    expect(d.normFirst).toBe(false);
    expect(d.activation).toBe('relu');
  });

  it('eval: post-LN forward = norm2(x + FFN(x)), x = norm1(src + MHA(src))', () => {
    const gen = new Generator(4);
    const l = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dtype: 'float64', generator: gen }).eval();
    const src = rnd(gen, [2, 5, 8]);
    const x = l.norm1.forward(F.add(src, mhaByHand(l.selfAttn, src, src, src)));
    const want = l.norm2.forward(F.add(x, l.linear2.forward(F.relu(l.linear1.forward(x)))));
    expect(maxDiff(l.forward(src), want)).toBeLessThan(1e-12);
    // pre-LN variant
    const p = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, normFirst: true, dtype: 'float64', generator: gen }).eval();
    const y = F.add(src, mhaByHand(p.selfAttn, p.norm1.forward(src), p.norm1.forward(src), p.norm1.forward(src)));
    expect(maxDiff(p.forward(src), F.add(y, p.linear2.forward(F.relu(p.linear1.forward(p.norm2.forward(y))))))).toBeLessThan(1e-12);
  });

  it('causal: position t does not see later positions', () => {
    const gen = new Generator(5);
    const l = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dtype: 'float64', generator: gen }).eval();
    const a = rnd(gen, [1, 6, 8]);
    const bData = a.toTyped(); for (let i = 4 * 8; i < 6 * 8; i++) bData[i] += 1;   // change positions 4, 5
    const b = fromArray(bData, [1, 6, 8]);
    const ya = l.forward(a, { causal: true }), yb = l.forward(b, { causal: true });
    expect(maxDiff(F.slice(ya, 1, 0, 4), F.slice(yb, 1, 0, 4))).toBe(0);
    expect(maxDiff(F.slice(l.forward(a), 1, 0, 4), F.slice(l.forward(b), 1, 0, 4))).toBeGreaterThan(1e-3);   // unmasked: it does
  });

  it('dropout only while training', () => {
    const gen = new Generator(6);
    const l = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, generator: gen });
    const x = rnd(gen, [2, 4, 8], 'float32');
    const t1 = l.forward(x), t2 = l.forward(x);
    expect(maxDiff(t1, t2)).toBeGreaterThan(1e-4);
    l.eval();
    expect(maxDiff(l.forward(x), l.forward(x))).toBe(0);
  });

  it('gradcheck through the whole layer (float64, eval, causal)', () => {
    const gen = new Generator(7);
    const l = new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dtype: 'float64', generator: gen }).eval();
    const x = rnd(gen, [2, 3, 4]).requiresGrad_();
    const r = gradcheck((xx) => l.forward(xx, { causal: true }), [x, ...l.parameters()]);
    expect(r.ok, describeFailures('TransformerEncoderLayer', r)).toBe(true);
  });
});
