// LSTM ops: the fused cell against hand-computed values, the fused sequence against the same
// recurrence composed from matmul / sigmoid / tanh / mul / add (forward and backward, float64),
// the threaded path against the single-threaded one, errors, memory.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { F, Generator, fromArray, tensor, tidy, memory, setNumThreads, getNumThreads, type Tensor } from '../../src/index.js';
import { whenThreadsReady, threadStats } from '../../src/backend/cpu/threads.js';
import { maxDiff, uniform as rnd } from '../helpers/numeric.js';


describe('lstmCell', () => {
  it('one step matches hand-computed values (forward and backward)', () => {
    // gates (pre-activation) [ĝ_i, ĝ_f, ĝ_g, ĝ_o] = [0.5, −0.3, 0.8, 1.2], c = 0.4, H = 1:
    //   i = σ(0.5) = 0.6224593312018546    f = σ(−0.3) = 0.425557483188341
    //   g = tanh(0.8) = 0.6640367702678491  o = σ(1.2) = 0.7685247834990175
    //   c' = f·c + i·g = 0.5835588771897013
    //   h' = o·tanh(c') = 0.40366555400150284
    // backward with dh' = 1, dc' = 0.5:  dĉ = dc' + dh'·o·(1 − tanh²c')
    //   dĝ_i = dĉ·g·i(1−i) = 0.16486807909902262   dĝ_f = dĉ·c·f(1−f) = 0.10330813613072028
    //   dĝ_g = dĉ·i·(1−g²) = 0.3676506810767243    dĝ_o = dh'·tanh c'·o(1−o) = 0.09343857150648689
    //   dc = dĉ·f = 0.4496017143025629
    // (values from Python's math module, formulas as above)
    const gates = tensor([[0.5, -0.3, 0.8, 1.2]], { dtype: 'float64' }).requiresGrad_();
    const c = tensor([[0.4]], { dtype: 'float64' }).requiresGrad_();
    const r = F.lstmCell(gates, c);
    expect(r.c.item()).toBeCloseTo(0.5835588771897013, 14);
    expect(r.h.item()).toBeCloseTo(0.40366555400150284, 14);
    const loss = F.add(F.sum(r.h), F.sum(F.mul(r.c, 0.5)));
    loss.backward();
    expect(maxDiff(gates.grad!, [0.16486807909902262, 0.10330813613072028, 0.3676506810767243, 0.09343857150648689])).toBeLessThan(1e-14);
    expect(c.grad!.item()).toBeCloseTo(0.4496017143025629, 14);
  });

  it('equals the composed ops (sigmoid/tanh/mul/add) forward and backward, float64', () => {
    const gen = new Generator(7);
    const B = 3, H = 5;
    const g1 = rnd(gen, [B, 4 * H], -2, 2).requiresGrad_(), c1 = rnd(gen, [B, H]).requiresGrad_();
    const g2 = fromArray(g1.toTyped(), g1.shape).requiresGrad_(), c2 = fromArray(c1.toTyped(), c1.shape).requiresGrad_();
    const rh = rnd(gen, [B, H]), rc = rnd(gen, [B, H]);
    const fused = F.lstmCell(g1, c1);
    const part = (k: number) => F.slice(g2, 1, k * H, (k + 1) * H);
    const cN = F.add(F.mul(F.sigmoid(part(1)), c2), F.mul(F.sigmoid(part(0)), F.tanh(part(2))));
    const hN = F.mul(F.sigmoid(part(3)), F.tanh(cN));
    expect(maxDiff(fused.h, hN)).toBeLessThan(1e-14);
    expect(maxDiff(fused.c, cN)).toBeLessThan(1e-14);
    F.add(F.sum(F.mul(fused.h, rh)), F.sum(F.mul(fused.c, rc))).backward();
    F.add(F.sum(F.mul(hN, rh)), F.sum(F.mul(cN, rc))).backward();
    expect(maxDiff(g1.grad!, g2.grad!)).toBeLessThan(1e-13);
    expect(maxDiff(c1.grad!, c2.grad!)).toBeLessThan(1e-13);
  });

  it('checks shapes', () => {
    expect(() => F.lstmCell(tensor([[1, 2, 3]]), tensor([[1]]))).toThrow(/lstmCell: gates must have shape \[B, 4H\], got \[1, 3\]/);
    expect(() => F.lstmCell(tensor([[1, 2, 3, 4]]), tensor([[1, 2]]))).toThrow(/lstmCell: c must have shape \[1, 1\]/);
  });
});

/** The LSTM recurrence written with the basic ops, one step at a time. */
function composedSequence(xProj: Tensor, w: Tensor, h0: Tensor, c0: Tensor, reverse: boolean) {
  const [, T, G] = xProj.shape, H = G / 4;
  const wT = F.transpose(w, 0, 1);
  let h = h0, c = c0;
  const outs: Tensor[] = new Array(T);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const gates = F.add(F.reshape(F.slice(xProj, 1, t, t + 1), [xProj.shape[0], G]), F.matmul(h, wT));
    const part = (k: number) => F.slice(gates, 1, k * H, (k + 1) * H);
    c = F.add(F.mul(F.sigmoid(part(1)), c), F.mul(F.sigmoid(part(0)), F.tanh(part(2))));
    h = F.mul(F.sigmoid(part(3)), F.tanh(c));
    outs[t] = h;
  }
  return { out: F.stack(outs, 1), hT: h, cT: c };
}

describe('lstmSequence', () => {
  for (const reverse of [false, true]) {
    it(`equals the composed per-step ops, forward and backward within 1e-10 (float64${reverse ? ', reverse' : ''})`, () => {
      const gen = new Generator(reverse ? 11 : 10);
      const B = 3, T = 9, H = 6;
      const leaves = () => {
        const g2 = new Generator(reverse ? 11 : 10);
        return [rnd(g2, [B, T, 4 * H]), rnd(g2, [4 * H, H], -0.5, 0.5), rnd(g2, [B, H]), rnd(g2, [B, H])].map((t) => t.requiresGrad_());
      };
      const [x1, w1, h1, c1] = leaves();
      const [x2, w2, h2, c2] = leaves();
      void gen;
      const ro = rnd(new Generator(99), [B, T, H]), rh = rnd(new Generator(98), [B, H]), rc = rnd(new Generator(97), [B, H]);
      const a = F.lstmSequence(x1, w1, h1, c1, { reverse });
      const b = composedSequence(x2, w2, h2, c2, reverse);
      expect(maxDiff(a.out, b.out)).toBeLessThan(1e-10);
      expect(maxDiff(a.hT, b.hT)).toBeLessThan(1e-10);
      expect(maxDiff(a.cT, b.cT)).toBeLessThan(1e-10);
      const loss = (r: { out: Tensor; hT: Tensor; cT: Tensor }) => F.add(F.add(F.sum(F.mul(r.out, ro)), F.sum(F.mul(r.hT, rh))), F.sum(F.mul(r.cT, rc)));
      loss(a).backward();
      loss(b).backward();
      for (const [p, q] of [[x1, x2], [w1, w2], [h1, h2], [c1, c2]]) expect(maxDiff(p.grad!, q.grad!)).toBeLessThan(1e-10);
    });
  }

  it('shapes in a row (workspace reuse, H not a multiple of 4, odd batch) still match the composed ops', () => {
    for (const [B, T, H] of [[5, 3, 4], [6, 4, 4], [2, 5, 7], [9, 2, 3], [1, 3, 1]]) {
      const mk = () => { const g = new Generator(B * 100 + H); return [rnd(g, [B, T, 4 * H]), rnd(g, [4 * H, H]), rnd(g, [B, H]), rnd(g, [B, H])].map((t) => t.requiresGrad_()); };
      const [x1, w1, h1, c1] = mk(), [x2, w2, h2, c2] = mk();
      const a = F.lstmSequence(x1, w1, h1, c1), b = composedSequence(x2, w2, h2, c2, false);
      expect(maxDiff(a.out, b.out)).toBeLessThan(1e-12);
      F.add(F.sum(F.mul(a.out, a.out)), F.sum(a.cT)).backward();
      F.add(F.sum(F.mul(b.out, b.out)), F.sum(b.cT)).backward();
      for (const [p, q] of [[x1, x2], [w1, w2], [h1, h2], [c1, c2]]) expect(maxDiff(p.grad!, q.grad!)).toBeLessThan(1e-12);
    }
  });

  it('a whole sequence is one graph node', () => {
    const gen = new Generator(3);
    const x = rnd(gen, [2, 256, 8]).requiresGrad_(), w = rnd(gen, [8, 2]).requiresGrad_();
    const r = F.lstmSequence(x, w);
    expect(r.out.node?.op).toBe('lstmSequence');
    expect(r.out.node?.inputs).toEqual([x, w]);
    expect(r.hT.node).toBe(r.out.node);
  });

  it('without h0/c0 equals zero initial state; gradient only through out', () => {
    const gen = new Generator(4);
    const x = rnd(gen, [2, 5, 12]), w = rnd(gen, [12, 3]);
    const z = fromArray(new Float64Array(6), [2, 3]);
    expect(maxDiff(F.lstmSequence(x, w).out, F.lstmSequence(x, w, z, z).out)).toBe(0);
    const xg = x.view().requiresGrad_();
    F.sum(F.lstmSequence(xg, w).out).backward();
    expect(xg.grad!.shape).toEqual([2, 5, 12]);
  });

  it('hT/cT are the state after the last step processed (t = 0 when reverse)', () => {
    const gen = new Generator(5);
    const x = rnd(gen, [2, 4, 8]), w = rnd(gen, [8, 2]);
    const f = F.lstmSequence(x, w), r = F.lstmSequence(x, w, null, null, { reverse: true });
    expect(maxDiff(f.hT, F.reshape(F.slice(f.out, 1, 3, 4), [2, 2]))).toBe(0);
    expect(maxDiff(r.hT, F.reshape(F.slice(r.out, 1, 0, 1), [2, 2]))).toBe(0);
  });

  it('checks shapes', () => {
    const x = fromArray(new Float32Array(2 * 3 * 8), [2, 3, 8]);
    expect(() => F.lstmSequence(fromArray(new Float32Array(6), [2, 3]), fromArray(new Float32Array(8), [4, 2]))).toThrow(/lstmSequence: xProj must have shape \[B, T, 4H\], got \[2, 3\]/);
    expect(() => F.lstmSequence(x, fromArray(new Float32Array(8), [2, 4]))).toThrow(/lstmSequence: W_hh must have shape \[8, 2\]/);
    expect(() => F.lstmSequence(x, fromArray(new Float32Array(16), [8, 2]), fromArray(new Float32Array(3), [1, 3]))).toThrow(/h0 must have shape \[2, 2\]/);
  });

  it('forward + backward inside tidy leaks nothing', () => {
    const gen = new Generator(6);
    const x = rnd(gen, [2, 6, 8]).requiresGrad_(), w = rnd(gen, [8, 2]).requiresGrad_();
    tidy(() => { F.sum(F.lstmSequence(x, w).out).backward(); });
    x.zeroGrad(); w.zeroGrad();
    const before = memory().numTensors;
    tidy(() => { F.sum(F.lstmSequence(x, w).out).backward(); });
    x.zeroGrad(); w.zeroGrad();
    expect(memory().numTensors).toBe(before);
  });
});

describe('lstmSequence on worker threads', () => {
  let before = 1;
  beforeAll(async () => {
    before = getNumThreads();
    setNumThreads(2);
    expect(await whenThreadsReady()).toBe(true);
  });
  afterAll(() => setNumThreads(before));

  for (const dtype of ['float32', 'float64'] as const) {
    it(`2 threads give the single-thread results (${dtype}, B 18 T 24 H 20)`, async () => {
      const run = () => {
        const gen = new Generator(21);
        const B = 18, T = 24, H = 20;
        const x = rnd(gen, [B, T, 4 * H], -1, 1, dtype).requiresGrad_(), w = rnd(gen, [4 * H, H], -0.3, 0.3, dtype).requiresGrad_();
        const h0 = rnd(gen, [B, H], -1, 1, dtype).requiresGrad_(), c0 = rnd(gen, [B, H], -1, 1, dtype).requiresGrad_();
        const r = F.lstmSequence(x, w, h0, c0, { reverse: dtype === 'float64' });
        F.add(F.sum(F.mul(r.out, r.out)), F.sum(r.cT)).backward();
        return [r.out, r.hT, r.cT, x.grad!, w.grad!, h0.grad!, c0.grad!].map((t) => t.toArray());
      };
      setNumThreads(1);
      const one = run();
      setNumThreads(2);
      expect(await whenThreadsReady()).toBe(true);
      const chunks = threadStats().workerChunks;
      // on a busy machine the main thread may take every chunk before a worker wakes (by design);
      // rerun until a worker has taken part — every run must give the single-thread results
      let two = run();
      for (let i = 0; i < 50 && threadStats().workerChunks === chunks; i++) two = run();
      expect(threadStats().workerChunks).toBeGreaterThan(chunks);      // the workers did run
      one.forEach((a, i) => expect(maxDiff(a, two[i])).toBeLessThan(dtype === 'float32' ? 1e-5 : 1e-12));
    });
  }
});
