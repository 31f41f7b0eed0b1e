/**
 * 'cpu-native' elementwise kernels and dropout (native/cpu/elementwise.cc, native/cpu/dropout.cc)
 * against their TypeScript oracles on 'cpu' (src/backend/cpu/elementwise.ts, dropout.ts), at the
 * model's shapes ([8192, 81] and [8192, 324] activations, a bias row broadcast over them) and at
 * sizes and geometries that take every path: same-shape (one flat row), a scalar operand, a row or a
 * column broadcast, general strides (a transpose, rank 8, size-1 and size-0 dimensions), chunks of
 * the thread pool that start mid-row, odd lengths for the vector tails, int32 and mixed dtypes, and
 * the special values the oracle defines (NaN, ±0, ±∞, the softplus threshold). Every output is
 * poisoned before the launch (runKernelCase), so an unwritten element is a mismatch. Also: the same
 * bits whatever the thread count, the portable (non-AVX2) build of the unary maps, and bad
 * arguments are errors naming the kernel and the value at fault.
 *
 * Tolerances (|native − cpu| ≤ atol + rtol·|cpu|), each justified where it is declared.
 */
import { describe, it, expect, afterAll } from 'vitest';
import * as pb from '../../src/index.js';
import { runKernel } from '../../src/dispatch/dispatch.js';
import { loadCpuNative, nativeCpuKernels, setCpuNativeThreads, getCpuNativeThreads } from '../../src/backend/native/cpu_native.js';
import { Generator } from '../../src/util/rng.js';
import { broadcastShapes, broadcastStrides, numel } from '../../src/util/shape.js';
import { runKernelCase, type KernelCase, type Tolerance } from './parity-cases.js';
import { closeReport, deviceStatus, suiteTitle, uniform, normal, ints } from './helpers.js';

const DEV = 'cpu-native';
const UNARY = ['neg', 'exp', 'log', 'sqrt', 'abs', 'sign', 'tanh', 'sigmoid', 'relu', 'gelu', 'silu', 'softplus'];
const UNARY_BACKWARD = ['abs', 'tanh', 'sigmoid', 'relu', 'gelu', 'silu', 'softplus'].map((op) => `${op}_backward`);
const BINARY = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'greater', 'equal'];
const KERNELS = [...BINARY, 'where', 'fill', 'copy', 'cast', 'affine', 'pow_scalar', 'pow_scalar_backward', ...UNARY, ...UNARY_BACKWARD, 'dropout'];

/** float32 +, −, ×, ÷, comparisons, max/min, selections, copies, int32 arithmetic (double, then ToInt32): the oracle's own IEEE operation, rounded once. Signed zeros are compared too. */
const EXACT: Tolerance = { atol: 0, rtol: 0, why: 'exact: the same IEEE operation rounded once, a selection or a copy' };
/** pow, affine, tanh/sigmoid backward and pow_scalar(_backward) are the oracle's double formula rounded once; libm's pow may differ from V8's by an ulp of the double (and FMA contraction in the AVX2 build may move the backward formulas by one), which can flip the float rounding. */
const DOUBLE_THEN_ROUND: Tolerance = { atol: 0, rtol: 1.2e-7, why: 'the oracle formula in double, rounded once: ≤ 1 float ulp (a double-ulp difference can flip the rounding)' };
/** expf/logf/tanhf/log1pf (libm, ≤ 2 ulp) and the vectorised exp/erfc (measured on a dense sample of float32 in [−40, 40]: ≤ 0.36 of this bound). */
const ELEMENTWISE: Tolerance = { atol: 1e-6, rtol: 1e-6, why: 'float32 transcendental (libm or the branch-free exp/erfc) vs float64 then rounded' };

const g = new Generator(4242);

/** Inputs with the special values every unary op must treat as the oracle does, at the front. */
function withSpecials<T extends Float32Array | Int32Array>(x: T, specials: number[]): T {
  x.set(specials.slice(0, x.length));
  return x;
}

interface Case extends KernelCase { exactZeros?: boolean }
const cases: Case[] = [];

/** ints of a broadcasting kernel over operand shapes (NumPy rules). */
function bcast(...shapes: number[][]): { ints: number[]; n: number } {
  const shape = shapes.reduce((s, t) => broadcastShapes('case', s, t));
  return { ints: [shape.length, ...shape, ...shapes.flatMap((s) => broadcastStrides(s, shape))], n: numel(shape) };
}

// ---- binary ops, float32 -----------------------------------------------------------------------------
const SPECIAL_PAIRS: [number, number][] = [[NaN, 1], [1, NaN], [NaN, NaN], [0, -0], [-0, 0], [-0, -0], [Infinity, -Infinity], [-Infinity, -Infinity],
  [0, 0], [1, 0], [-1, 0], [1, 1], [-1, Infinity], [1, -Infinity], [2, 0.5], [-8, 1 / 3], [3.5, 3.5], [1e30, 1e30], [1e-40, 1e-40]];
for (const op of BINARY) {
  const tol = op === 'pow' ? DOUBLE_THEN_ROUND : EXACT;
  const geometries: [string, number[], number[]][] = [
    ['bias row [8192,81]+[81]', [8192, 81], [81]],
    ['column [8192,81]·[8192,1]', [8192, 81], [8192, 1]],
    ['flat [100003]', [100003], [100003]],
    ['scalar b [65537]·[1]', [65537], [1]],
    ['scalar a []·[70001]', [], [70001]],
    ['outer [300,1]·[1,257]', [300, 1], [1, 257]],
    ['rank 8 [2,1,3,1,2,5,1,3]·[1,4,3,1,2,1,7,1]', [2, 1, 3, 1, 2, 5, 1, 3], [1, 4, 3, 1, 2, 1, 7, 1]],
    ['rank 0', [], []],
    ['size 0 [4,0,3]·[3]', [4, 0, 3], [3]],
  ];
  for (const [what, sa, sb] of geometries) {
    if (op === 'pow' && what.startsWith('column')) continue;   // pow is costly in the oracle: the other cases cover it
    const { ints: is, n } = bcast(sa, sb);
    const a = uniform(g, numel(sa), op === 'pow' ? 0.05 : -3, 3), b = uniform(g, numel(sb), -3, 3);
    if (op === 'equal' || op === 'maximum' || op === 'minimum' || op === 'greater') for (let i = 0; i < Math.min(a.length, b.length); i += 5) a[i] = b[i];   // ties
    if (what.startsWith('flat')) SPECIAL_PAIRS.forEach(([x, y], i) => { a[i] = x; b[i] = y; });
    cases.push({ name: `${op} ${what}`, kernel: op, outs: [{ n }], ins: [a, b], ints: is, tol, exactZeros: true });
  }
  // general strides: a is a transposed [33, 7] view (strides [1, 33]), b a column read with stride 2
  {
    const a = uniform(g, 7 * 33, 0.05, 3), b = uniform(g, 2 * 33, -2, 2);
    cases.push({ name: `${op} transposed a, strided b`, kernel: op, outs: [{ n: 33 * 7 }], ins: [a, b], ints: [2, 33, 7, 1, 33, 2, 0], tol, exactZeros: true });
  }
}

// ---- binary ops, int32 (double arithmetic, then ToInt32) and mixed dtypes -----------------------------
for (const op of BINARY) {
  const { ints: is, n } = bcast([8192, 81], [81]);
  const a = ints(g, 8192 * 81, -50, 50), b = ints(g, 81, -9, 9);
  cases.push({ name: `${op} int32 bias row [8192,81]+[81]`, kernel: op, outs: [{ n, dtype: 'int32' }], ins: [a, b], ints: is, tol: EXACT });
  // wrap-around: sums past 2³¹, products past 2⁵³ (double rounding before ToInt32), ÷0, −7/2, 0⁰, 2³¹
  const big = Int32Array.from([2147483647, -2147483648, 2147483647, 123456789, -987654321, 7, -7, 0, 5, 0, 2, -3, 46341, 65536, 1, -1]);
  const other = Int32Array.from([1, -1, 2147483647, 987654321, 123456789, 0, 2, 0, 0, -3, 31, 3, 46341, 65536, 30, 31]);
  const { ints: fl } = bcast([16], [16]);
  cases.push({ name: `${op} int32 edges`, kernel: op, outs: [{ n: 16, dtype: 'int32' }], ins: [big, other], ints: fl, tol: EXACT });
}
for (const op of ['add', 'div', 'greater', 'pow']) {
  const { ints: is, n } = bcast([129, 33], [33]);
  // results below 2³¹ (for pow too: beyond 2⁵³ the low bits of V8's and libm's pow may differ by an ulp, which ToInt32 keeps)
  const a = uniform(g, 129 * 33, 0.5, op === 'pow' ? 1000 : 2e9), b = uniform(g, 33, 0.5, 3);
  a[0] = 16777216; b[0] = 1;   // float32 a + b would round to 2²⁴, the oracle's double sum is 2²⁴ + 1
  cases.push({ name: `${op} float32 → int32 output`, kernel: op, outs: [{ n, dtype: 'int32' }], ins: [a, b], ints: is, tol: EXACT });
  const ai = ints(g, 129 * 33, -1000, 1000), bi = ints(g, 33, 1, 9);
  cases.push({ name: `${op} int32 → float32 output`, kernel: op, outs: [{ n }], ins: [ai, bi], ints: is, tol: op === 'pow' ? DOUBLE_THEN_ROUND : EXACT });
}

// ---- where -----------------------------------------------------------------------------------------
{
  const cond = (n: number) => { const c = uniform(g, n, -1, 1).map((v) => (v > 0 ? 1 : 0)); c[0] = NaN; c[1] = -0; return c; };
  // same shape; a broadcast row; masked_fill of a causal mask [T, T] over [B, H, T, T] (a = the fill value)
  for (const [what, sc, sa, sb] of [
    ['flat [100003]', [100003], [100003], [100003]],
    ['row [8192,81]', [81], [8192, 81], [8192, 1]],
    ['masked_fill [4,4,64,64]', [64, 64], [], [4, 4, 64, 64]],
    ['rank 0', [], [], []],
  ] as [string, number[], number[], number[]][]) {
    const { ints: is, n } = bcast(sc, sa, sb);
    const c = cond(numel(sc)), a = uniform(g, numel(sa)), b = uniform(g, numel(sb));
    cases.push({ name: `where float cond ${what}`, kernel: 'where', outs: [{ n }], ins: [c, a, b], ints: is, tol: EXACT });
    cases.push({ name: `where int32 cond ${what}`, kernel: 'where', outs: [{ n }], ins: [Int32Array.from(c), a, b], ints: is, tol: EXACT });
    cases.push({ name: `where int32 values ${what}`, kernel: 'where', outs: [{ n, dtype: 'int32' }], ins: [c, ints(g, numel(sa), -9, 9), ints(g, numel(sb), -9, 9)], ints: is, tol: EXACT });
  }
  // general strides: a transposed, the condition strided
  const c = cond(2 * 33);
  cases.push({ name: 'where general strides', kernel: 'where', outs: [{ n: 33 * 7 }], ins: [c, uniform(g, 7 * 33), uniform(g, 7)], ints: [2, 33, 7, 2, 0, 1, 33, 0, 1], tol: EXACT });
}

// ---- fill, copy, cast ---------------------------------------------------------------------------------
for (const [n, v] of [[1, -1.25], [100003, 1 / 3], [5, NaN], [7, 1e40], [0, 2]] as [number, number][]) {
  cases.push({ name: `fill float32 n${n} ${v}`, kernel: 'fill', outs: [{ n }], ins: [], floats: [v], tol: EXACT });
}
for (const [n, v] of [[33, -7], [100003, 3], [3, 2 ** 31 + 5], [3, -7.9], [3, NaN], [3, -Infinity]] as [number, number][]) {
  cases.push({ name: `fill int32 n${n} ${v}`, kernel: 'fill', outs: [{ n, dtype: 'int32' }], ins: [], floats: [v], tol: EXACT });
}
for (const kernel of ['copy', 'cast']) {
  const f = withSpecials(uniform(g, 300007, -3e9, 3e9), [NaN, Infinity, -Infinity, -0, 2.9, -2.9, 2147483647, 2147483648, -2147483649, 4294967296 + 3, 0.5, -0.5]);
  const i = withSpecials(ints(g, 300007, -2147483647, 2147483647), [16777217, -16777217, 2147483647, -2147483648, 0]);
  cases.push({ name: `${kernel} float32`, kernel, outs: [{ n: f.length }], ins: [f], tol: EXACT, exactZeros: true });
  cases.push({ name: `${kernel} int32`, kernel, outs: [{ n: i.length, dtype: 'int32' }], ins: [i], tol: EXACT });
  cases.push({ name: `${kernel} float32 → int32 (trunc, ToInt32)`, kernel, outs: [{ n: f.length, dtype: 'int32' }], ins: [f], tol: EXACT });
  cases.push({ name: `${kernel} int32 → float32 (round to nearest)`, kernel, outs: [{ n: i.length }], ins: [i], tol: EXACT });
  cases.push({ name: `${kernel} 1 element`, kernel, outs: [{ n: 1 }], ins: [uniform(g, 1)], tol: EXACT });
}

// ---- affine, pow_scalar --------------------------------------------------------------------------------
{
  const x = withSpecials(uniform(g, 8192 * 324, -4, 4), [NaN, Infinity, -Infinity, 0, -0, 3e38]);
  cases.push({ name: 'affine [8192,324] ·1/3 + 0.25', kernel: 'affine', outs: [{ n: x.length }], ins: [x], floats: [1 / 3, 0.25], tol: DOUBLE_THEN_ROUND });
  cases.push({ name: 'affine ·0 (∞·0 = NaN)', kernel: 'affine', outs: [{ n: 7 }], ins: [x.subarray(0, 7)], floats: [0, 1], tol: EXACT });
  cases.push({ name: 'affine ·1e10 (overflow)', kernel: 'affine', outs: [{ n: 99 }], ins: [uniform(g, 99, -1e30, 1e30)], floats: [1e10, -1], tol: DOUBLE_THEN_ROUND });
}
for (const p of [2, 3, -0.5, 0.5, 1.5, 0, -1, 1 / 3, NaN, Infinity]) {
  const x = withSpecials(uniform(g, 20011, -3, 3), [0, -0, 1, -1, Infinity, -Infinity, NaN, -8, 1e-30]);
  cases.push({ name: `pow_scalar p=${p}`, kernel: 'pow_scalar', outs: [{ n: x.length }], ins: [x], floats: [p], tol: p === 2 ? EXACT : DOUBLE_THEN_ROUND });
  cases.push({ name: `pow_scalar_backward p=${p}`, kernel: 'pow_scalar_backward', outs: [{ n: x.length }], ins: [uniform(g, x.length), x], floats: [p], tol: DOUBLE_THEN_ROUND });
}

// ---- unary activations and their backward --------------------------------------------------------------
// Specials: kinks, the softplus threshold (20 exactly, just above), saturation, exp's over/underflow
// (±88, ±104: subnormal results), tiny values. +∞ is left out for gelu: the oracle's erf(±∞) is NaN.
const UNARY_SPECIALS = [0, -0, NaN, -Infinity, 20, 20.5, 19.99, -20, 25, -25, 88, 89, -88, -100, -104, 1e-30, -1e-30, 1e-8, -1e-8, 5, -5, 10, -10, 40, -40];
for (const op of UNARY) {
  for (const n of op === 'gelu' || op === 'silu' ? [8192 * 81, 8192 * 324] : [100003]) {
    const x = withSpecials(normal(g, n, 3), op === 'gelu' ? UNARY_SPECIALS : [...UNARY_SPECIALS, Infinity]);
    if (op === 'log' || op === 'sqrt') for (let i = UNARY_SPECIALS.length; i < n; i += 2) x[i] = Math.abs(x[i]);
    cases.push({ name: `${op} [${n}]`, kernel: op, outs: [{ n }], ins: [x], tol: ['neg', 'abs', 'sign', 'relu', 'sqrt'].includes(op) ? EXACT : ELEMENTWISE, exactZeros: ['neg', 'abs', 'sign', 'relu'].includes(op) });
  }
  cases.push({ name: `${op} 1 element`, kernel: op, outs: [{ n: 1 }], ins: [Float32Array.of(0.75)], tol: ELEMENTWISE });
}
for (const k of UNARY_BACKWARD) {
  const op = k.replace('_backward', '');
  for (const n of op === 'gelu' || op === 'silu' ? [8192 * 81, 8192 * 324] : [100003]) {
    let v = withSpecials(normal(g, n, 3), op === 'gelu' ? UNARY_SPECIALS : [...UNARY_SPECIALS, Infinity]);
    if (op === 'tanh') v = v.map(Math.tanh);                          // these two read y
    if (op === 'sigmoid') v = v.map((t) => 1 / (1 + Math.exp(-t)));
    const gr = withSpecials(normal(g, n, 1), [1, -1, 1, 0.5, 2, -3]);
    const exact = op === 'abs' || op === 'relu';
    cases.push({ name: `${k} [${n}]`, kernel: k, outs: [{ n }], ins: [gr, v], tol: exact ? EXACT : op === 'tanh' || op === 'sigmoid' ? DOUBLE_THEN_ROUND : ELEMENTWISE });
  }
}

// ---- dropout: the hash mask must be the oracle's, bit for bit --------------------------------------------
for (const [n, p, seed] of [[8192 * 324, 0.1, 12345], [8192 * 81, 0.5, -7], [100003, 0.9, 2 ** 31 - 1], [1029, 0, 3], [1029, 1, 3], [1029, -0.5, 3], [1029, 1.5, 3],
  [1029, NaN, 3], [100003, 1e-12, 99], [100003, 1 - 2 ** -30, 5], [1, 0.5, 0], [0, 0.5, 1]] as [number, number, number][]) {
  const x = withSpecials(uniform(g, n), [NaN, -0, Infinity, 3e38]);
  cases.push({ name: `dropout n${n} p=${p} seed=${seed}`, kernel: 'dropout', outs: [{ n }], ins: [x], ints: [seed], floats: [p], tol: EXACT, exactZeros: true });
}

// ---- the suite ---------------------------------------------------------------------------------------
const bits = (a: Float32Array | Int32Array) => new Int32Array(a.buffer, a.byteOffset, a.length);
/** The first index where two arrays differ in their bits, or −1 (toEqual on millions of elements is slow). */
function firstBitDiff(a: Float32Array | Int32Array, b: Float32Array | Int32Array): number {
  const x = bits(a), y = bits(b);
  if (x.length !== y.length) return Math.min(x.length, y.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/** closeReport, and for exact cases also the sign of zeros (−0 vs +0: Math.max, sign, copies). */
function report(c: Case, got: Float32Array | Int32Array, ref: Float32Array | Int32Array, i: number): string | null {
  const r = closeReport(got, ref, c.tol, `${c.name} output ${i} (tolerance: ${c.tol.why})`);
  if (r || !c.exactZeros) return r;
  for (let k = 0; k < ref.length; k++) {
    if (ref[k] === 0 && Object.is(ref[k], -0) !== Object.is(got[k], -0)) return `${c.name} output ${i}: [${k}] is ${Object.is(got[k], -0) ? '-0' : '+0'}, the oracle's ${Object.is(ref[k], -0) ? '-0' : '+0'}`;
  }
  return null;
}

function check(c: Case): void {
  const ref = runKernelCase(c, 'cpu');
  const got = runKernelCase(c, DEV);
  const reports = got.map((a, i) => report(c, a, ref[i], i)).filter((r) => r !== null);
  expect(reports.join('\n'), reports.join('\n')).toBe('');
}

describe.skipIf(!deviceStatus(DEV).available)(suiteTitle('elementwise kernels and dropout vs the TypeScript oracle', DEV), () => {
  const threads0 = getCpuNativeThreads() ?? 1;
  afterAll(() => setCpuNativeThreads(threads0));

  it('every kernel of these files is native', () => {
    const native = new Set(nativeCpuKernels());
    expect(KERNELS.filter((k) => !native.has(k))).toEqual([]);
  });

  for (const c of cases) {
    it(c.name, () => {
      setCpuNativeThreads(2);
      check(c);
    });
  }

  it('the portable build of the unary maps (instruction set "generic") matches the oracle too', (ctx) => {
    const addon = loadCpuNative().addon!;
    const isa = addon.info().isa;
    if (isa === 'generic') { ctx.skip('the library already runs its generic code'); return; }
    const sel = cases.filter((c) => /^(gelu|silu|sigmoid|softplus|exp|tanh)(_backward)? \[(663552|100003)\]$/.test(c.name));
    expect(sel.length).toBe(11);
    try {
      expect(addon.gemmSetIsa('generic')).toBe(true);
      setCpuNativeThreads(2);
      for (const c of sel) check(c);
    } finally {
      addon.gemmSetIsa(isa);
    }
  });

  // each output element is computed by one thread from its own inputs: 1, 2 and 3 threads give the same bits
  it('results do not depend on the thread count', () => {
    const det = cases.filter((c) => ['add bias row [8192,81]+[81]', 'mul column [8192,81]·[8192,1]', 'maximum rank 8 [2,1,3,1,2,5,1,3]·[1,4,3,1,2,1,7,1]', 'gelu_backward [2654208]',
      'silu [663552]', 'dropout n2654208 p=0.1 seed=12345', 'where float cond masked_fill [4,4,64,64]'].includes(c.name));
    expect(det.length).toBe(7);
    for (const c of det) {
      const runs = [1, 2, 3].map((t) => { setCpuNativeThreads(t); return runKernelCase(c, DEV); });
      for (const r of runs.slice(1)) r.forEach((a, i) => expect(firstBitDiff(a, runs[0][i]), `${c.name} output ${i}`).toBe(-1));
    }
    setCpuNativeThreads(threads0);
  });

  it('in place (out = x) gives the out-of-place result', () => {
    pb.tidy(() => {
      const x = pb.fromArray(uniform(g, 100003, -4, 4), [100003], { device: DEV });
      for (const [k, fs] of [['gelu', []], ['affine', [0.5, -1]], ['silu', []], ['dropout', [0.3]]] as [string, number[]][]) {
        const is = k === 'dropout' ? [17] : [];
        const ref = pb.empty([100003], 'float32', DEV);
        runKernel(k, [ref], [x], is, fs);
        const y = pb.fromArray(x.toTyped() as Float32Array, [100003], { device: DEV });
        runKernel(k, [y], [y], is, fs);
        expect(firstBitDiff(y.toTyped() as Float32Array, ref.toTyped() as Float32Array), k).toBe(-1);
      }
      const a = pb.fromArray(uniform(g, 8192 * 81), [8192, 81], { device: DEV }), b = pb.fromArray(uniform(g, 81), [81], { device: DEV });
      const { ints: is } = bcast([8192, 81], [81]);
      const ref = pb.empty([8192, 81], 'float32', DEV);
      runKernel('add', [ref], [a, b], is);
      runKernel('add', [a], [a, b], is);
      expect(firstBitDiff(a.toTyped() as Float32Array, ref.toTyped() as Float32Array)).toBe(-1);
    });
  });

  it('bad arguments are errors that name the kernel and the value at fault', () => {
    const f = (n: number) => pb.zeros([n], { device: DEV });
    const i32 = (...v: number[]) => pb.fromArray(Int32Array.from(v), [v.length], { device: DEV, dtype: 'int32' });
    const run = (name: string, outs: pb.Tensor[], ins: pb.Tensor[], is: number[], fs: number[] = []) => () => runKernel(name, outs, ins, is, fs);
    pb.tidy(() => {
      expect(run('add', [f(5)], [f(6), f(3)], [2, 2, 3, 3, 1, 0, 1])).toThrow(/cpu-native kernel 'add'.*output has 5 elements, shape \[2, 3\] needs 6/);
      expect(run('add', [f(6)], [f(6), f(2)], [2, 2, 3, 3, 1, 0, 1])).toThrow(/cpu-native kernel 'add'.*input b has 2 elements, strides \[0, 1\] over shape \[2, 3\] read up to index 2/);
      expect(run('sub', [f(6)], [f(6), i32(1, 2, 3)], [2, 2, 3, 3, 1, 0, 1])).toThrow(/cpu-native kernel 'sub'.*inputs a and b have different dtypes \(float32, int32\)/);
      expect(run('mul', [f(6)], [f(6), f(3)], [2, 2, 3, 3, 1, 0])).toThrow(/cpu-native kernel 'mul'.*expects 7 ints, got 6/);
      expect(run('div', [f(1)], [f(1), f(1)], [9])).toThrow(/cpu-native kernel 'div'.*rank 9 is not in \[0, 8\]/);
      expect(run('maximum', [f(6)], [f(6), f(3)], [2, 2, 3, 3, 1, 0, -1])).toThrow(/cpu-native kernel 'maximum'.*input b strides \[0, -1\] have a negative stride at dimension 1/);
      expect(run('equal', [f(6)], [f(6), f(6)], [2, -2, -3, 3, 1, 3, 1])).toThrow(/cpu-native kernel 'equal'.*shape \[-2, -3\] has a negative size at dimension 0/);
      expect(run('greater', [f(6)], [f(6), f(6)], [2, 2, 3, 1 << 30, 1, 3, 1])).toThrow(/cpu-native kernel 'greater'.*input a has 6 elements, strides \[1073741824, 1\] over shape \[2, 3\] read up to index 1073741826/);
      expect(run('pow', [f(6)], [f(6), f(6)], [2, 65536, 65536, 0, 0, 0, 0])).toThrow(/cpu-native kernel 'pow'.*output has 6 elements, shape \[65536, 65536\] needs 4294967296/);
      const huge = 2 ** 31 - 1;
      expect(run('pow', [f(6)], [f(6), f(6)], [3, huge, huge, huge, 0, 0, 0, 0, 0, 0])).toThrow(/cpu-native kernel 'pow'.*output has 6 elements, shape \[2147483647, 2147483647, 2147483647\] needs more than 2⁶³/);
      expect(run('where', [f(6)], [f(6), f(6), i32(1, 2, 3, 4, 5, 6)], [1, 6, 1, 1, 1])).toThrow(/cpu-native kernel 'where'.*a, b and the output must have one dtype, got float32, int32 → float32/);
      expect(run('where', [f(6)], [f(5), f(6), f(6)], [1, 6, 1, 1, 1])).toThrow(/cpu-native kernel 'where'.*cond has 5 elements, strides \[1\] over shape \[6\] read up to index 5/);
      expect(run('gelu', [f(6)], [f(5)], [])).toThrow(/cpu-native kernel 'gelu'.*input 0 has 5 elements, expected 6/);
      expect(run('silu', [f(3)], [i32(1, 2, 3)], [])).toThrow(/cpu-native kernel 'silu'.*input 0 is int32, expected float32/);
      expect(run('gelu_backward', [f(4)], [f(4), f(3)], [])).toThrow(/cpu-native kernel 'gelu_backward'.*input 1 has 3 elements, expected 4/);
      expect(run('relu', [i32(1, 2)], [f(2)], [])).toThrow(/cpu-native kernel 'relu'.*output 0 is int32, expected float32/);
      expect(run('copy', [f(4)], [f(5)], [])).toThrow(/cpu-native kernel 'copy'.*input has 5 elements, the output 4/);
      expect(run('cast', [i32(1, 2)], [f(3)], [])).toThrow(/cpu-native kernel 'cast'.*input has 3 elements, the output 2/);
      expect(run('affine', [f(4)], [f(4)], [], [2])).toThrow(/cpu-native kernel 'affine'.*expects 2 floats, got 1/);
      expect(run('fill', [f(4)], [], [], [])).toThrow(/cpu-native kernel 'fill'.*expects 1 floats, got 0/);
      expect(run('pow_scalar', [f(4)], [f(3)], [], [2])).toThrow(/cpu-native kernel 'pow_scalar'.*input 0 has 3 elements, expected 4/);
      expect(run('pow_scalar_backward', [f(4)], [f(4), f(4)], [], [])).toThrow(/cpu-native kernel 'pow_scalar_backward'.*expects 1 floats, got 0/);
      expect(run('dropout', [f(4)], [f(4)], [], [0.5])).toThrow(/cpu-native kernel 'dropout'.*expects 1 ints, got 0/);
      expect(run('dropout', [f(4)], [f(4)], [1], [])).toThrow(/cpu-native kernel 'dropout'.*expects 1 floats, got 0/);
      expect(run('dropout', [f(4)], [f(3)], [1], [0.5])).toThrow(/cpu-native kernel 'dropout'.*input 0 has 3 elements, expected 4/);
      expect(run('add', [f(4)], [f(4)], [1, 4, 1, 1])).toThrow(/cpu-native kernel 'add'/);
    });
  });
});
