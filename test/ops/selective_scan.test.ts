// Selective scan: a mamba-minimal reference loop written here, the chunked (parallel prefix)
// implementation against the sequential one forward and backward (float64 1e-10, float32 1e-5)
// over lengths / chunk sizes / edge values, worker threads, errors.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { F, Generator, fromArray, tidy, memory, setNumThreads, getNumThreads, type Tensor } from '../../src/index.js';
import { whenThreadsReady, threadStats } from '../../src/backend/cpu/threads.js';
import { maxDiff, uniform as rnd } from '../helpers/numeric.js';

type DT = 'float32' | 'float64';
/** max |a − b| relative to max |b| (gradients summed over many steps grow large in float32). */
function relDiff(a: Tensor, b: Tensor): number {
  const y = b.toArray();
  return maxDiff(a, b) / Math.max(1e-30, ...y.map(Math.abs));
}

interface Inputs { u: Tensor; delta: Tensor; A: Tensor; Bm: Tensor; Cm: Tensor; D: Tensor; bias: Tensor }
function inputs(seed: number, B: number, L: number, D: number, N: number, dtype: DT = 'float64', deltaRange: [number, number] = [-2, 1]): Inputs {
  const g = new Generator(seed);
  return {
    u: rnd(g, [B, L, D], -1, 1, dtype), delta: rnd(g, [B, L, D], deltaRange[0], deltaRange[1], dtype), A: rnd(g, [D, N], -3, -0.1, dtype),
    Bm: rnd(g, [B, L, N], -1, 1, dtype), Cm: rnd(g, [B, L, N], -1, 1, dtype), D: rnd(g, [D], -1, 1, dtype), bias: rnd(g, [D], -0.5, 0.5, dtype),
  };
}
const leaves = (x: Inputs) => Object.values(x).map((t) => t.requiresGrad_()) as Tensor[];

describe('selective scan: reference values', () => {
  it('both implementations equal a mamba-minimal loop written out here', () => {
    const B = 1, L = 5, D = 2, N = 3;
    const x = inputs(1, B, L, D, N);
    const [u, dl, A, Bm, Cm, Ds, bias] = [x.u, x.delta, x.A, x.Bm, x.Cm, x.D, x.bias].map((t) => t.toArray());
    // mamba-minimal's selective_scan, one (b, d) channel at a time:
    //   Δ = softplus(δ + bias);  h = exp(Δ·A)·h + Δ·B_t·u_t;  y_t = C_t·h + D·u_t
    const want: number[] = new Array(B * L * D).fill(0);
    for (let d = 0; d < D; d++) {
      const h = new Array(N).fill(0);
      for (let t = 0; t < L; t++) {
        const dt = Math.log(1 + Math.exp(dl[t * D + d] + bias[d]));
        let y = 0;
        for (let n = 0; n < N; n++) {
          h[n] = Math.exp(dt * A[d * N + n]) * h[n] + dt * Bm[t * N + n] * u[t * D + d];
          y += Cm[t * N + n] * h[n];
        }
        want[t * D + d] = y + Ds[d] * u[t * D + d];
      }
    }
    const opts = { deltaBias: x.bias, deltaSoftplus: true, chunkSize: 2 };
    expect(maxDiff(F.selectiveScanSequential(x.u, x.delta, x.A, x.Bm, x.Cm, x.D, opts), want)).toBeLessThan(1e-14);
    expect(maxDiff(F.selectiveScanChunked(x.u, x.delta, x.A, x.Bm, x.Cm, x.D, opts), want)).toBeLessThan(1e-14);
  });

  it('L = 1, N = 1, no softplus, no D: y = C·Δ·B·u', () => {
    const u = fromArray([2], [1, 1, 1]), dl = fromArray([0.5], [1, 1, 1]), A = fromArray([-1], [1, 1]);
    const Bm = fromArray([3], [1, 1, 1]), Cm = fromArray([4], [1, 1, 1]);
    expect(F.selectiveScanSequential(u, dl, A, Bm, Cm).item()).toBeCloseTo(12, 6);
    expect(F.selectiveScan(u, dl, A, Bm, Cm).item()).toBeCloseTo(12, 6);
  });

  it('the gradient matches the hand-derived one on a 2-step scan', () => {
    // N = D = B = 1, no softplus: h0 = Δ0·B0·u0, h1 = a1·h0 + Δ1·B1·u1 (a1 = exp(Δ1·A)), y = (C0·h0, C1·h1)
    // L = y0 + y1:  dA = C1·h0·Δ1·a1;  dΔ0 = (C0 + C1·a1)·B0·u0
    const [d0, d1, a, b0, b1, c0, c1, u0, u1] = [0.3, 0.7, -0.8, 0.5, -1.2, 0.9, 1.1, 1.5, -0.4];
    const mk = (v: number[], s: number[]) => fromArray(v, s, { dtype: 'float64' }).requiresGrad_();
    const u = mk([u0, u1], [1, 2, 1]), dl = mk([d0, d1], [1, 2, 1]), A = mk([a], [1, 1]);
    const Bm = mk([b0, b1], [1, 2, 1]), Cm = mk([c0, c1], [1, 2, 1]);
    F.sum(F.selectiveScanChunked(u, dl, A, Bm, Cm, null, { chunkSize: 2 })).backward();
    const h0 = d0 * b0 * u0, a1 = Math.exp(d1 * a);
    expect(A.grad!.item()).toBeCloseTo(c1 * h0 * d1 * a1, 14);
    expect(dl.grad!.toArray()[0]).toBeCloseTo((c0 + c1 * a1) * b0 * u0, 14);
    expect(Cm.grad!.toArray()).toEqual([expect.closeTo(h0, 14), expect.closeTo(a1 * h0 + d1 * b1 * u1, 14)]);
  });
});

describe('chunked (parallel prefix) == sequential', () => {
  const cases: [string, number, number, number, number, number, [number, number]?][] = [
    // name, B, L, D, N, chunk, δ range
    ['L 1', 2, 1, 3, 4, 64],
    ['L 7 chunk 4 (padded last chunk)', 2, 7, 3, 4, 4],
    ['L 64 chunk 64, N 16', 2, 64, 5, 16, 64],
    ['L 200 chunk 32, N 1', 2, 200, 4, 1, 32],
    ['L 33 chunk 1 (every step its own chunk)', 1, 33, 2, 3, 1],
    ['large Δ (Ā underflows) and δ > 20 (softplus passthrough)', 2, 40, 3, 8, 16, [5, 40]],
  ];
  for (const dtype of ['float64', 'float32'] as const) {
    for (const [name, B, L, D, N, chunk, range] of cases) {
      it(`${name} (${dtype}): forward and all gradients`, () => {
        const tol = dtype === 'float64' ? 1e-10 : 1e-5;
        const x1 = inputs(L + N, B, L, D, N, dtype, range), x2 = inputs(L + N, B, L, D, N, dtype, range);
        const [a1, a2] = [leaves(x1), leaves(x2)];
        const opts = (x: Inputs) => ({ deltaBias: x.bias, deltaSoftplus: true, chunkSize: chunk });
        const ys = F.selectiveScanSequential(x1.u, x1.delta, x1.A, x1.Bm, x1.Cm, x1.D, opts(x1));
        const yc = F.selectiveScanChunked(x2.u, x2.delta, x2.A, x2.Bm, x2.Cm, x2.D, opts(x2));
        expect(relDiff(yc, ys)).toBeLessThan(tol);
        const r = rnd(new Generator(9), [B, L, D], -1, 1, dtype);
        F.sum(F.mul(ys, r)).backward();
        F.sum(F.mul(yc, r)).backward();
        a1.forEach((p, i) => expect(relDiff(a2[i].grad!, p.grad!), `gradient ${['u', 'delta', 'A', 'B', 'C', 'D', 'bias'][i]}`).toBeLessThan(tol));
      });
    }
  }

  it('without softplus / bias / D: the same op on a given Δ', () => {
    const x = inputs(3, 2, 20, 3, 5, 'float64', [0.05, 1]);
    const g = (f: typeof F.selectiveScanSequential) => {
      const [u, dl, A, Bm, Cm] = [x.u, x.delta, x.A, x.Bm, x.Cm].map((t) => t.view().requiresGrad_());
      const y = f(u, dl, A, Bm, Cm, null, { chunkSize: 8 });
      F.sum(F.mul(y, y)).backward();
      return [y, u.grad!, dl.grad!, A.grad!, Bm.grad!, Cm.grad!];
    };
    const s = g(F.selectiveScanSequential), c = g(F.selectiveScanChunked);
    s.forEach((t, i) => expect(maxDiff(c[i], t)).toBeLessThan(1e-10));
  });
});

describe('selective scan: errors and memory', () => {
  it('checks shapes and the chunk size', () => {
    const x = inputs(1, 2, 4, 3, 2);
    expect(() => F.selectiveScan(x.u, x.delta, x.A, x.Bm, x.Cm, x.D, { chunkSize: 3 })).toThrow(/selectiveScanChunked: chunkSize must be a power of two, got 3/);
    expect(() => F.selectiveScanSequential(x.u, x.delta, x.A, x.Cm, x.Bm, fromArray([1, 2], [2], { dtype: 'float64' }))).toThrow(/selectiveScanSequential: D must have shape \[3\], got \[2\]/);
    expect(() => F.selectiveScan(x.u, x.Bm, x.A, x.Bm, x.Cm)).toThrow(/delta must have u's shape \[2, 4, 3\], got \[2, 4, 2\]/);
    expect(() => F.selectiveScan(x.u, x.delta, x.A, x.u, x.Cm)).toThrow(/B must have shape \[2, 4, 2\]/);
  });

  it('forward + backward inside tidy leaks nothing', () => {
    const x = inputs(2, 2, 9, 3, 4);
    const ls = leaves(x);
    const run = () => tidy(() => { F.sum(F.selectiveScan(x.u, x.delta, x.A, x.Bm, x.Cm, x.D, { deltaBias: x.bias, deltaSoftplus: true, chunkSize: 4 })).backward(); });
    run(); ls.forEach((t) => t.zeroGrad());
    const before = memory().numTensors;
    run(); ls.forEach((t) => t.zeroGrad());
    expect(memory().numTensors).toBe(before);
  });
});

describe('chunked scan on worker threads', () => {
  let before = 1;
  beforeAll(() => { before = getNumThreads(); });
  afterAll(() => setNumThreads(before));

  for (const dtype of ['float32', 'float64'] as const) {
    it(`2 threads give the single-thread results (${dtype}, B 8 L 70 D 40 N 16)`, async () => {
      const run = () => {
        const x = inputs(5, 8, 70, 40, 16, dtype);
        const ls = leaves(x);
        const y = F.selectiveScanChunked(x.u, x.delta, x.A, x.Bm, x.Cm, x.D, { deltaBias: x.bias, deltaSoftplus: true, chunkSize: 16 });
        F.sum(F.mul(y, y)).backward();
        return [y, ...ls.map((t) => t.grad!)];
      };
      setNumThreads(1);
      const one = run();
      setNumThreads(2);
      expect(await whenThreadsReady()).toBe(true);
      const chunks = threadStats().workerChunks;
      // the main thread may take every chunk before a worker wakes on a busy machine: rerun until one did
      let two = run();
      for (let i = 0; i < 50 && threadStats().workerChunks === chunks; i++) two = run();
      expect(threadStats().workerChunks).toBeGreaterThan(chunks);
      one.forEach((t, i) => expect(relDiff(two[i], t)).toBeLessThan(dtype === 'float32' ? 1e-6 : 1e-13));
      // and again: the pool reuses its scratch, and the backward accumulates into it — a call must
      // not start from the previous call's sums (dA, dB, dC, dD and dδ_bias once grew 1×, 2×, 3×)
      const again = run();
      one.forEach((t, i) => expect(relDiff(again[i], t)).toBeLessThan(dtype === 'float32' ? 1e-6 : 1e-13));
    });
  }
});
