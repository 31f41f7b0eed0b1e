/**
 * 'cpu-native' reductions, softmax/losses, norms and optimizers (native/cpu/{reduce,softmax,norm,optim}.cc)
 * against their TypeScript oracles on 'cpu', at the model's shapes ([8192, 81] layernorm,
 * [8192, 113] cross entropy, attention softmax rows of 256, 1e6 AdamW parameters) and at sizes that
 * take the threaded, vectorised and chunked paths (odd lengths, 1-element edges, rows longer than a
 * chunk, column blocks with a tail). Every output is poisoned before the launch (runKernelCase), so
 * an unwritten element is a mismatch. Also: the same bits whatever the thread count, and bad
 * arguments are errors naming the kernel and the value at fault.
 *
 * Tolerances (|native − cpu| ≤ atol + rtol·|cpu|) are declared below, each with its justification.
 */
import { describe, it, expect, afterAll } from 'vitest';
import * as pb from '../../src/index.js';
import { runKernel } from '../../src/dispatch/dispatch.js';
import { nativeCpuKernels, setCpuNativeThreads, getCpuNativeThreads } from '../../src/backend/native/cpu_native.js';
import { Generator } from '../../src/util/rng.js';
import { runKernelCase, type KernelCase, type Tolerance } from './parity-cases.js';
import { closeReport, deviceStatus, suiteTitle, uniform, normal, ints } from './helpers.js';

const DEV = 'cpu-native';
const KERNELS = ['sum_axis', 'max_axis', 'max_axis_backward', 'broadcast_to', 'softmax', 'softmax_backward', 'log_softmax', 'log_softmax_backward',
  'cross_entropy', 'cross_entropy_backward', 'nll_loss', 'nll_loss_backward', 'layernorm', 'layernorm_backward', 'rmsnorm', 'rmsnorm_backward',
  'adamw', 'sgd', 'sum_squares'];

/** Copies, comparisons, and sums the native code does in the oracle's own order (columns of sum_axis, max): the same float ops. */
const EXACT: Tolerance = { atol: 0, rtol: 0, why: 'exact: the same IEEE operations in the same order, or a copy' };
/** The updates are computed in double with the oracle's operations in its order: the same bits on x86-64 (baseline, no FMA); elsewhere the compiler may fuse a·b + c (one rounding less, in double). */
const OPTIM: Tolerance = process.arch === 'x64' ? { atol: 0, rtol: 0, why: 'AdamW/SGD in double, the oracle formula step by step: the same bits' }
  : { atol: 1e-9, rtol: 2e-7, why: 'AdamW/SGD in double with fused multiply-adds, rounded to float: ≤ 1 ulp' };
/** Float row sums in 16 lanes vs the oracle's sequential float sum: both err by ~√n·ε·|x|max. */
const rowSum = (n: number): Tolerance => ({ atol: 2e-6 * Math.sqrt(n), rtol: 1e-5, why: `sum of ${n} terms |x| ≤ 1 in float32, other order: error ~ √n·ε` });
/** Σ exp in double as the oracle; exp_f is 1–2 ulp, and x − max is rounded to float (relative error |x − max|·2⁻²⁴ on e^(x−max), negligible once that is tiny): ≤ ~10 ulp. */
const SOFTMAX: Tolerance = { atol: 1e-9, rtol: 1e-6, why: 'softmax in float with a 2-ulp exp, sums in double: ≤ ~10 ulp' };
/** log-softmax, lse and losses: values up to ~|x| ≈ 10, a few ulp of the float rounding of lse and of x − lse. */
const LOGSM: Tolerance = { atol: 2e-6, rtol: 1e-6, why: 'log-softmax / loss: lse in double, one float rounding of values ≲ 16: ≤ 2 ulp(16)' };
/** g − e^y·Σg / y·(g − Σg·y): float arithmetic, the dot in double; cancellation costs ulps of the larger term (≲ 4). */
const SMBWD: Tolerance = { atol: 1e-6, rtol: 1e-5, why: 'softmax backward: float ops on terms ≲ 4, ulps of the larger term' };
/** Norm forward: y in float from the double mean (compensated x − mean), ≤ 4 roundings of values ≲ 6. */
const NORM: Tolerance = { atol: 2e-6, rtol: 2e-6, why: 'layernorm/rmsnorm y: 4 float roundings of |y| ≲ 6; mean/rstd are the double statistics rounded once' };
/** dx = rstd·(dn − mean dn − x̂·mean(dn·x̂)) in float (the oracle: double): cancellation of terms ≲ 10·rstd. */
const NORMDX: Tolerance = { atol: 5e-6, rtol: 1e-5, why: 'norm dx in float: a few ulp of terms ≲ 10·rstd (rstd ≈ 1 here)' };
/** dweight/dbias: Σ over the rows in double, as the oracle; the terms g·x̂ carry x̂'s float error (~2 ulp): ≤ 2ε·Σ|g·x̂|. */
const normDW = (N: number): Tolerance => ({ atol: 2.5e-7 * N, rtol: 1e-6, why: `Σ over ${N} rows in double, each term g·x̂ within 2 ulp: ≤ 2ε·Σ|g·x̂|` });

const g = new Generator(777);
const dyadic = (n: number): Float32Array => Float32Array.from({ length: n }, () => (g.int(513) - 256) / 256);   // k/256: float sums stay exact

/** tols: per output (else tol); ref: a float64 reference instead of the oracle's output. */
interface Case extends KernelCase { tols?: Tolerance[]; ref?: Float32Array[] }
const cases: Case[] = [];

// ---- reductions [outer, n, inner] ----------------------------------------------------------------
for (const [outer, n, inner, tol] of [
  [8192, 81, 1, rowSum(81)], [1, 1, 1, EXACT], [5, 15, 1, EXACT] /* < 16: sequential, the oracle's order */, [2, 7, 1029, EXACT], [64, 3, 2048, EXACT],
  [2, 1, 7, EXACT], [4, 0, 5, EXACT], [3, 40000, 2, rowSum(40000)] /* few columns: n cut in chunks */,
] as [number, number, number, Tolerance][]) {
  const x = uniform(g, outer * n * inner);
  cases.push({ name: `sum_axis [${outer},${n},${inner}]`, kernel: 'sum_axis', outs: [{ n: outer * inner }], ins: [x], ints: [outer, n, inner], tol });
}
// Long random sums: the oracle's sequential float sum itself drifts by ~√n·ulp(|partial sum|) (measured 5.9e-3 at n = 1e6,
// more than √n·2e-6 = 2e-3), so these compare with the float64 sum; against the oracle, long sums are checked exactly with
// k/256 inputs below.
for (const [outer, n, inner] of [[2, 500003, 1], [1, 100003, 3]]) {
  const x = uniform(g, outer * n * inner), ref = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += x[(o * n + k) * inner + i];
    ref[o * inner + i] = s;
  }
  cases.push({ name: `sum_axis [${outer},${n},${inner}] vs float64`, kernel: 'sum_axis', outs: [{ n: outer * inner }], ins: [x], ints: [outer, n, inner],
    tol: { atol: 2e-6 * Math.sqrt(n), rtol: 1e-5, why: `float lanes and chunks vs the exact sum of ${n} terms: ~√n·ε` }, ref: [ref] });
}
// k/256 inputs: every partial sum is exact in float, so every order gives the oracle's bits — a long row, a chunked one, chunked columns
for (const [outer, n, inner] of [[1, 1000003, 1], [7, 20000, 1], [1, 200001, 5]]) {
  cases.push({ name: `sum_axis exact [${outer},${n},${inner}]`, kernel: 'sum_axis', outs: [{ n: outer * inner }], ins: [dyadic(outer * n * inner)], ints: [outer, n, inner], tol: EXACT });
}
for (const [outer, n, inner] of [[8192, 113, 1], [3, 100003, 1], [1, 17, 1], [4, 300, 1029], [2, 1, 7], [5, 40, 1]]) {
  const x = uniform(g, outer * n * inner, -3, 3);
  for (let i = 0; i < x.length; i += 7) x[i] = x[Math.max(0, i - 3)];   // ties: the first index wins
  if (n > 2) { x[inner * 2] = NaN; x[(n - 1) * inner] = NaN; x[outer * n * inner - 1] = NaN; }   // NaN wins, the first one
  if (outer > 1 && n > 20) for (let k = 0; k < n; k++) x[(n + k) * inner] = -Infinity;           // row/column 1 of outer 1: all −∞ → index 0
  cases.push({ name: `max_axis [${outer},${n},${inner}]`, kernel: 'max_axis', outs: [{ n: outer * inner }, { n: outer * inner, dtype: 'int32' }], ins: [x], ints: [outer, n, inner], tol: EXACT });
  cases.push({ name: `max_axis_backward [${outer},${n},${inner}]`, kernel: 'max_axis_backward', outs: [{ n: outer * n * inner }], ins: [uniform(g, outer * inner), ints(g, outer * inner, 0, n)], ints: [outer, n, inner], tol: EXACT });
}
for (const [shape, strides, n] of [
  [[8192, 81], [0, 1], 81], [[8192, 81], [1, 0], 8192], [[3, 4, 1029], [1029, 0, 1], 3 * 1029], [[100003], [0], 1], [[5, 7], [1, 5], 35] /* a transpose */,
] as [number[], number[], number][]) {
  const numel = shape.reduce((a, b) => a * b, 1);
  cases.push({ name: `broadcast_to ${JSON.stringify(shape)} strides ${JSON.stringify(strides)}`, kernel: 'broadcast_to', outs: [{ n: numel }], ins: [uniform(g, n)], ints: [shape.length, ...shape, ...strides], tol: EXACT });
}
cases.push({ name: 'broadcast_to int32 [7,1,33]→[7,5,33]', kernel: 'broadcast_to', outs: [{ n: 7 * 5 * 33, dtype: 'int32' }], ins: [ints(g, 7 * 33, -99, 99)], ints: [3, 7, 5, 33, 33, 0, 1], tol: EXACT });
cases.push({ name: 'broadcast_to rank 0', kernel: 'broadcast_to', outs: [{ n: 1 }], ins: [uniform(g, 1)], ints: [0], tol: EXACT });

// ---- softmax family and losses --------------------------------------------------------------------
/** The oracle's softmax / log-softmax of x [rows, n] (inputs for the backward kernels). */
function softmaxOf(x: Float32Array, rows: number, n: number): { y: Float32Array; ly: Float32Array; lse: Float32Array } {
  const y = new Float32Array(rows * n), ly = new Float32Array(rows * n), lse = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity, s = 0;
    for (let j = 0; j < n; j++) if (x[r * n + j] > m) m = x[r * n + j];
    for (let j = 0; j < n; j++) s += Math.exp(x[r * n + j] - m);
    const l = m + Math.log(s);
    lse[r] = l;
    for (let j = 0; j < n; j++) { y[r * n + j] = Math.exp(x[r * n + j] - l); ly[r * n + j] = x[r * n + j] - l; }
  }
  return { y, ly, lse };
}

// attention rows [8·4·256, 256] (a quarter of the model batch of 32: the same rows, a shorter test), scaled scores
// with some masked to −∞; model logits [8192, 113]; edges
for (const [rows, n, lo, hi] of [[8 * 4 * 256, 256, -8, 8], [8192, 113, -10, 10], [1, 1, -1, 1], [3, 7, -1, 1], [9, 100003, -30, 30]]) {
  const x = uniform(g, rows * n, lo, hi);
  if (n > 8) {
    for (let r = 0; r < rows; r += 5) x[r * n + (r % n)] = -Infinity;   // masked scores
    x[1] = 85; x[2] = -200; x[3] = 88;                                      // a large logit; an underflowing exp
  }
  const { y, ly, lse } = softmaxOf(x, rows, n);
  const gy = uniform(g, rows * n);
  cases.push({ name: `softmax [${rows},${n}]`, kernel: 'softmax', outs: [{ n: rows * n }], ins: [x], ints: [rows, n], tol: SOFTMAX });
  cases.push({ name: `log_softmax [${rows},${n}]`, kernel: 'log_softmax', outs: [{ n: rows * n }], ins: [x], ints: [rows, n], tol: { ...LOGSM, atol: 2e-6 * Math.max(1, (hi - lo) / 16) } });
  cases.push({ name: `softmax_backward [${rows},${n}]`, kernel: 'softmax_backward', outs: [{ n: rows * n }], ins: [gy, y], ints: [rows, n], tol: SMBWD });
  if (n !== 256) {   // the losses at the logits' shapes, not the attention rows
    cases.push({ name: `log_softmax_backward [${rows},${n}]`, kernel: 'log_softmax_backward', outs: [{ n: rows * n }], ins: [gy, ly], ints: [rows, n], tol: { ...SMBWD, atol: 1e-6 * Math.sqrt(n) } });
    const t = ints(g, rows, 0, n);
    for (let r = 3; r < rows; r += 11) t[r] = -100;   // ignored rows
    if (rows > 1) t[rows - 1] = n - 1;
    cases.push({ name: `cross_entropy [${rows},${n}]`, kernel: 'cross_entropy', outs: [{ n: rows }, { n: rows }], ins: [x, t], ints: [rows, n, -100], tol: LOGSM });
    cases.push({ name: `nll_loss [${rows},${n}]`, kernel: 'nll_loss', outs: [{ n: rows }], ins: [ly, t], ints: [rows, n, -100], tol: EXACT });
    for (const gStride of [0, 1]) {
      const gl = uniform(g, gStride ? rows : 1);
      // dx = k·softmax (float k, 2-ulp exp) and dx[t] − k in double: SOFTMAX relative to k·p, plus ulps of k at the target
      cases.push({ name: `cross_entropy_backward [${rows},${n}] gStride ${gStride}`, kernel: 'cross_entropy_backward', outs: [{ n: rows * n }], ins: [x, t, lse, gl], ints: [rows, n, -100, gStride], floats: [1 / rows],
        tol: { atol: 1e-7 / rows, rtol: 1e-6, why: 'k·softmax, k = scale·g ≤ 1/rows: ≤ 10 ulp of k·p, ≤ 1 ulp of k' } });
      cases.push({ name: `nll_loss_backward [${rows},${n}] gStride ${gStride}`, kernel: 'nll_loss_backward', outs: [{ n: rows * n }], ins: [t, gl], ints: [rows, n, -100, gStride], floats: [0.5], tol: EXACT });
    }
  }
}
// ignoreIndex inside [0, C): rows with target 0 are ignored
{
  const x = uniform(g, 33 * 9, -3, 3), t = ints(g, 33, 0, 9);
  cases.push({ name: 'cross_entropy ignoreIndex 0', kernel: 'cross_entropy', outs: [{ n: 33 }, { n: 33 }], ins: [x, t], ints: [33, 9, 0], tol: LOGSM });
}

// ---- norms ----------------------------------------------------------------------------------------
for (const [N, D, hw, hb] of [[8192, 81, 1, 1], [8192, 81, 0, 0], [1, 1, 1, 1], [3000, 7, 1, 0], [5, 1031, 0, 1], [0, 5, 1, 1], [4, 0, 1, 1]]) {
  const x = normal(g, N * D, 1);
  for (let j = 0; j < Math.min(D, N * D); j++) x[j] = 1000 + 1e-3 * x[j];   // mean 1000, spread 1e-3 (catches float x − mean)
  const w = uniform(g, D, 0.5, 1.5), b = uniform(g, D), gy = uniform(g, N * D);
  const ins = [x, ...(hw ? [w] : []), ...(hb ? [b] : [])];
  const [y, mean, rstd] = runKernelCase({ name: '', kernel: 'layernorm', outs: [{ n: N * D }, { n: N }, { n: N }], ins, ints: [N, D, hw, hb], floats: [1e-5], tol: EXACT }, 'cpu') as Float32Array[];
  void y;
  const [, rrms] = runKernelCase({ name: '', kernel: 'rmsnorm', outs: [{ n: N * D }, { n: N }], ins: [x, ...(hw ? [w] : [])], ints: [N, D, hw], floats: [1e-5], tol: EXACT }, 'cpu') as Float32Array[];
  // row 0 has rstd ≈ 1000: its y, dx scale with it
  const big = N && D ? Math.max(1, rstd[0] / 100) : 1;
  cases.push({ name: `layernorm N${N} D${D} w${hw} b${hb}`, kernel: 'layernorm', outs: [{ n: N * D }, { n: N }, { n: N }], ins, ints: [N, D, hw, hb], floats: [1e-5],
    tol: NORM, tols: [{ ...NORM, atol: NORM.atol * big }, { atol: 0, rtol: 1e-7, why: 'the double mean rounded once' }, { atol: 0, rtol: 1e-7, why: 'the double rstd rounded once' }] });
  cases.push({ name: `layernorm_backward N${N} D${D} w${hw} b${hb}`, kernel: 'layernorm_backward', outs: [{ n: N * D }, ...(hw ? [{ n: D }] : []), ...(hb ? [{ n: D }] : [])],
    ins: [gy, x, mean, rstd, ...(hw ? [w] : [])], ints: [N, D, hw, hb], tol: normDW(N), tols: [{ ...NORMDX, atol: NORMDX.atol * big * big }, normDW(N), normDW(N)] });
  cases.push({ name: `rmsnorm N${N} D${D} w${hw}`, kernel: 'rmsnorm', outs: [{ n: N * D }, { n: N }], ins: [x, ...(hw ? [w] : [])], ints: [N, D, hw], floats: [1e-5],
    tol: NORM, tols: [NORM, { atol: 0, rtol: 1e-7, why: 'the double rstd rounded once' }] });
  cases.push({ name: `rmsnorm_backward N${N} D${D} w${hw}`, kernel: 'rmsnorm_backward', outs: [{ n: N * D }, ...(hw ? [{ n: D }] : [])], ins: [gy, x, rrms, ...(hw ? [w] : [])], ints: [N, D, hw],
    tol: normDW(N), tols: [NORMDX, normDW(N)] });
}

// ---- optimizers -----------------------------------------------------------------------------------
for (const n of [1_000_000, 1, 33]) {
  const gr = normal(g, n, 0.1);
  gr[0] = 1e-20;   // ε matters where v is tiny
  const p = uniform(g, n), m = normal(g, n, 0.01), v = uniform(g, n, 0, 1e-4), buf = uniform(g, n, -0.1, 0.1);
  cases.push({ name: `adamw n${n} step 1`, kernel: 'adamw', outs: [{ n, init: p }, { n, init: new Float32Array(n) }, { n, init: new Float32Array(n) }], ins: [gr],
    floats: [1e-3, 0.9, 0.999, 1e-8, 0.01, 1 - 0.9, 1 - 0.999], tol: OPTIM });
  cases.push({ name: `adamw n${n} step 10`, kernel: 'adamw', outs: [{ n, init: p }, { n, init: m }, { n, init: v }], ins: [gr],
    floats: [3e-4, 0.9, 0.95, 1e-8, 0.1, 1 - 0.9 ** 10, 1 - 0.95 ** 10], tol: OPTIM });
  cases.push({ name: `sgd n${n} nesterov wd`, kernel: 'sgd', outs: [{ n, init: p }, { n, init: buf }], ins: [gr], ints: [0, 1], floats: [0.1, 0.9, 0, 1e-4], tol: OPTIM });
  cases.push({ name: `sgd n${n} momentum dampening`, kernel: 'sgd', outs: [{ n, init: p }, { n, init: buf }], ins: [gr], ints: [0, 0], floats: [0.1, 0.9, 0.1, 0], tol: OPTIM });
  cases.push({ name: `sgd n${n} first step`, kernel: 'sgd', outs: [{ n, init: p }, { n, init: buf }], ins: [gr], ints: [1, 0], floats: [0.1, 0.9, 0.1, 1e-2], tol: OPTIM });
  cases.push({ name: `sgd n${n} plain`, kernel: 'sgd', outs: [{ n, init: p }], ins: [gr], ints: [0, 0], floats: [0.1, 0, 0, 0], tol: OPTIM });
  cases.push({ name: `sum_squares n${n}`, kernel: 'sum_squares', outs: [{ n: 1 }], ins: [uniform(g, n)], tol: { atol: 0, rtol: 1e-7, why: 'Σx² in double on both sides, other order: rounds to the same float but for a tie' } });
}
cases.push({ name: 'sum_squares empty', kernel: 'sum_squares', outs: [{ n: 1 }], ins: [uniform(g, 0)], tol: EXACT });

// ---- the suite ------------------------------------------------------------------------------------
/** The first index where a and b differ in bits (−1: none); a plain loop (toEqual walks a million-element array slowly). */
function firstBitDiff(a: Float32Array | Int32Array, b: Float32Array | Int32Array): number {
  const x = new Int32Array(a.buffer, a.byteOffset, a.length), y = new Int32Array(b.buffer, b.byteOffset, b.length);
  if (x.length !== y.length) return 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

describe.skipIf(!deviceStatus(DEV).available)(suiteTitle('reductions, softmax, losses, norms, optimizers vs the TypeScript oracle', DEV), () => {
  const threads0 = getCpuNativeThreads() ?? 1;
  afterAll(() => setCpuNativeThreads(threads0));

  it('every kernel of these files is native', () => {
    const native = new Set(nativeCpuKernels());
    expect(KERNELS.filter((k) => !native.has(k))).toEqual([]);
  });

  for (const c of cases) {
    it(c.name, () => {
      setCpuNativeThreads(2);
      const ref = c.ref ?? runKernelCase(c, 'cpu');
      const got = runKernelCase(c, DEV);
      const reports = got.map((a, i) => { const tol = c.tols?.[i] ?? c.tol; return closeReport(a, ref[i], tol, `${c.name} output ${i} (tolerance: ${tol.why})`); }).filter((r) => r !== null);
      expect(reports.join('\n'), reports.join('\n')).toBe('');
    });
  }

  // the splits depend on the sizes only: 1, 2 and 3 threads give the same bits
  const det = cases.filter((c) => ['sum_axis [2,500003,1] vs float64', 'sum_axis [1,100003,3] vs float64', 'max_axis [3,100003,1]', 'softmax [8192,113]', 'cross_entropy [8192,113]',
    'layernorm_backward N8192 D81 w1 b1', 'rmsnorm_backward N3000 D7 w1', 'sum_squares n1000000', 'adamw n1000000 step 10'].includes(c.name));
  it('results do not depend on the thread count', () => {
    expect(det.length).toBe(9);
    for (const c of det) {
      const runs = [1, 2, 3].map((t) => { setCpuNativeThreads(t); return runKernelCase(c, DEV); });
      for (const r of runs.slice(1)) r.forEach((a, i) => expect(firstBitDiff(a, runs[0][i]), `${c.name} output ${i}: first differing element`).toBe(-1));
    }
    setCpuNativeThreads(threads0);
  });

  it('bad arguments are errors that name the kernel and the value at fault', () => {
    const f = (n: number) => pb.zeros([n], { device: DEV });
    const i32 = (...v: number[]) => pb.fromArray(Int32Array.from(v), [v.length], { device: DEV, dtype: 'int32' });
    const k = (name: string) => new RegExp(`${DEV} kernel '${name}'`);
    const run = (name: string, outs: pb.Tensor[], ins: pb.Tensor[], is: number[], fs: number[] = []) => () => runKernel(name, outs, ins, is, fs);
    pb.tidy(() => {
      expect(run('cross_entropy', [f(6), f(6)], [f(6 * 5), i32(0, 1, 2, 3, 4, 5)], [6, 5, -100])).toThrow(/cpu-native kernel 'cross_entropy'.*target 5 is out of range \[0, 5\) at position 5/);
      expect(run('cross_entropy_backward', [f(10)], [f(10), i32(0, -100), f(2), f(2)], [2, 5, -100, 2], [1])).toThrow(k('cross_entropy_backward'));
      expect(run('cross_entropy_backward', [f(10)], [f(10), i32(0, -100), f(2), f(2)], [2, 5, -100, 2], [1])).toThrow(/gStride 2 is not 0 or 1/);
      expect(run('cross_entropy_backward', [f(10)], [f(10), i32(0, 1), f(2), f(1)], [2, 5, -100, 1], [1])).toThrow(/g has 1 elements, needs at least 2/);
      expect(run('nll_loss', [f(2)], [f(10), i32(0, -3)], [2, 5, -100])).toThrow(/cpu-native kernel 'nll_loss'.*target -3 is out of range \[0, 5\) at position 1/);
      expect(run('nll_loss_backward', [f(10)], [i32(7, 0), f(1)], [2, 5, -100, 0], [1])).toThrow(/nll_loss_backward'.*target 7 is out of range \[0, 5\) at position 0/);
      expect(run('max_axis_backward', [f(2 * 5 * 3)], [f(6), i32(0, 1, 2, 7, 4, 0)], [2, 5, 3])).toThrow(/max_axis_backward'.*index 7 is out of range \[0, 5\) at position 3/);
      expect(run('max_axis_backward', [f(2 * 5 * 3)], [f(6), i32(0, 1, 2, -1, 4, 0)], [2, 5, 3])).toThrow(/index -1 is out of range \[0, 5\) at position 3/);
      expect(run('sum_axis', [f(3)], [f(10)], [1, 4, 3])).toThrow(/cpu-native kernel 'sum_axis'.*input 0 has 10 elements, expected 12/);
      expect(run('sum_axis', [f(3)], [f(10)], [1, -4, 3])).toThrow(/sum_axis'.*negative size/);
      expect(run('max_axis', [f(3), f(3)], [f(12)], [1, 4, 3])).toThrow(/max_axis'.*output 1 is float32, expected int32/);
      expect(run('broadcast_to', [f(12)], [f(4)], [2, 3, 4, 4, 1])).toThrow(/broadcast_to'.*strides reach offsets \[0, 11\], the input has 4 elements/);
      expect(run('broadcast_to', [f(12)], [f(4)], [2, 3, 4, 0])).toThrow(/broadcast_to'.*expects 5 ints, got 4/);
      expect(run('broadcast_to', [f(12)], [i32(1, 2, 3, 4)], [2, 3, 4, 0, 1])).toThrow(/broadcast_to'.*input is int32, output is float32/);
      expect(run('softmax', [f(12)], [f(12)], [3, 5])).toThrow(/softmax'.*output 0 has 12 elements, expected 15/);
      expect(run('layernorm', [f(12), f(3), f(3)], [f(12)], [3, 4, 1, 0], [1e-5])).toThrow(/cpu-native kernel 'layernorm'.*expects 2 inputs, got 1/);
      expect(run('layernorm', [f(12), f(3), f(3)], [f(12), f(5)], [3, 4, 1, 0], [1e-5])).toThrow(/layernorm'.*input 1 has 5 elements, expected 4/);
      expect(run('layernorm_backward', [f(12)], [f(12), f(12), f(3), f(3), f(4)], [3, 4, 1, 1])).toThrow(/layernorm_backward'.*expects 3 outputs, got 1/);
      expect(run('rmsnorm', [f(12), f(3)], [f(12)], [3, 4, 0])).toThrow(/rmsnorm'.*expects 1 floats, got 0/);
      expect(run('sgd', [f(4)], [f(4)], [0, 0], [0.1, 0.9, 0, 0])).toThrow(/cpu-native kernel 'sgd'.*momentum 0.9\d* needs the momentum buffer/);
      expect(run('adamw', [f(4), f(4), f(3)], [f(4)], [], [1e-3, 0.9, 0.999, 1e-8, 0, 0.1, 0.001])).toThrow(/adamw'.*output 2 has 3 elements, expected 4/);
      expect(run('sum_squares', [f(2)], [f(4)], [])).toThrow(/sum_squares'.*output 0 has 2 elements, expected 1/);
    });
  });
});
