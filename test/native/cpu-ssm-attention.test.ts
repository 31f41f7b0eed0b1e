/**
 * The native CPU kernels of native/cpu/selective_scan.cc, conv1d.cc and attention.cc against their
 * oracles (the TypeScript kernels of device 'cpu'), at the paper's shapes (bench/suites/blocks.ts:
 * Mamba d_inner 162, d_state 64, L 256; attention 4 heads of 20 at L 256; conv1d 162 channels,
 * K 4 — with a smaller batch so the oracle stays fast) and at sizes that exercise the edges: state
 * counts that are not a multiple of the 16 vector lanes, one-element dimensions, chunks longer than
 * the sequence, rows long enough for the sequential backward's checkpoints, the softplus tails,
 * NaN propagation, dropout, Lq ≠ Lk, the channel-block split of the scan backward (batch < 16).
 * Every output is poisoned (NaN) before the launch, so an element the kernel fails to write shows up.
 * Also: every kernel claimed here really is native, results do not depend on the thread count,
 * and bad arguments fail with the kernel and the values at fault named.
 */
import { describe, it, expect, afterAll } from 'vitest';
import * as pb from '../../src/index.js';
import { runKernel } from '../../src/dispatch/dispatch.js';
import { loadCpuNative, nativeCpuKernels, getCpuNativeThreads, setCpuNativeThreads } from '../../src/backend/native/cpu_native.js';
import { Generator } from '../../src/util/rng.js';
import { runKernelCase, type KernelCase, type Tolerance } from './parity-cases.js';
import { closeReport, deviceStatus, suiteTitle, uniform, normal } from './helpers.js';

const DEVICE = 'cpu-native';
const KERNELS = ['selective_scan_forward', 'selective_scan_backward', 'selective_scan_chunked_forward', 'selective_scan_chunked_backward',
  'conv1d_causal', 'conv1d_causal_backward', 'attention_forward', 'attention_backward'];

// ---- tolerances ------------------------------------------------------------------------------------
// The scan runs in float32 (states, products, a ≤ 1-ulp exp), the oracle in float64: mamba's own
// float32 test tolerances (rtol 6e-4, atol 2e-3 forward; the backward 2–5× looser), as the shared
// parity cases use. The sums over the batch and time (dA, dD, dδ_bias: B·L terms) and over the
// channels (dB, dC: D terms of float32 products, which the oracle itself accumulates in float32)
// scale with √terms: their atol grows with the magnitudes of those sums. Measured on AVX-512: the
// worst |Δ| is ≤ 2 % of the allowed one for the scan, ≤ 1.5 % for attention; conv1d is bit-exact.
const SCAN: Tolerance = { atol: 2e-4, rtol: 6e-4, why: 'selective scan forward, float32 vs float64 (mamba: rtol 6e-4, atol 2e-3)' };
const scanGrad = (terms: number): Tolerance => ({ atol: 1e-3 * Math.max(1, Math.sqrt(terms / 64)), rtol: 3e-3,
  why: `selective scan backward, float32 vs float64, sums of up to ${terms} terms (mamba: 2-5x the forward tolerance)` });
// conv1d: the native kernel does the oracle's float64 sums in the oracle's order, rounded once
const EXACT: Tolerance = { atol: 0, rtol: 0, why: 'conv1d: the same float64 sums in the same order as the oracle, rounded once' };
// attention: float32 GEMMs (K = Dh or Lk terms) vs float64, a float32 softmax with a 1-ulp exp
const attnTol = (k: number): Tolerance => ({ atol: 2e-5 * Math.sqrt(Math.max(k, 16) / 16), rtol: 1e-4,
  why: `attention: float32 GEMMs over up to ${k} terms + float32 softmax vs float64 (CUDA-NOTES §3 allows 1e-3 + 1e-4)` });

const g = new Generator(97);

// ---- selective scan --------------------------------------------------------------------------------
interface ScanShape { B: number; L: number; D: number; N: number; sp: number; Tc: number; label?: string; wide?: boolean; nan?: boolean }
function scanCases(s: ScanShape): KernelCase[] {
  const { B, L, D, N, sp, Tc } = s;
  // δ as the model makes it; without softplus the caller passes Δ > 0 itself (else Ā > 1 and h grows as e^t)
  const u = normal(g, B * L * D), delta = s.wide ? uniform(g, B * L * D, -30, 25) : sp ? normal(g, B * L * D, 0.5) : uniform(g, B * L * D, 0, 0.5);
  const A = uniform(g, D * N, -2, -0.1), Bm = normal(g, B * L * N), Cm = normal(g, B * L * N);
  const Ds = normal(g, D), db = normal(g, D, 0.1);
  if (s.nan) { u[Math.floor(u.length / 3)] = NaN; delta[Math.floor(delta.length / 2)] = NaN; }
  const ins = [u, delta, A, Bm, Cm, Ds, db];
  const nC = Math.ceil(L / Tc);
  const name = `B${B} L${L} D${D} N${N}${sp ? ' softplus' : ''}${s.label ? ` ${s.label}` : ''}`;
  const fwdOuts = [{ n: B * L * D }, { n: B * D * nC * N }];
  const bOuts = [{ n: B * L * D }, { n: B * L * D }, { n: D * N }, { n: B * L * N }, { n: B * L * N }, { n: D }, { n: D }];
  const dy = normal(g, B * L * D);
  // the chunked backward reads the chunked forward's hStart: the oracle's, on both sides
  const hStart = runKernelCase({ name: '', kernel: 'selective_scan_chunked_forward', outs: fwdOuts, ins, ints: [B, L, D, N, sp, Tc], tol: SCAN }, 'cpu')[1];
  const gradTol = scanGrad(Math.max(B * L, D));
  return [
    { name: `selective_scan_forward ${name}`, kernel: 'selective_scan_forward', outs: [fwdOuts[0]], ins, ints: [B, L, D, N, sp], tol: SCAN },
    { name: `selective_scan_chunked_forward ${name} Tc${Tc}`, kernel: 'selective_scan_chunked_forward', outs: fwdOuts, ins, ints: [B, L, D, N, sp, Tc], tol: SCAN },
    { name: `selective_scan_backward ${name}`, kernel: 'selective_scan_backward', outs: bOuts, ins: [dy, ...ins], ints: [B, L, D, N, sp], tol: gradTol },
    { name: `selective_scan_chunked_backward ${name} Tc${Tc}`, kernel: 'selective_scan_chunked_backward', outs: bOuts, ins: [dy, ...ins, hStart], ints: [B, L, D, N, sp, Tc], tol: gradTol },
  ];
}
const SCAN_SHAPES: ScanShape[] = [
  { B: 2, L: 256, D: 162, N: 64, sp: 1, Tc: 64, label: '(the paper\'s block, batch 2: channel blocks split)' },
  { B: 17, L: 33, D: 5, N: 23, sp: 1, Tc: 16, label: '(N not a multiple of 16, batch ≥ 16: one block per batch row)' },
  { B: 3, L: 77, D: 19, N: 16, sp: 0, Tc: 128, label: '(a chunk longer than the sequence)' },
  { B: 2, L: 40, D: 7, N: 9, sp: 1, Tc: 1, label: '(δ in [−30, 25]: both softplus tails; Tc 1)', wide: true },
  { B: 1, L: 1100, D: 3, N: 17, sp: 1, Tc: 256, label: '(the sequential backward\'s checkpoints)' },
  { B: 2, L: 1100, D: 2, N: 17, sp: 1, Tc: 2048, label: '(a chunk too long for the backward\'s scratch: checkpoints)' },
  { B: 1, L: 1, D: 1, N: 1, sp: 0, Tc: 2 },
  { B: 2, L: 5, D: 3, N: 0, sp: 1, Tc: 4, label: '(no state)' },
  { B: 2, L: 20, D: 4, N: 5, sp: 1, Tc: 8, label: '(NaN in u and δ)', nan: true },
  { B: 2, L: 0, D: 3, N: 4, sp: 1, Tc: 4, label: '(empty: no step, every sum 0)' },
];

// ---- conv1d -------------------------------------------------------------------------------------------
function convCases(B: number, D: number, L: number, K: number, hasBias: number): KernelCase[] {
  const x = normal(g, B * D * L), w = normal(g, D * K), b = normal(g, D);
  const name = `B${B} D${D} L${L} K${K}${hasBias ? ' +b' : ''}`;
  return [
    { name: `conv1d_causal ${name}`, kernel: 'conv1d_causal', outs: [{ n: B * D * L }], ins: hasBias ? [x, w, b] : [x, w], ints: [B, D, L, K, hasBias], tol: EXACT },
    { name: `conv1d_causal_backward ${name}`, kernel: 'conv1d_causal_backward', outs: [{ n: B * D * L }, { n: D * K }, { n: D }], ins: [normal(g, B * D * L), x, w], ints: [B, D, L, K], tol: EXACT },
  ];
}

// ---- attention ------------------------------------------------------------------------------------------
function attnCases(BH: number, Lq: number, Lk: number, Dh: number, causal: number, p: number, nanKey = false): KernelCase[] {
  const q = normal(g, BH * Lq * Dh), k = normal(g, BH * Lk * Dh), v = normal(g, BH * Lk * Dh);
  if (nanKey) k[Dh + 1] = NaN;   // key 1 of slice 0: every row of that slice sees a NaN score (the max skips it, the sum does not)
  const is = [BH, Lq, Lk, Dh, causal, 1234567], fs = [1 / Math.sqrt(Math.max(Dh, 1)), p];
  const name = `BH${BH} Lq${Lq} Lk${Lk} Dh${Dh}${causal ? ' causal' : ''}${p ? ` dropout ${p}` : ''}${nanKey ? ' (a NaN key)' : ''}`;
  const fwd: KernelCase = { name: `attention_forward ${name}`, kernel: 'attention_forward', outs: [{ n: BH * Lq * Dh }, { n: BH * Lq * Lk }], ins: [q, k, v], ints: is, floats: fs, tol: attnTol(Math.max(Dh, Lk)) };
  const att = runKernelCase(fwd, 'cpu')[1] as Float32Array;   // a valid P (the oracle's) for the backward
  return [fwd, { name: `attention_backward ${name}`, kernel: 'attention_backward', outs: [{ n: BH * Lq * Dh }, { n: BH * Lk * Dh }, { n: BH * Lk * Dh }],
    ins: [normal(g, BH * Lq * Dh), q, k, v, att], ints: is, floats: fs, tol: attnTol(Math.max(Dh, Lk, Lq)) }];
}

/** The oracle's outputs (the TypeScript kernels, on its thread pool as configured). */
function oracle(c: KernelCase): (Float32Array | Int32Array)[] {
  return runKernelCase(c, 'cpu');
}

const status = deviceStatus(DEVICE);
describe.skipIf(!status.available)(suiteTitle('selective scan, conv1d, attention native kernels', DEVICE), () => {
  const threads0 = status.available ? getCpuNativeThreads() ?? 1 : 1;
  afterAll(() => { if (status.available) setCpuNativeThreads(threads0); });

  it('every kernel of these files is native', () => {
    const native = new Set(nativeCpuKernels());
    expect(KERNELS.filter((k) => !native.has(k))).toEqual([]);
  });

  const cases: KernelCase[] = [
    ...SCAN_SHAPES.flatMap(scanCases),
    ...convCases(32, 162, 256, 4, 1), ...convCases(3, 5, 2, 4, 0), ...convCases(2, 7, 19, 1, 1), ...convCases(2, 3, 11, 7, 0), ...convCases(1, 1, 1, 4, 1), ...convCases(2, 3, 0, 4, 1),
    ...attnCases(8, 256, 256, 20, 0, 0), ...attnCases(8, 256, 256, 20, 1, 0), ...attnCases(3, 37, 53, 7, 0, 0.1), ...attnCases(2, 19, 5, 20, 1, 0.25),
    ...attnCases(1, 1, 1, 1, 1, 0), ...attnCases(2, 3, 4, 0, 0, 0), ...attnCases(2, 9, 11, 4, 0, 0, true), ...attnCases(2, 9, 11, 4, 1, 0, true), ...attnCases(2, 3, 0, 4, 0, 0), ...attnCases(2, 0, 3, 4, 1, 0),
  ];
  for (const c of cases) {
    it(c.name, () => {
      const ref = oracle(c);
      const got = runKernelCase(c, DEVICE);
      const reports = got.map((o, i) => closeReport(o, ref[i], c.tol, `${c.name} output ${i} (tolerance: ${c.tol.why})`)).filter((r) => r !== null);
      expect(reports.join('\n'), reports.join('\n')).toBe('');
    });
  }

  it('each instruction set matches the oracle (the scan and softmax loops are compiled per ISA, picked from gemm_isa())', () => {
    const addon = loadCpuNative().addon!;
    const isa = addon.info().isa;
    const picked = [
      ...scanCases({ B: 2, L: 64, D: 40, N: 32, sp: 1, Tc: 16 }), ...scanCases({ B: 3, L: 17, D: 5, N: 7, sp: 0, Tc: 4 }),
      ...attnCases(3, 37, 53, 7, 0, 0.1), ...attnCases(2, 19, 5, 20, 1, 0.25),
    ];
    const tried: string[] = [];
    try {
      for (const set of ['avx512', 'avx2+fma', 'generic']) {
        if (!addon.gemmSetIsa(set)) continue;   // not on this CPU
        tried.push(set);
        for (const c of picked) {
          const ref = oracle(c);
          const got = runKernelCase(c, DEVICE);
          const reports = got.map((o, i) => closeReport(o, ref[i], c.tol, `${set}: ${c.name} output ${i} (tolerance: ${c.tol.why})`)).filter((r) => r !== null);
          expect(reports.join('\n'), reports.join('\n')).toBe('');
        }
      }
    } finally {
      addon.gemmSetIsa(isa);
    }
    expect(tried).toContain('generic');
  });

  it('results do not depend on the thread count', () => {
    // the scan backward with its channel-block partial sums, the chunked forward, attention with
    // one slice (sgemm splits itself) and with several (one slice per task), conv1d's weight sums
    const picked = [
      ...scanCases({ B: 2, L: 64, D: 40, N: 32, sp: 1, Tc: 16 }).slice(1, 4),
      ...attnCases(1, 64, 64, 20, 1, 0.1), ...attnCases(5, 33, 33, 8, 0, 0),
      ...convCases(4, 24, 50, 4, 1),
    ];
    for (const c of picked) {
      setCpuNativeThreads(1);
      const one = runKernelCase(c, DEVICE);
      setCpuNativeThreads(2);
      const two = runKernelCase(c, DEVICE);
      setCpuNativeThreads(3);
      const three = runKernelCase(c, DEVICE);
      for (let i = 0; i < one.length; i++) {
        expect(Array.from(two[i]), `${c.name} output ${i}, 2 threads vs 1`).toEqual(Array.from(one[i]));
        expect(Array.from(three[i]), `${c.name} output ${i}, 3 threads vs 1`).toEqual(Array.from(one[i]));
      }
    }
    setCpuNativeThreads(threads0);
  });

  it('bad arguments fail with the kernel and the values named', () => {
    const launch = (kernel: string, outs: number[], ins: number[], ints: number[], floats: number[] = []) => pb.tidy(() => {
      runKernel(kernel, outs.map((n) => pb.zeros([n], { device: DEVICE })), ins.map((n) => pb.zeros([n], { device: DEVICE })), ints, floats);
    });
    const [B, L, D, N] = [2, 3, 4, 5];
    const ss = [B * L * D, B * L * D, D * N, B * L * N, B * L * N, D, D];
    expect(() => launch('selective_scan_forward', [B * L * D], ss, [B, L, D, N, 1])).not.toThrow();
    expect(() => launch('selective_scan_forward', [B * L * D], [B * L * D - 1, ...ss.slice(1)], [B, L, D, N, 1]))
      .toThrow(/selective_scan_forward.*input 0 has 23 elements, expected 24/);
    expect(() => launch('selective_scan_forward', [B * L * D], ss, [B, -3, D, N, 1])).toThrow(/selective_scan_forward.*non-negative.*L -3/);
    expect(() => launch('selective_scan_forward', [B * L * D], ss, [B, L, D, N])).toThrow(/selective_scan_forward.*expects 5 ints, got 4/);
    expect(() => launch('selective_scan_chunked_forward', [B * L * D, B * D * N], ss, [B, L, D, N, 1, 3])).toThrow(/selective_scan_chunked_forward.*power of two.*got 3/);
    expect(() => launch('selective_scan_chunked_forward', [B * L * D, B * D * N * 2], ss, [B, L, D, N, 1, 4]))
      .toThrow(/selective_scan_chunked_forward.*output 1 has 80 elements, expected 40/);
    expect(() => launch('selective_scan_chunked_backward', [B * L * D, B * L * D, D * N, B * L * N, B * L * N, D, D], [B * L * D, ...ss, B * D * N + 1], [B, L, D, N, 1, 4]))
      .toThrow(/selective_scan_chunked_backward.*input 8 has 41 elements, expected 40/);
    expect(() => launch('selective_scan_backward', [B * L * D, B * L * D, D * N + 1, B * L * N, B * L * N, D, D], [B * L * D, ...ss], [B, L, D, N, 0]))
      .toThrow(/selective_scan_backward.*output 2 has 21 elements, expected 20/);
    expect(() => launch('conv1d_causal', [2 * 3 * 5], [2 * 3 * 5, 3 * 4], [2, 3, 5, 0, 0])).toThrow(/conv1d_causal.*kernel size K must be in \[1, 2\^20\], got 0/);
    expect(() => launch('conv1d_causal', [2 * 3 * 5], [2 * 3 * 5, 3 * 4], [2, 3, 5, 4, 1])).toThrow(/conv1d_causal.*expects 3 inputs, got 2/);
    expect(() => launch('conv1d_causal_backward', [30, 12, 3], [30, 30, 11], [2, 3, 5, 4])).toThrow(/conv1d_causal_backward.*input 2 has 11 elements, expected 12/);
    expect(() => launch('conv1d_causal_backward', [30, 12, 3], [30, 30, 12], [2, -3, 5, 4])).toThrow(/conv1d_causal_backward.*non-negative.*D -3/);
    const at = [2 * 3 * 4, 2 * 5 * 4, 2 * 5 * 4];
    expect(() => launch('attention_forward', [2 * 3 * 4, 2 * 3 * 5], at, [2, 3, 5, 4, 1, 0], [0.5, 1.5])).toThrow(/attention_forward.*dropout probability p must be in \[0, 1\], got 1\.5/);
    expect(() => launch('attention_forward', [2 * 3 * 4, 2 * 3 * 5], at, [2, 3, 5, 4, 1, 0], [0.5])).toThrow(/attention_forward.*expects 2 floats, got 1/);
    expect(() => launch('attention_forward', [2 * 3 * 4, 2 * 3 * 5], at, [2, 3, -5, 4, 1, 0], [0.5, 0])).toThrow(/attention_forward.*non-negative.*Lk -5/);
    expect(() => launch('attention_backward', [2 * 3 * 4, 2 * 5 * 4, 2 * 5 * 4], [2 * 3 * 4, ...at, 2 * 3 * 5 - 1], [2, 3, 5, 4, 1, 0], [0.5, 0]))
      .toThrow(/attention_backward.*input 4 has 29 elements, expected 30/);
  });
});
