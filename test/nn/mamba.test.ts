// MambaBlock: mamba_ssm's names, shapes and default init; the PixelBytes configuration's parameter
// count; forward = a plain-JS mamba-minimal loop written out here; causality; gradcheck.
import { describe, it, expect } from 'vitest';
import { nn, F, Generator, fromArray, gradcheck, describeFailures } from '../../src/index.js';
import { rnd, maxDiff } from '../helpers/numeric.js';

const names = (m: nn.Module) => [...m.namedParameters()].map(([n, p]) => `${n}:${p.shape.join('x')}`);
const sig = (x: number) => 1 / (1 + Math.exp(-x));
const silu = (x: number) => x * sig(x);
const softplus = (x: number) => (x <= 20 ? Math.log1p(Math.exp(x)) : x);

describe('MambaBlock', () => {
  it("mamba_ssm's names and shapes; PixelBytes' config (d_model 81, d_state 64) has 73,548 parameters", () => {
    const m = new nn.MambaBlock(81, { dState: 64 });
    expect(names(m)).toEqual([
      'A_log:162x64', 'D:162', 'in_proj.weight:324x81', 'conv1d.weight:162x1x4', 'conv1d.bias:162',
      'x_proj.weight:134x162', 'dt_proj.weight:162x6', 'dt_proj.bias:162', 'out_proj.weight:81x162',
    ]);
    expect(m.dtRank).toBe(6);
    expect(m.numParameters()).toBe(73_548);
    // SPEC §3.6: ssm_bi 1 layer = 91,431 = PxByEmbed 8,568 + Mamba 73,548 + LayerNorm 162 + head Linear(81→113, no bias) 9,153
    expect(8_568 + 73_548 + 162 + 9_153).toBe(91_431);
    expect(new nn.MambaBlock(16).dState).toBe(16);    // the library default
  });

  it('default init: A_log = log(1..N) per channel, D = 1, softplus(dt bias) log-uniform in [1e-3, 0.1], dt weight U(±dt_rank^−½)', () => {
    const m = new nn.MambaBlock(32, { dState: 8, generator: new Generator(1) });
    const aLog = m.aLog.toArray();
    for (let d = 0; d < 64; d++) for (let n = 0; n < 8; n++) expect(aLog[d * 8 + n]).toBeCloseTo(Math.log(n + 1), 6);
    expect(m.D.toArray().every((x) => x === 1)).toBe(true);
    const dts = m.dtProj.bias!.toArray().map(softplus);
    expect(Math.min(...dts)).toBeGreaterThanOrEqual(1e-3 * 0.999);
    expect(Math.max(...dts)).toBeLessThanOrEqual(0.1 * 1.001);
    const logs = dts.map(Math.log), mid = (Math.log(1e-3) + Math.log(0.1)) / 2;
    expect(Math.abs(logs.reduce((a, b) => a + b, 0) / logs.length - mid)).toBeLessThan(0.6);   // log-uniform, not uniform
    const w = m.dtProj.weight.toArray().map(Math.abs);
    expect(Math.max(...w)).toBeLessThanOrEqual(2 ** -0.5);
    expect(Math.max(...w)).toBeGreaterThan(0.6);
    expect(Math.max(...m.conv1d.weight.toArray().map(Math.abs))).toBeLessThanOrEqual(0.5);
  });

  it('forward = a plain mamba-minimal loop (in_proj, causal depthwise conv, SiLU, x_proj, dt_proj, scan, gate, out_proj)', () => {
    const gen = new Generator(2);
    const Dm = 3, N = 2, L = 6, B = 2;
    const m = new nn.MambaBlock(Dm, { dState: N, dtype: 'float64', generator: gen });
    m.D.assign(rnd(gen, [2 * Dm]));               // a non-trivial skip
    const x = rnd(gen, [B, L, Dm]);
    const Di = m.dInner, R = m.dtRank, K = m.dConv;
    const [Win, cw, cb, Wx, Wdt, bdt, aLog, Dsk, Wout] = [m.inProj.weight, m.conv1d.weight, m.conv1d.bias!, m.xProj.weight,
      m.dtProj.weight, m.dtProj.bias!, m.aLog, m.D, m.outProj.weight].map((t) => t.toArray());
    const xs = x.toArray(), want: number[] = [];
    for (let b = 0; b < B; b++) {
      const xin: number[][] = [], z: number[][] = [];
      for (let t = 0; t < L; t++) {
        const row = (j: number) => { let s = 0; for (let i = 0; i < Dm; i++) s += Win[j * Dm + i] * xs[(b * L + t) * Dm + i]; return s; };
        xin.push(Array.from({ length: Di }, (_, j) => row(j)));
        z.push(Array.from({ length: Di }, (_, j) => row(Di + j)));
      }
      // causal depthwise conv: out[t, d] = bias[d] + Σ_k w[d, 0, k] · x[t − (K−1) + k, d]
      const u = xin.map((_, t) => Array.from({ length: Di }, (__, d) => {
        let s = cb[d];
        for (let k = 0; k < K; k++) { const tt = t - (K - 1) + k; if (tt >= 0) s += cw[d * K + k] * xin[tt][d]; }
        return silu(s);
      }));
      const h = Array.from({ length: Di }, () => new Array(N).fill(0));
      for (let t = 0; t < L; t++) {
        const dbl = Array.from({ length: R + 2 * N }, (_, j) => { let s = 0; for (let d = 0; d < Di; d++) s += Wx[j * Di + d] * u[t][d]; return s; });
        const y: number[] = [];
        for (let d = 0; d < Di; d++) {
          let dl = bdt[d];
          for (let r = 0; r < R; r++) dl += Wdt[d * R + r] * dbl[r];
          const dt = softplus(dl);
          let yt = 0;
          for (let n = 0; n < N; n++) {
            h[d][n] = Math.exp(dt * -Math.exp(aLog[d * N + n])) * h[d][n] + dt * dbl[R + n] * u[t][d];
            yt += dbl[R + N + n] * h[d][n];
          }
          y.push((yt + Dsk[d] * u[t][d]) * silu(z[t][d]));
        }
        for (let o = 0; o < Dm; o++) { let s = 0; for (let d = 0; d < Di; d++) s += Wout[o * Di + d] * y[d]; want.push(s); }
      }
    }
    expect(maxDiff(m.forward(x), want)).toBeLessThan(1e-12);
  });

  it('is causal: output t does not depend on inputs after t', () => {
    const gen = new Generator(3);
    const m = new nn.MambaBlock(8, { dState: 4, dtype: 'float64', generator: gen });
    const a = rnd(gen, [1, 10, 8]);
    const bd = a.toTyped(); for (let i = 6 * 8; i < 10 * 8; i++) bd[i] -= 0.5;
    const ya = m.forward(a), yb = m.forward(fromArray(bd, [1, 10, 8]));
    expect(maxDiff(F.slice(ya, 1, 0, 6), F.slice(yb, 1, 0, 6))).toBe(0);
    expect(maxDiff(F.slice(ya, 1, 6, 10), F.slice(yb, 1, 6, 10))).toBeGreaterThan(1e-4);
  });

  it('gradcheck through the whole block (float64; every parameter and the input)', () => {
    const gen = new Generator(4);
    const m = new nn.MambaBlock(4, { dState: 3, dtype: 'float64', generator: gen, chunkSize: 4 });
    const x = rnd(gen, [2, 7, 4]).requiresGrad_();
    const r = gradcheck((xx) => m.forward(xx), [x, ...m.parameters()]);
    expect(r.ok, describeFailures('MambaBlock', r)).toBe(true);
  });

  it('checks its input', () => {
    expect(() => new nn.MambaBlock(8).forward(fromArray(new Float32Array(12), [1, 3, 4]))).toThrow(/MambaBlock: input must have shape \[B, L, 8\], got \[1, 3, 4\]/);
  });
});
