/**
 * The cases of parity.test.ts. Tolerances follow shared/docs/CUDA-NOTES.md §3 and each says why.
 * Sizes are small and odd (1, 7, 33, 129) — the emulator runs every thread on the host.
 */
import * as pb from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { runKernel } from '../../src/dispatch/dispatch.js';
import { getKernel } from '../../src/dispatch/registry.js';
import { Generator } from '../../src/util/rng.js';
import { broadcastShapes, broadcastStrides, numel } from '../../src/util/shape.js';
import { uniform, normal, ints, type Tol } from './helpers.js';

export interface Tolerance extends Tol { why: string }

// ---- tolerances (CUDA-NOTES §3) ------------------------------------------------------------------
/** float32 +,−,×,÷ are bit-identical to the CPU's double-then-round; comparisons and copies exact. */
const EXACT: Tolerance = { atol: 0, rtol: 0, why: 'exact: same IEEE float32 operation / a copy' };
/** expf, tanhf, erff, powf… in float32 against the CPU's float64 then rounded: 1–2 ulp. */
const ELEMENTWISE: Tolerance = { atol: 1e-6, rtol: 1e-6, why: 'elementwise transcendental, float32 vs float64 then rounded (1-2 ulp)' };
/** Sums of n terms in float32 in another order than the CPU's sequential float32 sum. */
const reduction = (n: number): Tolerance => ({ atol: 2e-6 * Math.sqrt(n), rtol: 1e-5, why: `sum of ${n} terms of |x| ≤ 1 in float32, other order: error ~ √n·ε` });
/** GEMM: CUDA-NOTES 1e-4·√(K/256) + 1e-5 (float32 accumulation vs the CPU's float64). */
const gemm = (K: number): Tolerance => ({ atol: 1e-4 * Math.sqrt(Math.max(K, 1) / 256) + 1e-6, rtol: 1e-5, why: `GEMM with K=${K}: float32 accumulation vs float64` });
const SOFTMAX: Tolerance = { atol: 1e-5, rtol: 1e-5, why: 'softmax / layernorm forward (CUDA-NOTES §3)' };
const GRAD: Tolerance = { atol: 1e-3, rtol: 1e-4, why: 'backward through reductions over the batch (CUDA-NOTES §3: weight grads 1e-3 + 1e-4)' };

// ---- kernel cases ---------------------------------------------------------------------------------
export interface KernelCase {
  name: string;
  kernel: string;
  /** Outputs; `init` gives the contents before the launch (kernels that read their output), else poison. */
  outs: { n: number; dtype?: 'float32' | 'int32'; init?: Float32Array }[];
  ins: (Float32Array | Int32Array)[];
  ints?: number[];
  floats?: number[];
  tol: Tolerance;
}

const POISON_F = NaN, POISON_I = -777;

/** Runs one kernel on a device; outputs are poisoned before the launch. */
export function runKernelCase(c: KernelCase, device: string): (Float32Array | Int32Array)[] {
  return pb.tidy(() => {
    const ins = c.ins.map((x) => pb.fromArray(x, [x.length], { device }));
    const outs = c.outs.map((o) => (o.init ? pb.fromArray(o.init, [o.n], { device })
      : pb.full([o.n], o.dtype === 'int32' ? POISON_I : POISON_F, { device, dtype: o.dtype ?? 'float32' })));
    runKernel(c.kernel, outs, ins, c.ints ?? [], c.floats ?? []);
    return outs.map((o) => o.toTyped() as Float32Array | Int32Array);
  });
}

export function missingKernel(device: string, kernels: string[]): string | null {
  for (const k of kernels) if (!getKernel(device, k)) return k;
  return null;
}

const g = new Generator(20240601);
const kernelCases: KernelCase[] = [];

/** ints of a broadcasting binary kernel. */
function bcastInts(a: number[], b: number[]): { ints: number[]; n: number } {
  const shape = broadcastShapes('case', a, b);
  return { ints: [shape.length, ...shape, ...broadcastStrides(a, shape), ...broadcastStrides(b, shape)], n: numel(shape) };
}

// binary ops, flat and broadcast, float32; int32 for the integer-safe ones
for (const [op, tol] of [['add', EXACT], ['sub', EXACT], ['mul', EXACT], ['div', EXACT], ['maximum', EXACT], ['minimum', EXACT],
  ['greater', EXACT], ['equal', EXACT], ['pow', ELEMENTWISE]] as [string, Tolerance][]) {
  for (const [sa, sb] of [[[129], [129]], [[7, 1, 33], [5, 1]], [[1], [7]], [[3, 1], [1, 1]]]) {
    const { ints: is, n } = bcastInts(sa, sb);
    const positive = op === 'pow';
    const a = uniform(g, numel(sa), positive ? 0.1 : -2, 2), b = uniform(g, numel(sb), positive ? -2 : -2, 2);
    if (op === 'equal' || op === 'maximum' || op === 'minimum') for (let i = 0; i < Math.min(a.length, b.length); i += 3) a[i] = b[i];  // ties
    if (op === 'maximum' && a.length > 1) a[1] = NaN;   // Math.max: NaN wins
    kernelCases.push({ name: `${op} ${JSON.stringify(sa)}·${JSON.stringify(sb)}`, kernel: op, outs: [{ n }], ins: [a, b], ints: is, tol });
  }
  if (op !== 'pow') {
    const { ints: is, n } = bcastInts([7, 33], [33]);
    const a = ints(g, 7 * 33, -50, 50), b = ints(g, 33, -9, 9);
    kernelCases.push({ name: `${op} int32 [7,33]·[33]`, kernel: op, outs: [{ n, dtype: 'int32' }], ins: [a, b], ints: is, tol: EXACT });
  }
}
{
  // where with float and int32 conditions
  const shape = [7, 33];
  const cond = uniform(g, 33, -1, 1).map((v) => (v > 0 ? 1 : 0));
  const a = uniform(g, 7 * 33), b = uniform(g, 7);
  const sc = broadcastStrides([33], shape), sa = broadcastStrides(shape, shape), sb = broadcastStrides([7, 1], shape);
  kernelCases.push({ name: 'where float cond', kernel: 'where', outs: [{ n: 7 * 33 }], ins: [cond, a, b], ints: [2, ...shape, ...sc, ...sa, ...sb], tol: EXACT });
  kernelCases.push({ name: 'where int32 cond', kernel: 'where', outs: [{ n: 7 * 33 }], ins: [Int32Array.from(cond), a, b], ints: [2, ...shape, ...sc, ...sa, ...sb], tol: EXACT });
}
kernelCases.push({ name: 'fill float32', kernel: 'fill', outs: [{ n: 129 }], ins: [], floats: [-1.25], tol: EXACT });
kernelCases.push({ name: 'fill int32', kernel: 'fill', outs: [{ n: 33, dtype: 'int32' }], ins: [], floats: [-7], tol: EXACT });
kernelCases.push({ name: 'copy float32', kernel: 'copy', outs: [{ n: 129 }], ins: [uniform(g, 129)], tol: EXACT });
kernelCases.push({ name: 'copy int32', kernel: 'copy', outs: [{ n: 7, dtype: 'int32' }], ins: [ints(g, 7, -5, 5)], tol: EXACT });
kernelCases.push({ name: 'cast float32→int32 (trunc)', kernel: 'cast', outs: [{ n: 129, dtype: 'int32' }], ins: [uniform(g, 129, -100, 100)], tol: EXACT });
kernelCases.push({ name: 'cast int32→float32', kernel: 'cast', outs: [{ n: 33 }], ins: [ints(g, 33, -1000, 1000)], tol: EXACT });
kernelCases.push({ name: 'affine', kernel: 'affine', outs: [{ n: 129 }], ins: [uniform(g, 129)], floats: [1 / 3, 0.25], tol: ELEMENTWISE });
for (const p of [2, 3, -0.5, 0.5]) {
  const x = uniform(g, 129, 0.05, 3);
  kernelCases.push({ name: `pow_scalar p=${p}`, kernel: 'pow_scalar', outs: [{ n: 129 }], ins: [x], floats: [p], tol: p === 2 ? EXACT : ELEMENTWISE });
  kernelCases.push({ name: `pow_scalar_backward p=${p}`, kernel: 'pow_scalar_backward', outs: [{ n: 129 }], ins: [uniform(g, 129), x], floats: [p], tol: ELEMENTWISE });
}
for (const op of ['neg', 'exp', 'log', 'sqrt', 'abs', 'sign', 'tanh', 'sigmoid', 'relu', 'gelu', 'silu', 'softplus']) {
  const x = uniform(g, 129, -4, 4);
  x[0] = 0; x[1] = 25; x[2] = -25; x[3] = 20.5;   // kinks, the softplus threshold, saturation
  if (op === 'log' || op === 'sqrt') for (let i = 4; i < 129; i++) x[i] = Math.abs(x[i]) + 1e-3;
  kernelCases.push({ name: op, kernel: op, outs: [{ n: 129 }], ins: [x], tol: ELEMENTWISE });
}
for (const op of ['abs', 'tanh', 'sigmoid', 'relu', 'gelu', 'silu', 'softplus']) {
  const v = uniform(g, 129, -4, 4);
  v[0] = 0; v[1] = 25; v[2] = -25;
  if (op === 'tanh' || op === 'sigmoid') for (let i = 0; i < 129; i++) v[i] = op === 'tanh' ? Math.tanh(v[i]) : 1 / (1 + Math.exp(-v[i]));  // these read y
  kernelCases.push({ name: `${op}_backward`, kernel: `${op}_backward`, outs: [{ n: 129 }], ins: [uniform(g, 129), v], tol: ELEMENTWISE });
}
// reductions: [outer, n, inner]
for (const [outer, n, inner] of [[1, 1, 1], [1, 129, 1], [7, 33, 1], [3, 7, 33], [2, 1025, 3], [5, 1, 7]]) {
  const x = uniform(g, outer * n * inner);
  kernelCases.push({ name: `sum_axis [${outer},${n},${inner}]`, kernel: 'sum_axis', outs: [{ n: outer * inner }], ins: [x], ints: [outer, n, inner], tol: reduction(n) });
  if (n > 2) { x[inner] = NaN; }   // a NaN in the first column: NaN wins (torch)
  kernelCases.push({ name: `max_axis [${outer},${n},${inner}]`, kernel: 'max_axis', outs: [{ n: outer * inner }, { n: outer * inner, dtype: 'int32' }], ins: [x], ints: [outer, n, inner], tol: EXACT });
  kernelCases.push({ name: `max_axis_backward [${outer},${n},${inner}]`, kernel: 'max_axis_backward', outs: [{ n: outer * n * inner }], ins: [uniform(g, outer * inner), ints(g, outer * inner, 0, n)], ints: [outer, n, inner], tol: EXACT });
}
for (const [from, to] of [[[33], [7, 33]], [[7, 1], [7, 33]], [[1], [129]], [[3, 1, 5], [2, 3, 4, 5]]]) {
  const x = uniform(g, numel(from));
  kernelCases.push({ name: `broadcast_to ${JSON.stringify(from)}→${JSON.stringify(to)}`, kernel: 'broadcast_to', outs: [{ n: numel(to) }], ins: [x], ints: [to.length, ...to, ...broadcastStrides(from, to)], tol: EXACT });
}
// matmul: every transpose combination, odd sizes, batch strides (0 = broadcast), accumulate
for (const [batch, M, K, N, ta, tb, bcastA, acc] of [
  [1, 1, 1, 1, 0, 0, 0, 0], [1, 7, 33, 129, 0, 0, 0, 0], [1, 33, 7, 1, 1, 0, 0, 0], [1, 129, 129, 129, 0, 1, 0, 0],
  [1, 65, 17, 70, 1, 1, 0, 0], [3, 7, 33, 5, 0, 0, 0, 0], [3, 7, 33, 5, 1, 1, 1, 0], [2, 33, 9, 33, 0, 1, 0, 1], [1, 600, 20, 520, 0, 0, 0, 0],
  [1, 5, 0, 3, 0, 0, 0, 0],
]) {
  const sA = bcastA ? 0 : M * K, sB = K * N;
  const A = uniform(g, Math.max(1, (bcastA ? 1 : batch) * M * K)), B = uniform(g, Math.max(1, batch * K * N));
  const outs = [{ n: batch * M * N, init: acc ? uniform(g, batch * M * N) : undefined }];   // accumulate reads C
  kernelCases.push({ name: `matmul b${batch} ${M}×${K}×${N} tA${ta} tB${tb}${bcastA ? ' A broadcast' : ''}${acc ? ' accumulate' : ''}`, kernel: 'matmul', outs, ins: [A, B], ints: [batch, M, K, N, ta, tb, sA, sB, acc], tol: gemm(K) });
}

// softmax family and losses: rows × n with n odd, awkward and > 32 (lanes loop)
for (const [rows, n] of [[1, 1], [7, 33], [5, 129], [3, 300]]) {
  const x = uniform(g, rows * n, -6, 6);
  x[0] = 40;   // a large logit: the max subtraction keeps it finite
  kernelCases.push({ name: `softmax [${rows},${n}]`, kernel: 'softmax', outs: [{ n: rows * n }], ins: [x], ints: [rows, n], tol: SOFTMAX });
  kernelCases.push({ name: `log_softmax [${rows},${n}]`, kernel: 'log_softmax', outs: [{ n: rows * n }], ins: [x], ints: [rows, n], tol: SOFTMAX });
  const y = new Float32Array(rows * n), ly = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity, sm = 0;
    for (let j = 0; j < n; j++) m = Math.max(m, x[r * n + j]);
    for (let j = 0; j < n; j++) sm += Math.exp(x[r * n + j] - m);
    for (let j = 0; j < n; j++) { y[r * n + j] = Math.exp(x[r * n + j] - m) / sm; ly[r * n + j] = x[r * n + j] - m - Math.log(sm); }
  }
  kernelCases.push({ name: `softmax_backward [${rows},${n}]`, kernel: 'softmax_backward', outs: [{ n: rows * n }], ins: [uniform(g, rows * n), y], ints: [rows, n], tol: SOFTMAX });
  kernelCases.push({ name: `log_softmax_backward [${rows},${n}]`, kernel: 'log_softmax_backward', outs: [{ n: rows * n }], ins: [uniform(g, rows * n), ly], ints: [rows, n], tol: SOFTMAX });
  const t = ints(g, rows, 0, n);
  if (rows > 2) t[1] = -100;   // ignored row
  kernelCases.push({ name: `cross_entropy [${rows},${n}]`, kernel: 'cross_entropy', outs: [{ n: rows }, { n: rows }], ins: [x, t], ints: [rows, n, -100], tol: SOFTMAX });
  const lse = new Float32Array(rows);
  for (let r = 0; r < rows; r++) lse[r] = x[r * n] - ly[r * n];
  for (const gStride of [0, 1]) {
    kernelCases.push({ name: `cross_entropy_backward [${rows},${n}] gStride ${gStride}`, kernel: 'cross_entropy_backward', outs: [{ n: rows * n }], ins: [x, t, lse, uniform(g, gStride ? rows : 1)], ints: [rows, n, -100, gStride], floats: [1 / rows], tol: SOFTMAX });
    kernelCases.push({ name: `nll_loss_backward [${rows},${n}] gStride ${gStride}`, kernel: 'nll_loss_backward', outs: [{ n: rows * n }], ins: [t, uniform(g, gStride ? rows : 1)], ints: [rows, n, -100, gStride], floats: [0.5], tol: EXACT });
  }
  kernelCases.push({ name: `nll_loss [${rows},${n}]`, kernel: 'nll_loss', outs: [{ n: rows }], ins: [ly, t], ints: [rows, n, -100], tol: EXACT });
}
// layout: permute, slice (steps, negative strides = flip), slice_backward, concat
for (const [shape, perm] of [[[7, 33], [1, 0]], [[2, 3, 4, 5], [0, 2, 1, 3]], [[3, 1, 5, 7], [3, 1, 0, 2]], [[1], [0]], [[4, 5, 6], [2, 1, 0]]]) {
  const x = uniform(g, numel(shape));
  kernelCases.push({ name: `permute ${JSON.stringify(shape)} ${JSON.stringify(perm)}`, kernel: 'permute', outs: [{ n: numel(shape) }], ins: [x], ints: [shape.length, ...shape, ...perm], tol: EXACT });
}
kernelCases.push({ name: 'permute int32', kernel: 'permute', outs: [{ n: 7 * 33, dtype: 'int32' }], ins: [ints(g, 7 * 33, -9, 9)], ints: [2, 7, 33, 1, 0], tol: EXACT });
for (const [xShape, outShape, offset, strides] of [
  [[7, 33], [7, 10], 5, [33, 1]],            // columns 5..14
  [[7, 33], [3, 11], 33, [66, 3]],           // every other row from 1, every third column
  [[7, 33], [7, 33], 32, [33, -1]],          // flip the last axis
  [[2, 3, 4], [2, 3, 4], 23, [-12, -4, -1]], // flip everything
] as [number[], number[], number, number[]][]) {
  const x = uniform(g, numel(xShape));
  kernelCases.push({ name: `slice ${JSON.stringify(xShape)}→${JSON.stringify(outShape)} off ${offset} strides ${JSON.stringify(strides)}`, kernel: 'slice', outs: [{ n: numel(outShape) }], ins: [x], ints: [outShape.length, ...outShape, offset, ...strides], tol: EXACT });
  kernelCases.push({ name: `slice_backward ${JSON.stringify(outShape)}→${JSON.stringify(xShape)} off ${offset}`, kernel: 'slice_backward', outs: [{ n: numel(xShape) }], ins: [uniform(g, numel(outShape))], ints: [outShape.length, ...outShape, offset, ...strides], tol: EXACT });
}
kernelCases.push({ name: 'concat 3 inputs along the middle axis', kernel: 'concat', outs: [{ n: 2 * (3 + 1 + 5) * 7 }], ins: [uniform(g, 2 * 3 * 7), uniform(g, 2 * 1 * 7), uniform(g, 2 * 5 * 7)], ints: [2, 7, 3, 1, 5], tol: EXACT });
kernelCases.push({ name: 'concat with an empty input', kernel: 'concat', outs: [{ n: 33 }], ins: [uniform(g, 0), uniform(g, 33)], ints: [1, 1, 0, 33], tol: EXACT });
// gathers and deterministic scatter-adds (repeated ids, the first and last row) — bit-exact
for (const [N, V, D] of [[1, 1, 1], [33, 7, 5], [200, 13, 33], [70, 300, 129]]) {
  const ids = ints(g, N, 0, V);
  ids[0] = 0; ids[N - 1] = V - 1;
  kernelCases.push({ name: `embedding N${N} V${V} D${D}`, kernel: 'embedding', outs: [{ n: N * D }], ins: [uniform(g, V * D), ids], ints: [N, V, D], tol: EXACT });
  kernelCases.push({ name: `embedding_backward N${N} V${V} D${D}`, kernel: 'embedding_backward', outs: [{ n: V * D }], ins: [uniform(g, N * D), ids], ints: [N, V, D], tol: EXACT });
}
for (const [outer, n, inner, k] of [[3, 7, 5, 11], [1, 33, 1, 40], [2, 5, 300, 9]]) {
  const idx = ints(g, k, 0, n);
  kernelCases.push({ name: `index_select [${outer},${n},${inner}] k${k}`, kernel: 'index_select', outs: [{ n: outer * k * inner }], ins: [uniform(g, outer * n * inner), idx], ints: [outer, n, inner, k], tol: EXACT });
  kernelCases.push({ name: `index_select_backward [${outer},${n},${inner}] k${k}`, kernel: 'index_select_backward', outs: [{ n: outer * n * inner }], ins: [uniform(g, outer * k * inner), idx], ints: [outer, n, inner, k], tol: EXACT });
}
for (const [xShape, iShape, axis] of [[[7, 33], [7, 5], 1], [[7, 33], [9, 33], 0], [[3, 4, 5], [2, 6, 5], 1], [[5], [8], 0]] as [number[], number[], number][]) {
  const xs = xShape.map((_, d) => numel(xShape.slice(d + 1)));
  const axisStride = xs[axis];
  xs[axis] = 0;
  const index = ints(g, numel(iShape), 0, xShape[axis]);
  const is = [iShape.length, ...iShape, ...xs, axisStride];
  kernelCases.push({ name: `gather ${JSON.stringify(xShape)} axis ${axis} index ${JSON.stringify(iShape)}`, kernel: 'gather', outs: [{ n: numel(iShape) }], ins: [uniform(g, numel(xShape)), index], ints: is, tol: EXACT });
  kernelCases.push({ name: `gather_backward ${JSON.stringify(xShape)} axis ${axis} index ${JSON.stringify(iShape)}`, kernel: 'gather_backward', outs: [{ n: numel(xShape) }], ins: [uniform(g, numel(iShape)), index], ints: is, tol: EXACT });
}
// dropout: the same hash mask on every device (exact), p = 0, 0.5, 1, a seed with the top bit set
for (const [p, seed] of [[0.5, 12345], [0.1, -7], [0, 3], [1, 3], [0.9, 2 ** 31 - 1]]) {
  kernelCases.push({ name: `dropout p=${p} seed=${seed}`, kernel: 'dropout', outs: [{ n: 1029 }], ins: [uniform(g, 1029)], ints: [seed], floats: [p], tol: EXACT });
}
// norms: D odd and > 32, with and without weight/bias; rows with a large mean and tiny variance
for (const [N, D, hw, hb] of [[7, 33, 1, 1], [5, 129, 0, 0], [1, 1, 1, 0], [300, 20, 1, 1], [3, 64, 0, 1]]) {
  const x = uniform(g, N * D, -2, 2);
  for (let j = 0; j < D; j++) x[j] = 1000 + 1e-3 * x[j];   // catches E[x²] − E[x]²
  const w = uniform(g, D, 0.5, 1.5), b = uniform(g, D);
  const ins = [x, ...(hw ? [w] : []), ...(hb ? [b] : [])];
  const mean = new Float32Array(N), rstd = new Float32Array(N), rrms = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    let s = 0, ss = 0;
    for (let j = 0; j < D; j++) { s += x[i * D + j]; ss += x[i * D + j] ** 2; }
    const m = s / D;
    let v = 0;
    for (let j = 0; j < D; j++) v += (x[i * D + j] - m) ** 2;
    mean[i] = m; rstd[i] = 1 / Math.sqrt(v / D + 1e-5); rrms[i] = 1 / Math.sqrt(ss / D + 1e-5);
  }
  const gy = uniform(g, N * D);
  kernelCases.push({ name: `layernorm N${N} D${D} w${hw} b${hb}`, kernel: 'layernorm', outs: [{ n: N * D }, { n: N }, { n: N }], ins, ints: [N, D, hw, hb], floats: [1e-5],
    tol: SOFTMAX });
  kernelCases.push({ name: `layernorm_backward N${N} D${D} w${hw} b${hb}`, kernel: 'layernorm_backward', outs: [{ n: N * D }, ...(hw ? [{ n: D }] : []), ...(hb ? [{ n: D }] : [])],
    ins: [gy, x, mean, rstd, ...(hw ? [w] : [])], ints: [N, D, hw, hb], tol: { ...GRAD, atol: 1e-3 * Math.max(1, rstd[0] / 1000) } });
  kernelCases.push({ name: `rmsnorm N${N} D${D} w${hw}`, kernel: 'rmsnorm', outs: [{ n: N * D }, { n: N }], ins: [x, ...(hw ? [w] : [])], ints: [N, D, hw], floats: [1e-5], tol: SOFTMAX });
  kernelCases.push({ name: `rmsnorm_backward N${N} D${D} w${hw}`, kernel: 'rmsnorm_backward', outs: [{ n: N * D }, ...(hw ? [{ n: D }] : [])], ins: [gy, x, rrms, ...(hw ? [w] : [])], ints: [N, D, hw], tol: GRAD });
}
// optimizers: one step from a random state (the update reads its outputs: init instead of poison)
{
  const n = 1029;
  const gr = normal(g, n, 0.1);
  gr[0] = 0; gr[1] = 1e-20;   // ε matters where v is tiny
  const opt = { atol: 1e-6, rtol: 1e-5, why: 'AdamW/SGD step, float32 vs the CPU\'s float64 then rounded (CUDA-NOTES §3: 1e-5)' };
  kernelCases.push({ name: 'adamw step 1', kernel: 'adamw', outs: [{ n, init: uniform(g, n) }, { n, init: new Float32Array(n) }, { n, init: new Float32Array(n) }], ins: [gr],
    floats: [1e-3, 0.9, 0.999, 1e-8, 0.01, 1 - 0.9, 1 - 0.999], tol: opt });
  kernelCases.push({ name: 'adamw step 10', kernel: 'adamw', outs: [{ n, init: uniform(g, n) }, { n, init: normal(g, n, 0.01) }, { n, init: uniform(g, n, 0, 1e-4) }], ins: [gr],
    floats: [3e-4, 0.9, 0.95, 1e-8, 0.1, 1 - 0.9 ** 10, 1 - 0.95 ** 10], tol: opt });
  kernelCases.push({ name: 'sgd momentum nesterov', kernel: 'sgd', outs: [{ n, init: uniform(g, n) }, { n, init: uniform(g, n, -0.1, 0.1) }], ins: [gr], ints: [0, 1], floats: [0.1, 0.9, 0, 1e-4], tol: opt });
  kernelCases.push({ name: 'sgd first step', kernel: 'sgd', outs: [{ n, init: uniform(g, n) }, { n, init: new Float32Array(n) }], ins: [gr], ints: [1, 0], floats: [0.1, 0.9, 0.1, 0], tol: opt });
  kernelCases.push({ name: 'sgd plain', kernel: 'sgd', outs: [{ n, init: uniform(g, n) }], ins: [gr], ints: [0, 0], floats: [0.1, 0, 0, 0], tol: opt });
  kernelCases.push({ name: 'sum_squares', kernel: 'sum_squares', outs: [{ n: 1 }], ins: [uniform(g, 5000)], tol: { atol: 0, rtol: 1e-6, why: 'Σx² in double on both sides, other order' } });
  kernelCases.push({ name: 'sum_squares empty', kernel: 'sum_squares', outs: [{ n: 1 }], ins: [uniform(g, 0)], tol: EXACT });
}

// attention (materialised): causal and not, Lq ≠ Lk, with and without dropout
const ATTN: Tolerance = { atol: 1e-4, rtol: 1e-4, why: 'attention: two GEMMs around a softmax, float32 vs float64 (CUDA-NOTES §3: 1e-3 + 1e-4; tighter here at these sizes)' };
for (const [BH, Lq, Lk, Dh, causal, p] of [[2, 7, 7, 5, 1, 0], [3, 9, 13, 4, 0, 0], [1, 33, 33, 16, 1, 0.2], [2, 1, 1, 3, 1, 0], [2, 5, 3, 4, 1, 0]]) {
  const q = uniform(g, BH * Lq * Dh), k = uniform(g, BH * Lk * Dh), v = uniform(g, BH * Lk * Dh);
  const is = [BH, Lq, Lk, Dh, causal, 99], fs = [1 / Math.sqrt(Dh), p];
  const name = `BH${BH} Lq${Lq} Lk${Lk} Dh${Dh}${causal ? ' causal' : ''}${p ? ` dropout ${p}` : ''}`;
  kernelCases.push({ name: `attention_forward ${name}`, kernel: 'attention_forward', outs: [{ n: BH * Lq * Dh }, { n: BH * Lq * Lk }], ins: [q, k, v], ints: is, floats: fs, tol: ATTN });
  // a valid P for the backward: a row softmax of random scores, zero where masked
  const att = new Float32Array(BH * Lq * Lk);
  for (let r = 0; r < BH * Lq; r++) {
    const i = r % Lq, jEnd = causal ? Math.min(i + 1, Lk) : Lk;
    let sum = 0;
    for (let j = 0; j < jEnd; j++) { att[r * Lk + j] = Math.exp(g.uniform(-2, 2)); sum += att[r * Lk + j]; }
    for (let j = 0; j < jEnd; j++) att[r * Lk + j] /= sum;
  }
  kernelCases.push({ name: `attention_backward ${name}`, kernel: 'attention_backward', outs: [{ n: BH * Lq * Dh }, { n: BH * Lk * Dh }, { n: BH * Lk * Dh }], ins: [uniform(g, BH * Lq * Dh), q, k, v, att], ints: is, floats: fs, tol: ATTN });
}
// conv2d at the PxByEmbed shape (3×3 maps, 3×3 kernel, padding 1) and a strided one; channels 9, 17
const convTol = (K: number): Tolerance => ({ ...gemm(K), why: `conv, reduction of ${K} terms per output (CUDA-NOTES §3: GEMM/conv)` });
for (const [B, C, H, W, OC, KH, KW, sh, sw, ph, pw, hasBias] of [[5, 9, 3, 3, 17, 3, 3, 1, 1, 1, 1, 1], [2, 3, 7, 6, 4, 3, 2, 2, 1, 1, 0, 0], [70, 2, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1]]) {
  const OH = Math.floor((H + 2 * ph - KH) / sh) + 1, OW = Math.floor((W + 2 * pw - KW) / sw) + 1;
  const is = [B, C, H, W, OC, KH, KW, OH, OW, sh, sw, ph, pw, hasBias];
  const x = uniform(g, B * C * H * W), w = uniform(g, OC * C * KH * KW), b = uniform(g, OC), gy = uniform(g, B * OC * OH * OW);
  const name = `B${B} C${C} ${H}×${W} OC${OC} k${KH}×${KW} s${sh},${sw} p${ph},${pw}${hasBias ? ' bias' : ''}`;
  kernelCases.push({ name: `conv2d ${name}`, kernel: 'conv2d', outs: [{ n: B * OC * OH * OW }], ins: hasBias ? [x, w, b] : [x, w], ints: is, tol: convTol(C * KH * KW) });
  kernelCases.push({ name: `conv2d_backward_input ${name}`, kernel: 'conv2d_backward_input', outs: [{ n: B * C * H * W }], ins: [gy, w], ints: is, tol: convTol(OC * KH * KW) });
  kernelCases.push({ name: `conv2d_backward_weight ${name}`, kernel: 'conv2d_backward_weight', outs: hasBias ? [{ n: OC * C * KH * KW }, { n: OC }] : [{ n: OC * C * KH * KW }], ins: [gy, x], ints: is, tol: convTol(B * OH * OW) });
}
for (const [B, D, L, K, hasBias] of [[2, 5, 33, 4, 1], [1, 3, 2, 4, 0], [3, 7, 9, 1, 1]]) {
  const x = uniform(g, B * D * L), w = uniform(g, D * K), b = uniform(g, D);
  kernelCases.push({ name: `conv1d_causal B${B} D${D} L${L} K${K}`, kernel: 'conv1d_causal', outs: [{ n: B * D * L }], ins: hasBias ? [x, w, b] : [x, w], ints: [B, D, L, K, hasBias], tol: convTol(K) });
  kernelCases.push({ name: `conv1d_causal_backward B${B} D${D} L${L} K${K}`, kernel: 'conv1d_causal_backward', outs: [{ n: B * D * L }, { n: D * K }, { n: D }], ins: [uniform(g, B * D * L), x, w], ints: [B, D, L, K], tol: convTol(B * L) });
}
// LSTM: one cell, and whole sequences both directions (errors compound over time)
const LSTM: Tolerance = { atol: 2e-5, rtol: 1e-4, why: 'LSTM, float32 recurrence vs float64 over T steps: errors compound (CUDA-NOTES §4.7: 1e-4)' };
{
  const B = 7, H = 33;
  const gates = uniform(g, B * 4 * H, -3, 3), c = uniform(g, B * H);
  kernelCases.push({ name: 'lstm_cell B7 H33', kernel: 'lstm_cell', outs: [{ n: B * H }, { n: B * H }, { n: B * 4 * H }], ins: [gates, c], ints: [B, H], tol: ELEMENTWISE });
  const act = uniform(g, B * 4 * H, 0, 1);
  kernelCases.push({ name: 'lstm_cell_backward B7 H33', kernel: 'lstm_cell_backward', outs: [{ n: B * 4 * H }, { n: B * H }], ins: [uniform(g, B * H), uniform(g, B * H), act, c, uniform(g, B * H)], ints: [B, H], tol: ELEMENTWISE });
}
for (const [B, T, H, reverse] of [[3, 7, 33, 0], [2, 9, 5, 1], [1, 1, 1, 0], [4, 20, 40, 0]]) {
  const xProj = uniform(g, B * T * 4 * H), W = uniform(g, 4 * H * H, -0.3, 0.3), h0 = uniform(g, B * H), c0 = uniform(g, B * H);
  const name = `B${B} T${T} H${H}${reverse ? ' reverse' : ''}`;
  kernelCases.push({ name: `lstm_seq_forward ${name}`, kernel: 'lstm_seq_forward', outs: [{ n: B * T * H }, { n: B * H }, { n: B * H }, { n: B * T * 6 * H }], ins: [xProj, W, h0, c0], ints: [B, T, H, reverse], tol: LSTM });
  // the backward reads the forward's out/saved: take them from the CPU oracle so both sides agree
  const fwd = runKernelCase({ name: '', kernel: 'lstm_seq_forward', outs: [{ n: B * T * H }, { n: B * H }, { n: B * H }, { n: B * T * 6 * H }], ins: [xProj, W, h0, c0], ints: [B, T, H, reverse], tol: LSTM }, 'cpu');
  kernelCases.push({ name: `lstm_seq_backward ${name}`, kernel: 'lstm_seq_backward', outs: [{ n: B * T * 4 * H }, { n: 4 * H * H }, { n: B * H }, { n: B * H }],
    ins: [uniform(g, B * T * H), uniform(g, B * H), uniform(g, B * H), W, h0, c0, fwd[0], fwd[3]], ints: [B, T, H, reverse], tol: { ...LSTM, atol: 1e-4 } });
}
// selective scan: N ∈ {1, 7, 16, 40}, L crossing the 16-step sub-chunks, softplus on/off, δ > 20
const SCAN: Tolerance = { atol: 2e-4, rtol: 6e-4, why: "selective scan, float32 vs float64 (mamba's test tolerances: rtol 6e-4, atol 2e-3; tighter atol here)" };
for (const [B, L, D, N, sp, Tc] of [[2, 37, 5, 7, 1, 16], [1, 16, 3, 16, 0, 8], [2, 5, 33, 1, 1, 4], [1, 40, 2, 40, 1, 64], [1, 1, 1, 1, 0, 2]]) {
  const u = normal(g, B * L * D), delta = uniform(g, B * L * D, 0, 0.5), A = uniform(g, D * N, -1, -0.05);
  if (sp && delta.length > 3) delta[3] = 25;   // the softplus pass-through branch
  const Bm = normal(g, B * L * N), Cm = normal(g, B * L * N), Ds = uniform(g, D), db = uniform(g, D, 0, 0.5);
  const ins = [u, delta, A, Bm, Cm, Ds, db];
  const name = `B${B} L${L} D${D} N${N}${sp ? ' softplus' : ''}`;
  const nChunks = Math.ceil(L / Tc);
  kernelCases.push({ name: `selective_scan_forward ${name}`, kernel: 'selective_scan_forward', outs: [{ n: B * L * D }], ins, ints: [B, L, D, N, sp], tol: SCAN });
  kernelCases.push({ name: `selective_scan_chunked_forward ${name} Tc${Tc}`, kernel: 'selective_scan_chunked_forward', outs: [{ n: B * L * D }, { n: B * D * nChunks * N }], ins, ints: [B, L, D, N, sp, Tc], tol: SCAN });
  const dy = normal(g, B * L * D);
  const bOuts = [{ n: B * L * D }, { n: B * L * D }, { n: D * N }, { n: B * L * N }, { n: B * L * N }, { n: D }, { n: D }];
  const gradTol = { ...SCAN, atol: 1e-3, rtol: 3e-3, why: "selective scan backward: mamba's 2× (du) to 5× (dδ, dA) the forward tolerance" };
  kernelCases.push({ name: `selective_scan_backward ${name}`, kernel: 'selective_scan_backward', outs: bOuts, ins: [dy, ...ins], ints: [B, L, D, N, sp], tol: gradTol });
  const hStart = runKernelCase({ name: '', kernel: 'selective_scan_chunked_forward', outs: [{ n: B * L * D }, { n: B * D * nChunks * N }], ins, ints: [B, L, D, N, sp, Tc], tol: SCAN }, 'cpu')[1];
  kernelCases.push({ name: `selective_scan_chunked_backward ${name} Tc${Tc}`, kernel: 'selective_scan_chunked_backward', outs: bOuts, ins: [dy, ...ins, hStart], ints: [B, L, D, N, sp, Tc], tol: gradTol });
}
export { kernelCases };

// ---- op cases (forward + backward through the public ops) -----------------------------------------
export interface OpCase {
  name: string;
  /** Every kernel the forward and backward run (the case is skipped on a device that lacks one). */
  kernels: string[];
  inputs: { data: Float32Array | Int32Array; shape: number[]; grad?: boolean }[];
  fn: (...xs: Tensor[]) => Tensor;
  tol: Tolerance;
  /** Tolerance of the gradients (default: tol). */
  gradTol?: Tolerance;
}

function seedOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** Forward, then backward of Σ out·R (R from a generator seeded by the case name): host copies. */
export function runOpCase(c: OpCase, device: string): Record<string, Float32Array | Int32Array> {
  return pb.tidy(() => {
    const xs = c.inputs.map((i) => {
      const t = pb.fromArray(i.data, i.shape, { device });
      if (i.grad) t.requiresGrad_(true);
      return t;
    });
    const out = c.fn(...xs);
    const res: Record<string, Float32Array | Int32Array> = { out: out.toTyped() as Float32Array | Int32Array };
    if (xs.some((x) => x.requiresGrad) && out.dtype !== 'int32') {
      const R = pb.fromArray(uniform(new Generator(seedOf(c.name)), out.size), out.shape, { device });
      pb.sum(pb.mul(out, R)).backward();
      xs.forEach((x, i) => { if (x.requiresGrad) res[`grad of input ${i}`] = x.grad!.toTyped() as Float32Array; });
    }
    for (const x of xs) x.dispose();
    return res;
  });
}

const opCases: OpCase[] = [];
const inp = (shape: number[], grad = true, lo = -1, hi = 1) => ({ data: uniform(g, numel(shape), lo, hi), shape, grad });

for (const [op, fn, extra] of [
  ['add', pb.add, []], ['sub', pb.sub, ['neg', 'affine']], ['mul', pb.mul, []], ['div', pb.div, ['neg']],
] as [string, (a: Tensor, b: Tensor) => Tensor, string[]][]) {
  opCases.push({
    name: `${op} broadcast [7,1,33]·[5,1]`, kernels: [op, 'mul', 'div', 'sum_axis', ...extra],
    inputs: [inp([7, 1, 33]), op === 'div' ? inp([5, 1], true, 0.5, 2) : inp([5, 1])],
    fn, tol: EXACT, gradTol: reduction(7 * 33),
  });
}
opCases.push({ name: 'pow tensor', kernels: ['pow', 'mul', 'affine', 'log', 'sum_axis'], inputs: [inp([7, 33], true, 0.5, 2), inp([33], true, -2, 2)], fn: pb.pow, tol: ELEMENTWISE, gradTol: { ...reduction(7), rtol: 1e-5 } });
opCases.push({ name: 'pow scalar', kernels: ['pow_scalar', 'pow_scalar_backward', 'mul'], inputs: [inp([129], true, 0.1, 2)], fn: (x) => pb.pow(x, 1.5), tol: ELEMENTWISE });
opCases.push({ name: 'maximum with ties', kernels: ['maximum', 'greater', 'mul', 'sub', 'sum_axis'], inputs: [inp([7, 33]), inp([33])], fn: pb.maximum, tol: EXACT, gradTol: reduction(7) });
opCases.push({
  name: 'unary chain', kernels: ['relu', 'relu_backward', 'sigmoid', 'sigmoid_backward', 'softplus', 'softplus_backward', 'silu', 'silu_backward', 'gelu', 'gelu_backward', 'tanh', 'tanh_backward', 'mul'],
  inputs: [inp([129], true, -3, 3)], fn: (x) => pb.tanh(pb.gelu(pb.silu(pb.softplus(pb.sigmoid(pb.relu(x)))))), tol: ELEMENTWISE, gradTol: { atol: 1e-6, rtol: 1e-5, why: 'six chained activations: ulp errors compound' },
});
opCases.push({
  name: 'exp, log, sqrt, abs, neg', kernels: ['exp', 'log', 'sqrt', 'abs', 'abs_backward', 'neg', 'mul', 'div', 'affine'],
  inputs: [inp([129], true, -2, 2)], fn: (x) => pb.neg(pb.sqrt(pb.log(pb.add(pb.exp(pb.abs(x)), 1)))), tol: ELEMENTWISE, gradTol: { atol: 1e-6, rtol: 1e-5, why: 'chained transcendental functions' },
});
opCases.push({ name: 'sum over axes [0,2] keepdim', kernels: ['sum_axis', 'broadcast_to'], inputs: [inp([7, 33, 5])], fn: (x) => pb.sum(x, [0, 2], true), tol: reduction(35) });
opCases.push({ name: 'mean of everything', kernels: ['sum_axis', 'broadcast_to', 'affine'], inputs: [inp([7, 33, 5])], fn: (x) => pb.mean(x), tol: reduction(7 * 33 * 5) });
opCases.push({ name: 'max over axis 1', kernels: ['max_axis', 'max_axis_backward'], inputs: [inp([7, 33, 5])], fn: (x) => pb.max(x, 1).values, tol: EXACT });
for (const [sa, sb] of [[[33, 17], [17, 7]], [[3, 7, 9], [3, 9, 5]], [[3, 7, 9], [9, 5]], [[7, 9], [3, 9, 5]], [[9], [9, 5]], [[3, 7, 9], [9]], [[1, 1], [1, 1]]]) {
  const K = sa[sa.length - 1];
  opCases.push({ name: `matmul ${JSON.stringify(sa)}·${JSON.stringify(sb)}`, kernels: ['matmul', 'sum_axis'], inputs: [inp(sa), inp(sb)], fn: pb.matmul, tol: gemm(K), gradTol: gemm(33) });
}
opCases.push({
  name: 'linear [4,7,33]·[9,33]ᵀ + b', kernels: ['matmul', 'add', 'sum_axis', 'broadcast_to'],
  inputs: [inp([4, 7, 33]), inp([9, 33]), inp([9])], fn: (x, w, b) => pb.linear(x, w, b), tol: gemm(33), gradTol: gemm(28),
});
opCases.push({ name: 'softmax over the last axis', kernels: ['softmax', 'softmax_backward'], inputs: [inp([7, 33], true, -5, 5)], fn: (x) => pb.softmax(x, -1), tol: SOFTMAX });
opCases.push({ name: 'log_softmax over axis 0', kernels: ['log_softmax', 'log_softmax_backward', 'permute'], inputs: [inp([9, 5], true, -5, 5)], fn: (x) => pb.logSoftmax(x, 0), tol: SOFTMAX });
for (const reduction of ['mean', 'sum', 'none'] as const) {
  const t = ints(g, 33, 0, 13);
  t[4] = -100;
  opCases.push({
    name: `cross entropy (${reduction}, an ignored target)`, kernels: ['cross_entropy', 'cross_entropy_backward', 'sum_axis', 'affine', 'mul', 'broadcast_to', 'fill'],
    inputs: [inp([33, 13], true, -4, 4), { data: t, shape: [33], grad: false }], fn: (x, tt) => pb.crossEntropy(x, tt, { reduction }), tol: SOFTMAX,
  });
}
opCases.push({ name: 'nll_loss of log_softmax', kernels: ['log_softmax', 'log_softmax_backward', 'nll_loss', 'nll_loss_backward', 'sum_axis', 'affine', 'mul', 'broadcast_to', 'fill'],
  inputs: [inp([7, 9], true, -3, 3), { data: ints(g, 7, 0, 9), shape: [7], grad: false }], fn: (x, tt) => pb.nllLoss(pb.logSoftmax(x), tt), tol: SOFTMAX });
opCases.push({ name: 'layerNorm with weight and bias', kernels: ['layernorm', 'layernorm_backward'], inputs: [inp([4, 7, 33]), inp([33], true, 0.5, 1.5), inp([33])], fn: (x, w, b) => pb.layerNorm(x, w, b), tol: SOFTMAX, gradTol: GRAD });
opCases.push({ name: 'rmsNorm with weight', kernels: ['rmsnorm', 'rmsnorm_backward'], inputs: [inp([5, 40]), inp([40], true, 0.5, 1.5)], fn: (x, w) => pb.rmsNorm(x, w), tol: SOFTMAX, gradTol: GRAD });
{
  const ids = ints(g, 2 * 9, 0, 13);
  opCases.push({ name: 'embedding [2,9] ids into [13,33]', kernels: ['embedding', 'embedding_backward'], inputs: [inp([13, 33]), { data: ids, shape: [2, 9], grad: false }], fn: (w, i) => pb.embedding(w, i), tol: EXACT });
  opCases.push({ name: 'indexSelect axis 1', kernels: ['index_select', 'index_select_backward'], inputs: [inp([3, 13, 5]), { data: ints(g, 8, 0, 13), shape: [8], grad: false }], fn: (x, i) => pb.indexSelect(x, 1, i), tol: EXACT });
  opCases.push({ name: 'gather axis 1', kernels: ['gather', 'gather_backward'], inputs: [inp([4, 13]), { data: ints(g, 4 * 6, 0, 13), shape: [4, 6], grad: false }], fn: (x, i) => pb.gather(x, 1, i), tol: EXACT });
}
opCases.push({ name: 'permute [2,3,4,5] → [3,0,2,1]', kernels: ['permute'], inputs: [inp([2, 3, 4, 5])], fn: (x) => pb.permute(x, [3, 0, 2, 1]), tol: EXACT });
opCases.push({ name: 'transpose of the last two axes', kernels: ['permute'], inputs: [inp([3, 7, 33])], fn: (x) => pb.transpose(x, -1, -2), tol: EXACT });
opCases.push({ name: 'slice with a step', kernels: ['slice', 'slice_backward'], inputs: [inp([7, 33])], fn: (x) => pb.slice(x, 1, 2, 30, 3), tol: EXACT });
opCases.push({ name: 'flip two axes', kernels: ['slice', 'slice_backward'], inputs: [inp([4, 5, 6])], fn: (x) => pb.flip(x, [0, 2]), tol: EXACT });
opCases.push({ name: 'concat along axis 1', kernels: ['concat', 'slice', 'slice_backward'], inputs: [inp([2, 3, 4]), inp([2, 1, 4]), inp([2, 5, 4])], fn: (a, b, c) => pb.concat([a, b, c], 1), tol: EXACT });
opCases.push({ name: 'stack along a new axis', kernels: ['concat', 'slice', 'slice_backward'], inputs: [inp([3, 4]), inp([3, 4])], fn: (a, b) => pb.stack([a, b], 1), tol: EXACT });
opCases.push({ name: 'where with a broadcast condition', kernels: ['where', 'greater', 'sum_axis', 'fill', 'broadcast_to'], inputs: [inp([7, 33]), inp([33])],
  fn: (a, b) => pb.where(pb.binaryKernel('greater', b, pb.zerosLike(b)), a, b), tol: EXACT });
opCases.push({ name: 'dropout p=0.3 (fixed seed)', kernels: ['dropout'], inputs: [inp([7, 129])], fn: (x) => pb.dropout(x, 0.3, { seed: 1234 }), tol: EXACT });
opCases.push({ name: 'scaled dot-product attention, causal', kernels: ['attention_forward', 'attention_backward'], inputs: [inp([2, 3, 9, 8]), inp([2, 3, 9, 8]), inp([2, 3, 9, 8])],
  fn: (q, k, v) => pb.scaledDotProductAttention(q, k, v, { causal: true }), tol: ATTN, gradTol: { ...ATTN, atol: 3e-4 } });
opCases.push({ name: 'scaled dot-product attention with dropout', kernels: ['attention_forward', 'attention_backward'], inputs: [inp([1, 2, 7, 4]), inp([1, 2, 5, 4]), inp([1, 2, 5, 4])],
  fn: (q, k, v) => pb.scaledDotProductAttention(q, k, v, { dropoutP: 0.25, seed: 7 }), tol: ATTN, gradTol: { ...ATTN, atol: 3e-4 } });
opCases.push({ name: 'conv2d 3×3 pad 1 on 3×3 maps (PxByEmbed)', kernels: ['conv2d', 'conv2d_backward_input', 'conv2d_backward_weight'], inputs: [inp([6, 9, 3, 3]), inp([12, 9, 3, 3]), inp([12])],
  fn: (x, w, b) => pb.conv2d(x, w, b, { padding: 1 }), tol: convTol(81), gradTol: convTol(54) });
opCases.push({ name: 'depthwise causal conv1d', kernels: ['conv1d_causal', 'conv1d_causal_backward'], inputs: [inp([2, 5, 17]), inp([5, 1, 4]), inp([5])],
  fn: (x, w, b) => pb.conv1dDepthwiseCausal(x, w, b), tol: convTol(4), gradTol: convTol(34) });
opCases.push({ name: 'lstmCell', kernels: ['lstm_cell', 'lstm_cell_backward'], inputs: [inp([5, 4 * 9], true, -2, 2), inp([5, 9])], fn: (gt, c) => pb.lstmCell(gt, c).h, tol: ELEMENTWISE });
opCases.push({ name: 'lstmSequence (out, through every step)', kernels: ['lstm_seq_forward', 'lstm_seq_backward', 'fill'],
  inputs: [inp([3, 11, 4 * 7]), inp([4 * 7, 7], true, -0.4, 0.4), inp([3, 7]), inp([3, 7])], fn: (x, w, h0, c0) => pb.lstmSequence(x, w, h0, c0).out, tol: LSTM, gradTol: { ...LSTM, atol: 1e-4 } });
for (const chunked of [false, true]) {
  opCases.push({
    name: `selective scan ${chunked ? 'chunked' : 'sequential'} with D, bias, softplus`,
    kernels: chunked ? ['selective_scan_chunked_forward', 'selective_scan_chunked_backward', 'fill'] : ['selective_scan_forward', 'selective_scan_backward', 'fill'],
    inputs: [inp([2, 21, 6]), inp([2, 21, 6], true, 0, 0.5), inp([6, 5], true, -1, -0.1), inp([2, 21, 5]), inp([2, 21, 5]), inp([6]), inp([6], true, 0, 0.3)],
    fn: (u, dl, A, Bm, Cm, Dd, bias) => (chunked ? pb.selectiveScanChunked : pb.selectiveScanSequential)(u, dl, A, Bm, Cm, Dd, { deltaBias: bias, deltaSoftplus: true, chunkSize: 8 }),
    tol: SCAN, gradTol: { ...SCAN, atol: 1e-3, rtol: 3e-3, why: "selective scan backward: mamba's looser gradient tolerances" },
  });
}
export { opCases };
