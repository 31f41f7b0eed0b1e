// tidy / keep / dispose and the memory() counters.
import { describe, it, expect } from 'vitest';
import { ones, zeros, add, mul, sum, tidy, keep, dispose, memory, reshape, fromArray, exp } from '../../src/index.js';

describe('tidy / keep / dispose', () => {
  it('frees what fn created and did not return', () => {
    const before = memory();
    const r = tidy(() => {
      const a = ones([100]);
      const b = add(a, a);
      return mul(b, 2);
    });
    const mid = memory();
    expect(mid.numTensors).toBe(before.numTensors + 1);
    expect(mid.bytes.cpu).toBe(before.bytes.cpu + 400);
    r.dispose();
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().bytes.cpu).toBe(before.bytes.cpu);
  });

  it('returns tensors inside arrays and objects, and keep() survives', () => {
    const before = memory().numTensors;
    let kept: ReturnType<typeof ones> | null = null;
    const out = tidy(() => {
      kept = keep(ones([3]));
      ones([5]);                              // garbage
      return { a: ones([1]), list: [ones([2]), 3] };
    });
    expect(memory().numTensors).toBe(before + 3);
    dispose(out);
    kept!.dispose();
    expect(memory().numTensors).toBe(before);
  });

  it('nests: inner results move to the outer scope', () => {
    const before = memory().numTensors;
    tidy(() => {
      const inner = tidy(() => add(ones([2]), ones([2])));
      expect(inner.isDisposed).toBe(false);
      return undefined;
    });
    expect(memory().numTensors).toBe(before);
  });

  it('views share bytes; the bytes go when the last view goes', () => {
    const before = memory();
    const a = zeros([4, 4]);
    const v = reshape(a, [16]);
    expect(memory().bytes.cpu).toBe(before.bytes.cpu + 64);
    a.dispose();
    expect(memory().bytes.cpu).toBe(before.bytes.cpu + 64);   // v still holds them
    expect(v.toArray().length).toBe(16);
    v.dispose();
    expect(memory().bytes.cpu).toBe(before.bytes.cpu);
  });

  it('frees intermediates even when fn throws', () => {
    const before = memory().numTensors;
    expect(() => tidy(() => { ones([10]); throw new Error('boom'); })).toThrow('boom');
    expect(memory().numTensors).toBe(before);
  });

  it('dispose is idempotent and the backward graph keeps saved bytes alive', () => {
    const x = fromArray([1, 2, 3], [3]).requiresGrad_();
    const before = memory();
    const loss = tidy(() => sum(exp(x)));
    loss.backward();
    loss.dispose(); loss.dispose();
    x.zeroGrad();
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().bytes.cpu).toBe(before.bytes.cpu);
  });
});

// The proof: a whole training step (embedding → LSTM → attention layer → Mamba block →
// head → cross-entropy → backward → clip → AdamW) inside tidy leaves the counters where they were.
import { nn, optim, randint, Generator, manualSeed } from '../../src/index.js';
import { crossEntropy, reshape as reshapeOp } from '../../src/index.js';

describe('a full training step inside tidy leaks nothing', () => {
  it('numTensors and bytes return to baseline after every step', () => {
    manualSeed(3);
    const gen = new Generator(3);
    const V = 20, D = 16, B = 2, L = 6;
    const embed = new nn.Embedding(V, D, { generator: gen });
    const lstm = new nn.LSTM(D, D, { numLayers: 1, batchFirst: true, generator: gen });
    const attn = new nn.TransformerEncoderLayer(D, 2, { dimFeedforward: 32, dropout: 0.1, generator: gen });
    const mamba = new nn.MambaBlock(D, { dState: 4, generator: gen });
    const head = new nn.Linear(D, V, { generator: gen });
    const params = [embed, lstm, attn, mamba, head].flatMap((m) => m.parameters());
    const opt = new optim.AdamW(params, { lr: 1e-2 });
    const ids = randint(0, V, [B, L], { generator: gen });
    const targets = randint(0, V, [B * L], { generator: gen });

    const step = () => tidy(() => {
      opt.zeroGrad();
      const x = embed.forward(ids);
      const h1 = lstm.forward(x).output;
      const h2 = attn.forward(h1);
      const h3 = mamba.forward(h2);
      const logits = head.forward(h3);
      const loss = crossEntropy(reshapeOp(logits, [B * L, V]), targets);
      loss.backward();
      optim.clipGradNorm(params, 1.0);
      opt.step();
      return loss.item();
    });

    const first = step();                      // creates the optimizer state and the .grad tensors
    const base = memory();
    let last = first;
    for (let i = 0; i < 3; i++) {
      last = step();
      expect(memory().numTensors).toBe(base.numTensors);
      expect(memory().bytes.cpu).toBe(base.bytes.cpu);
    }
    expect(Number.isFinite(last)).toBe(true);
    expect(last).toBeLessThan(first);          // and it does train
  });
});
