/**
 * The native CPU LSTM kernels of native/cpu/lstm.cc (lstm_cell, lstm_cell_backward, lstm_seq_forward,
 * lstm_seq_backward) against their oracles (the TypeScript kernels of device 'cpu'), at the paper's
 * shape (bench/suites/blocks.ts: B 32, T 256, H 64, both directions) and at sizes that exercise the
 * edges: 4H and H that are not a multiple of the micro-kernel's panel width (H 33, H 5, H 1), batch
 * sizes that leave a partial row tile (B 1, 7, 17), one step (T 1), no step (T 0), saturated and
 * infinite gates, NaN.
 * Every output is poisoned (NaN) before the launch, so an element the kernel fails to write shows up.
 * Also: every kernel claimed here really is native, each instruction set (AVX-512, AVX2, generic)
 * matches the oracle, results do not depend on the thread count, and bad arguments fail with the
 * kernel and the values at fault named.
 */
import { describe, it, expect, afterAll } from 'vitest';
import * as pb from '../../src/index.js';
import { runKernel } from '../../src/dispatch/dispatch.js';
import { loadCpuNative, nativeCpuKernels, getCpuNativeThreads, setCpuNativeThreads } from '../../src/backend/native/cpu_native.js';
import { Generator } from '../../src/util/rng.js';
import { runKernelCase, type KernelCase, type Tolerance } from './parity-cases.js';
import { closeReport, deviceStatus, suiteTitle, uniform } from './helpers.js';

const DEVICE = 'cpu-native';
const KERNELS = ['lstm_cell', 'lstm_cell_backward', 'lstm_seq_forward', 'lstm_seq_backward'];

// ---- tolerances ------------------------------------------------------------------------------------
// The cell: float32 σ (≤ 2.5 ulp) and tanh (≤ 1.3 ulp) and a few float32 products vs the oracle's
// float64 rounded once: a few ulp of values ≤ 1 in magnitude (c' can be larger: rtol covers it).
const CELL: Tolerance = { atol: 1e-6, rtol: 1e-6, why: 'LSTM cell: float32 σ/tanh (≤ 2.5 ulp) and products vs float64 rounded once' };
// The sequence: each step's gates sum H float32 products (FMA, in order) vs float64, ~√H·ε·Σ|terms|
// per step; the state's error is carried through the T steps but does not grow (f < 1 damps it):
// measured ≤ 5.4e-7 abs at the model's shape (T = 256), so ~10× headroom at |value| ≈ 1.
const SEQ: Tolerance = { atol: 4e-6, rtol: 1e-5, why: 'LSTM sequence, float32 recurrence vs float64 over T steps (measured ≤ 5.4e-7 at T = 256)' };
// BPTT: dĝ, dh0, dc0 carry the same kind of per-step error through the dh (4H-term sums) and dc recurrences.
const SEQ_GRAD: Tolerance = { atol: 4e-6, rtol: 1e-5, why: 'LSTM BPTT, float32 vs float64, 4H-term carry sums per step (measured ≤ 2.4e-7 at T = 256)' };
// dW_hh = Σ over B·T steps of dĝᵀ·h_prev: a float32 SGEMM with K = B·T vs float64, error ~ √K·ε·Σ|terms|
// (measured 3.3e-6 for K = 8192, |dW| ≤ 10), on top of dĝ's own error
const dwTol = (K: number): Tolerance => ({ atol: 2e-5 * Math.sqrt(Math.max(K, 256) / 256), rtol: 1e-5,
  why: `dW_hh: float32 SGEMM over K = B·T = ${K} terms vs float64 (measured 3.3e-6 at K = 8192)` });

const g = new Generator(4242);

interface SeqShape { B: number; T: number; H: number; reverse: 0 | 1; label?: string; wScale?: number; xScale?: number }

/** Forward and backward cases of one sequence shape; the backward reads the oracle's forward outputs. */
function seqCases(s: SeqShape): KernelCase[] {
  const { B, T, H, reverse } = s, G = 4 * H;
  const name = `B${B} T${T} H${H}${reverse ? ' reverse' : ''}${s.label ? ` ${s.label}` : ''}`;
  // W_hh as nn.LSTM initialises it (U(±1/√H)); xProj = pre-activations of a few units' magnitude
  const ws = s.wScale ?? 1 / Math.sqrt(H), xs = s.xScale ?? 2;
  const xProj = uniform(g, B * T * G, -xs, xs), W = uniform(g, G * H, -ws, ws), h0 = uniform(g, B * H), c0 = uniform(g, B * H);
  const fwd: KernelCase = { name: `lstm_seq_forward ${name}`, kernel: 'lstm_seq_forward', outs: [{ n: B * T * H }, { n: B * H }, { n: B * H }, { n: B * T * 6 * H }],
    ins: [xProj, W, h0, c0], ints: [B, T, H, reverse], tol: SEQ };
  const [out, , , saved] = runKernelCase(fwd, 'cpu');
  const bwd: KernelCase = { name: `lstm_seq_backward ${name}`, kernel: 'lstm_seq_backward', outs: [{ n: B * T * G }, { n: G * H }, { n: B * H }, { n: B * H }],
    ins: [uniform(g, B * T * H), uniform(g, B * H), uniform(g, B * H), W, h0, c0, out, saved], ints: [B, T, H, reverse], tol: SEQ_GRAD };
  return [fwd, bwd];
}

function cellCases(B: number, H: number, scale = 3): KernelCase[] {
  const G = 4 * H;
  const gates = uniform(g, B * G, -scale, scale), c = uniform(g, B * H, -2, 2);
  // saturation, the tails of σ (e^x clamped) and tanh's switch between its two formulas at |x| = 0.625
  const special = [30, -30, 100, -100, 0, 1e-4, -0.625, 0.6249, Infinity, -Infinity, 88.5, -88.5];
  for (let k = 0; k < special.length && k < B * G; k++) gates[k * Math.max(1, Math.floor(B * G / special.length))] = special[k];
  const fwd: KernelCase = { name: `lstm_cell B${B} H${H}`, kernel: 'lstm_cell', outs: [{ n: B * H }, { n: B * H }, { n: B * G }], ins: [gates, c], ints: [B, H], tol: CELL };
  const [, cNew, act] = runKernelCase(fwd, 'cpu');
  const bwd: KernelCase = { name: `lstm_cell_backward B${B} H${H}`, kernel: 'lstm_cell_backward', outs: [{ n: B * G }, { n: B * H }],
    ins: [uniform(g, B * H), uniform(g, B * H), act, c, cNew], ints: [B, H], tol: CELL };
  return [fwd, bwd];
}

/** The tolerance of output i of a case (dW_hh of the sequence backward has its own). */
function tolOf(c: KernelCase, i: number): Tolerance {
  if (c.kernel === 'lstm_seq_backward' && i === 1) return dwTol(c.ints![0] * c.ints![1]);
  return c.tol;
}

function check(c: KernelCase): void {
  const ref = runKernelCase(c, 'cpu');
  const got = runKernelCase(c, DEVICE);
  const reports = got.map((o, i) => { const t = tolOf(c, i); return closeReport(o, ref[i], t, `${c.name} output ${i} (tolerance: ${t.why})`); }).filter((r) => r !== null);
  expect(reports.join('\n'), reports.join('\n')).toBe('');
}

const bits = (a: Float32Array | Int32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

const status = deviceStatus(DEVICE);
describe.skipIf(!status.available)(suiteTitle('LSTM native kernels', DEVICE), () => {
  const threads0 = status.available ? getCpuNativeThreads() ?? 1 : 1;
  afterAll(() => { if (status.available) setCpuNativeThreads(threads0); });

  it('every kernel of lstm.cc is native', () => {
    const native = new Set(nativeCpuKernels());
    expect(KERNELS.filter((k) => !native.has(k))).toEqual([]);
  });

  const model = [...seqCases({ B: 32, T: 256, H: 64, reverse: 0, label: '(the model)' }), ...seqCases({ B: 32, T: 64, H: 64, reverse: 1, label: '(the model, shorter)' })];
  const edges = [
    ...seqCases({ B: 7, T: 13, H: 33, reverse: 0 }), ...seqCases({ B: 17, T: 9, H: 5, reverse: 1 }), ...seqCases({ B: 1, T: 1, H: 1, reverse: 0 }),
    ...seqCases({ B: 1, T: 40, H: 64, reverse: 1 }), ...seqCases({ B: 3, T: 5, H: 20, reverse: 0, label: 'saturated', wScale: 3, xScale: 40 }),
  ];
  const cells = [...cellCases(32, 64), ...cellCases(7, 33), ...cellCases(1, 1, 50), ...cellCases(2, 3, 100)];
  for (const c of [...model, ...edges, ...cells]) it(c.name, () => check(c));

  it('no time step (T = 0): the state and its gradients pass through, dW_hh = 0', () => {
    const [B, H] = [3, 5];
    const h0 = uniform(g, B * H), c0 = uniform(g, B * H), W = uniform(g, 4 * H * H), dhT = uniform(g, B * H), dcT = uniform(g, B * H);
    const [, hT, cT] = runKernelCase({ name: '', kernel: 'lstm_seq_forward', outs: [{ n: 0 }, { n: B * H }, { n: B * H }, { n: 0 }], ins: [new Float32Array(0), W, h0, c0], ints: [B, 0, H, 0], tol: SEQ }, DEVICE);
    expect(Array.from(hT)).toEqual(Array.from(h0));
    expect(Array.from(cT)).toEqual(Array.from(c0));
    const [, dW, dh0, dc0] = runKernelCase({ name: '', kernel: 'lstm_seq_backward', outs: [{ n: 0 }, { n: 4 * H * H }, { n: B * H }, { n: B * H }],
      ins: [new Float32Array(0), dhT, dcT, W, h0, c0, new Float32Array(0), new Float32Array(0)], ints: [B, 0, H, 1], tol: SEQ }, DEVICE);
    expect(Array.from(dW)).toEqual(new Array(4 * H * H).fill(0));
    expect(Array.from(dh0)).toEqual(Array.from(dhT));
    expect(Array.from(dc0)).toEqual(Array.from(dcT));
  });

  it('NaN in the input propagates to the same outputs as the oracle', () => {
    const c = seqCases({ B: 4, T: 6, H: 9, reverse: 0 });
    (c[0].ins[0] as Float32Array)[2 * 4 * 9 * 6 + 3] = NaN;    // xProj[b = 2, t = 0, j = 3]
    check(c[0]);
    const cell = cellCases(3, 8);
    (cell[0].ins[0] as Float32Array)[40] = NaN;
    check(cell[0]);
  });

  it('each instruction set matches the oracle (the micro-kernel and the cell are compiled per ISA)', () => {
    const addon = loadCpuNative().addon!;
    const isa = addon.info().isa;
    const sel = [...seqCases({ B: 13, T: 21, H: 37, reverse: 0 }), ...seqCases({ B: 9, T: 16, H: 64, reverse: 1 }), ...cellCases(5, 37)];
    const tried: string[] = [];
    try {
      for (const set of ['avx512', 'avx2+fma', 'generic']) {
        if (!addon.gemmSetIsa(set)) continue;   // not on this CPU
        tried.push(set);
        setCpuNativeThreads(2);
        for (const c of sel) check(c);
      }
    } finally {
      addon.gemmSetIsa(isa);
      setCpuNativeThreads(threads0);
    }
    expect(tried).toContain('generic');
  });

  // each batch row (sequence) is computed by one thread with the same arithmetic whatever tile it
  // falls in; dW_hh is one sgemm (deterministic): 1, 2 and 3 threads give the same bits
  it('results do not depend on the thread count', () => {
    const picked = [...seqCases({ B: 11, T: 30, H: 64, reverse: 0 }), ...seqCases({ B: 32, T: 12, H: 33, reverse: 1 }), ...cellCases(40, 64)];
    try {
      for (const c of picked) {
        const runs = [1, 2, 3].map((t) => { setCpuNativeThreads(t); return runKernelCase(c, DEVICE); });
        for (const r of runs.slice(1)) r.forEach((a, i) => expect(bits(a), `${c.name} output ${i}`).toEqual(bits(runs[0][i])));
      }
    } finally {
      setCpuNativeThreads(threads0);
    }
  });

  it('bad arguments fail with the kernel and the values named', () => {
    const launch = (kernel: string, outs: number[], ins: number[], ints: number[]) => pb.tidy(() => {
      runKernel(kernel, outs.map((n) => pb.zeros([n], { device: DEVICE })), ins.map((n) => pb.zeros([n], { device: DEVICE })), ints, []);
    });
    const [B, T, H] = [2, 3, 4], G = 4 * H;
    const fOuts = [B * T * H, B * H, B * H, B * T * 6 * H], fIns = [B * T * G, G * H, B * H, B * H];
    const bOuts = [B * T * G, G * H, B * H, B * H], bIns = [B * T * H, B * H, B * H, G * H, B * H, B * H, B * T * H, B * T * 6 * H];
    expect(() => launch('lstm_seq_forward', fOuts, fIns, [B, T, H, 0])).not.toThrow();
    expect(() => launch('lstm_seq_backward', bOuts, bIns, [B, T, H, 1])).not.toThrow();
    expect(() => launch('lstm_seq_forward', fOuts, [B * T * G - 1, ...fIns.slice(1)], [B, T, H, 0])).toThrow(/lstm_seq_forward.*input 0 has 95 elements, expected 96/);
    expect(() => launch('lstm_seq_forward', fOuts, [fIns[0], G * H + 4, B * H, B * H], [B, T, H, 0])).toThrow(/lstm_seq_forward.*input 1 has 68 elements, expected 64/);
    expect(() => launch('lstm_seq_forward', [B * T * H, B * H, B * H, B * T * 4 * H], fIns, [B, T, H, 0])).toThrow(/lstm_seq_forward.*output 3 has 96 elements, expected 144/);
    expect(() => launch('lstm_seq_forward', fOuts, fIns, [B, T, H, 2])).toThrow(/lstm_seq_forward.*reverse = 2 must be 0 or 1/);
    expect(() => launch('lstm_seq_forward', fOuts, fIns, [B, -3, H, 0])).toThrow(/lstm_seq_forward.*T = -3 must be ≥ 0/);
    expect(() => launch('lstm_seq_forward', fOuts, fIns, [B, T, H])).toThrow(/lstm_seq_forward.*expects 4 ints, got 3/);
    expect(() => launch('lstm_seq_forward', fOuts, fIns, [1 << 30, 1 << 30, 1 << 30, 0])).toThrow(/lstm_seq_forward.*sizes overflow/);
    expect(() => launch('lstm_seq_backward', bOuts, [...bIns.slice(0, 7), B * T * 6 * H + 1], [B, T, H, 0])).toThrow(/lstm_seq_backward.*input 7 has 145 elements, expected 144/);
    expect(() => launch('lstm_seq_backward', [B * T * G, G * H - 1, B * H, B * H], bIns, [B, T, H, 0])).toThrow(/lstm_seq_backward.*output 1 has 63 elements, expected 64/);
    expect(() => launch('lstm_seq_backward', bOuts, bIns, [-2, T, H, 0])).toThrow(/lstm_seq_backward.*B = -2 must be ≥ 0/);
    expect(() => launch('lstm_seq_backward', bOuts, bIns.slice(1), [B, T, H, 0])).toThrow(/lstm_seq_backward/);
    expect(() => launch('lstm_cell', [B * H, B * H, B * G], [B * G, B * H], [B, H])).not.toThrow();
    expect(() => launch('lstm_cell', [B * H, B * H, B * G], [B * G, B * H + 1], [B, H])).toThrow(/lstm_cell.*input 1 has 9 elements, expected 8/);
    expect(() => launch('lstm_cell', [B * H, B * H, B * G], [B * G, B * H], [B, -4])).toThrow(/lstm_cell.*H = -4 must be ≥ 0/);
    expect(() => launch('lstm_cell_backward', [B * G, B * H], [B * H, B * H, B * G, B * H, B * H - 1], [B, H])).toThrow(/lstm_cell_backward.*input 4 has 7 elements, expected 8/);
    expect(() => launch('lstm_cell_backward', [B * G, B * H], [B * H, B * H, B * G, B * H, B * H], [B, H, 1])).toThrow(/lstm_cell_backward.*expects 2 ints, got 3/);
  });
});
