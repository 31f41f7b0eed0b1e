/**
 * 'cpu-native' embedding / indexing / layout / conv2d kernels (native/cpu/{embedding,indexing,
 * layout,conv2d}.cc) against their oracles, the TypeScript kernels of 'cpu', at the real model
 * shapes (bench/suites/blocks.ts: B·L = 8192 windows, V = 113, D = 81, PxByEmbed E = 9 and 64) and
 * at sizes that exercise the multi-threaded, tiled and edge paths (odd sizes, 1-element edges,
 * empty inputs, batch > 1). Every output is poisoned before the launch (runKernelCase), so an
 * element a kernel forgets to write is a mismatch. Also: the kernels are really native, the
 * scatter-add backwards and the conv weight gradient are bit-identical across thread counts, and
 * bad inputs are errors naming the kernel and the values at fault.
 *
 * Tolerances (written beside each case):
 *  - EXACT for copies (permute, slice, concat, gathers) and for the scatter-add backwards: the
 *    native kernels add in the oracle's order in float32, so the bits must match.
 *  - conv2d via GEMM: gemm(K) of parity-cases (1e-4·√(K/256) + 1e-6 absolute, 1e-5 relative), K the
 *    reduction length per output (C·KH·KW forward, OC·KH·KW for dx, B·OH·OW for dw): float32
 *    accumulation against the oracle's float64, inputs in [−1, 1].
 *  - conv2d with a non-finite input takes the native direct loops, which sum in float64 in the
 *    oracle's order: EXACT (Inf / NaN land exactly where the oracle puts them).
 */
import { describe, it, expect, afterAll } from 'vitest';
import * as pb from '../../src/index.js';
import { runKernel } from '../../src/dispatch/dispatch.js';
import { nativeCpuKernels } from '../../src/backend/native/cpu_native.js';
import { Generator } from '../../src/util/rng.js';
import { closeReport, deviceStatus, suiteTitle, uniform, ints } from './helpers.js';
import { runKernelCase, type KernelCase } from './parity-cases.js';

const DEV = 'cpu-native';
const KERNELS = ['embedding', 'embedding_backward', 'index_select', 'index_select_backward', 'gather', 'gather_backward',
  'permute', 'slice', 'slice_backward', 'concat', 'conv2d', 'conv2d_backward_input', 'conv2d_backward_weight'];

const EXACT = { atol: 0, rtol: 0, why: 'exact: a copy, or float32 adds in the oracle order' };
const gemmTol = (K: number) => ({ atol: 1e-4 * Math.sqrt(Math.max(K, 1) / 256) + 1e-6, rtol: 1e-5, why: `GEMM reduction of ${K} terms: float32 vs the oracle's float64` });

const g = new Generator(777);
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

function check(c: KernelCase): void {
  const ref = runKernelCase(c, 'cpu');
  const got = runKernelCase(c, DEV);
  const reports = got.map((x, i) => closeReport(x, ref[i], c.tol, `${c.name} output ${i} (${c.tol.why})`)).filter((r) => r !== null);
  expect(reports.join('\n'), reports.join('\n')).toBe('');
}

/** Runs a kernel case on 'cpu-native' with `threads` pool threads. */
function runWith(c: KernelCase, threads: number): (Float32Array | Int32Array)[] {
  const before = pb.getCpuNativeThreads() ?? 1;
  pb.setCpuNativeThreads(threads);
  try { return runKernelCase(c, DEV); } finally { pb.setCpuNativeThreads(before); }
}

/** The error a kernel raises on 'cpu-native' (its message), or '' when it does not throw. */
function errorOf(kernel: string, outs: pb.Tensor[], ins: pb.Tensor[], is: number[]): string {
  try { runKernel(kernel, outs, ins, is); return ''; } catch (e) { return (e as Error).message; }
}

const bytes = (a: Float32Array | Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const f32 = (n: number) => pb.zeros([n], { device: DEV });
const i32 = (a: number[]) => pb.fromArray(Int32Array.from(a), [a.length], { device: DEV });
const arr = (n: number) => pb.fromArray(uniform(g, n), [n], { device: DEV });

// ---- cases --------------------------------------------------------------------------------------

function embeddingCases(): KernelCase[] {
  const cs: KernelCase[] = [];
  // [N, V, D, id distribution]: the PxByEmbed lookup (B·L·9 ids, E = 9), the blocks bench one,
  // 1-element edges, a single hot id over wide rows (column blocks), a skewed distribution
  const shapes: [number, number, number, string][] = [[73728, 113, 9, 'uniform'], [8192, 113, 81, 'uniform'], [1, 1, 1, 'uniform'],
    [5000, 3, 700, 'hot'], [40000, 1000, 17, 'skewed'], [0, 4, 3, 'uniform'], [7, 9, 0, 'uniform']];
  for (const [N, V, D, dist] of shapes) {
    const ids = dist === 'hot' ? new Int32Array(N).fill(1) : ints(g, N, 0, V);
    if (dist === 'skewed') for (let i = 0; i < N; i += 2) ids[i] = ids[i] % 3;
    if (N > 1) { ids[0] = 0; ids[N - 1] = V - 1; }
    const name = `N${N} V${V} D${D} ${dist}`;
    cs.push({ name: `embedding ${name}`, kernel: 'embedding', outs: [{ n: N * D }], ins: [uniform(g, V * D), ids], ints: [N, V, D], tol: EXACT });
    cs.push({ name: `embedding_backward ${name}`, kernel: 'embedding_backward', outs: [{ n: V * D }], ins: [uniform(g, N * D), ids], ints: [N, V, D], tol: EXACT });
  }
  for (const [outer, n, inner, k] of [[3, 50, 1, 20000], [5, 17, 300, 40], [1, 1, 5, 1], [64, 113, 9, 600]]) {
    const idx = ints(g, k, 0, n);
    const name = `[${outer},${n},${inner}] k${k}`;
    cs.push({ name: `index_select ${name}`, kernel: 'index_select', outs: [{ n: outer * k * inner }], ins: [uniform(g, outer * n * inner), idx], ints: [outer, n, inner, k], tol: EXACT });
    cs.push({ name: `index_select_backward ${name}`, kernel: 'index_select_backward', outs: [{ n: outer * n * inner }], ins: [uniform(g, outer * k * inner), idx], ints: [outer, n, inner, k], tol: EXACT });
  }
  cs.push({ name: 'index_select int32 x', kernel: 'index_select', outs: [{ n: 2 * 9 * 5, dtype: 'int32' }], ins: [ints(g, 2 * 7 * 5, -50, 50), ints(g, 9, 0, 7)], ints: [2, 7, 5, 9], tol: EXACT });
  return cs;
}

function gatherCases(): KernelCase[] {
  const cs: KernelCase[] = [];
  for (const [xShape, iShape, axis] of [[[64, 600], [64, 700], 1], [[300, 129], [500, 129], 0], [[5, 40, 301], [4, 90, 300], 1],
    [[7, 3, 5, 9], [7, 3, 5, 20], 3], [[1], [1], 0], [[9], [50], 0], [[2, 3], [0, 3], 0]] as [number[], number[], number][]) {
    const xs = xShape.map((_, d) => numel(xShape.slice(d + 1)));
    const axisStride = xs[axis];
    xs[axis] = 0;
    const index = ints(g, numel(iShape), 0, xShape[axis]);
    const is = [iShape.length, ...iShape, ...xs, axisStride];
    const name = `${JSON.stringify(xShape)} axis ${axis} index ${JSON.stringify(iShape)}`;
    cs.push({ name: `gather ${name}`, kernel: 'gather', outs: [{ n: numel(iShape) }], ins: [uniform(g, numel(xShape)), index], ints: is, tol: EXACT });
    cs.push({ name: `gather_backward ${name}`, kernel: 'gather_backward', outs: [{ n: numel(xShape) }], ins: [uniform(g, numel(iShape)), index], ints: is, tol: EXACT });
  }
  cs.push({ name: 'gather int32 x', kernel: 'gather', outs: [{ n: 6 * 4, dtype: 'int32' }], ins: [ints(g, 6 * 9, -9, 9), ints(g, 6 * 4, 0, 9)], ints: [2, 6, 4, 9, 0, 1], tol: EXACT });
  return cs;
}

function layoutCases(): KernelCase[] {
  const cs: KernelCase[] = [];
  // PxByEmbed [B·L, 3, 3, E] → [B·L, E, 3, 3] and back; attention heads; big transposes (the tiled
  // path, odd edges); a 6-D shuffle; int32
  for (const [shape, perm] of [[[8192, 3, 3, 9], [0, 3, 1, 2]], [[8192, 9, 3, 3], [0, 2, 3, 1]], [[32, 256, 4, 20], [0, 2, 1, 3]],
    [[1000, 1031], [1, 0]], [[3, 257, 129], [0, 2, 1]], [[2, 3, 4, 5, 6, 7], [5, 3, 1, 0, 4, 2]], [[1, 1], [1, 0]], [[0, 5], [1, 0]]]) {
    const x = uniform(g, numel(shape));
    cs.push({ name: `permute ${JSON.stringify(shape)} ${JSON.stringify(perm)}`, kernel: 'permute', outs: [{ n: numel(shape) }], ins: [x], ints: [shape.length, ...shape, ...perm], tol: EXACT });
  }
  cs.push({ name: 'permute int32 [300,170]', kernel: 'permute', outs: [{ n: 300 * 170, dtype: 'int32' }], ins: [ints(g, 300 * 170, -1e6, 1e6)], ints: [2, 300, 170, 1, 0], tol: EXACT });
  // slices: [xShape, outShape, offset, strides]; a stride-0 one reads overlapping positions, and
  // its backward runs serially in the oracle's order (last write wins)
  for (const [xShape, outShape, offset, strides] of [
    [[8192, 9], [8192, 1], 4, [9, 1]],               // the window centres (CenterEmbed)
    [[512, 300], [256, 100], 301, [600, 3]],         // every other row from 1, every third column from 1
    [[700, 129], [700, 129], 128, [129, -1]],        // flip the last axis
    [[40, 30, 20], [40, 30, 20], 23999, [-600, -20, -1]],
    [[50, 64], [64, 50], 0, [1, 64]],                // a transposed read (the tiled path)
    [[4, 5], [3, 4, 5], 0, [0, 5, 1]],               // overlapping (stride 0)
    [[1], [1], 0, [1]],
  ] as [number[], number[], number, number[]][]) {
    const name = `${JSON.stringify(xShape)}→${JSON.stringify(outShape)} off ${offset} strides ${JSON.stringify(strides)}`;
    cs.push({ name: `slice ${name}`, kernel: 'slice', outs: [{ n: numel(outShape) }], ins: [uniform(g, numel(xShape))], ints: [outShape.length, ...outShape, offset, ...strides], tol: EXACT });
    cs.push({ name: `slice_backward ${name}`, kernel: 'slice_backward', outs: [{ n: numel(xShape) }], ins: [uniform(g, numel(outShape))], ints: [outShape.length, ...outShape, offset, ...strides], tol: EXACT });
  }
  // concat: [outer, inner, n_k...]: many rows, one long row (split inside the row), empty inputs
  for (const [outer, inner, ...ns] of [[8192, 1, 81, 81, 7], [1, 200000, 1, 2, 0, 1], [3, 5, 0, 0, 4], [1000, 9, 1], [2, 0, 3, 4]]) {
    const total = ns.reduce((a, b) => a + b, 0);
    cs.push({ name: `concat outer ${outer} inner ${inner} n ${JSON.stringify(ns)}`, kernel: 'concat', outs: [{ n: outer * total * inner }],
      ins: ns.map((n) => uniform(g, outer * n * inner)), ints: [outer, inner, ...ns], tol: EXACT });
  }
  return cs;
}

/** The three conv2d kernels of one geometry; `poke` puts non-finite values into x (direct loops). */
function convCases(B: number, C: number, H: number, W: number, OC: number, KH: number, KW: number, sh: number, sw: number, ph: number, pw: number,
  hasBias: number, poke = false): KernelCase[] {
  const OH = Math.floor((H + 2 * ph - KH) / sh) + 1, OW = Math.floor((W + 2 * pw - KW) / sw) + 1;
  const is = [B, C, H, W, OC, KH, KW, OH, OW, sh, sw, ph, pw, hasBias];
  const x = uniform(g, B * C * H * W), w = uniform(g, OC * C * KH * KW), b = uniform(g, OC), gy = uniform(g, B * OC * OH * OW);
  if (poke) { x[5] = Infinity; x[x.length - 2] = NaN; gy[3] = -Infinity; }
  const name = `B${B} C${C} ${H}×${W} OC${OC} k${KH}×${KW} s${sh},${sw} p${ph},${pw}${hasBias ? ' bias' : ''}${poke ? ' non-finite' : ''}`;
  const tol = (K: number) => (poke ? { ...EXACT, why: 'direct loops: float64 sums in the oracle order' } : gemmTol(K));
  return [
    { name: `conv2d ${name}`, kernel: 'conv2d', outs: [{ n: B * OC * OH * OW }], ins: hasBias ? [x, w, b] : [x, w], ints: is, tol: tol(C * KH * KW) },
    { name: `conv2d_backward_input ${name}`, kernel: 'conv2d_backward_input', outs: [{ n: B * C * H * W }], ins: [gy, w], ints: is, tol: tol(OC * KH * KW) },
    { name: `conv2d_backward_weight ${name}`, kernel: 'conv2d_backward_weight', outs: hasBias ? [{ n: OC * C * KH * KW }, { n: OC }] : [{ n: OC * C * KH * KW }],
      ins: [gy, x], ints: is, tol: tol(B * OH * OW) },
  ];
}

function conv2dCases(): KernelCase[] {
  return [
    // small maps (the unrolled-weight GEMMs): PxByEmbed E = 9 at the real batch, E = 64, odd sizes
    ...convCases(8192, 9, 3, 3, 9, 3, 3, 1, 1, 1, 1, 1),
    ...convCases(96, 64, 3, 3, 64, 3, 3, 1, 1, 1, 1, 1),
    ...convCases(333, 5, 3, 3, 7, 3, 3, 1, 1, 1, 1, 0),
    ...convCases(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1),
    ...convCases(9, 3, 4, 4, 5, 3, 3, 2, 2, 1, 1, 1),
    // im2col: larger maps, strides, asymmetric kernels and padding, many image blocks (6 groups),
    // a large image split into output tiles, OC = 1
    ...convCases(3, 5, 8, 8, 7, 3, 3, 1, 1, 1, 1, 1),
    ...convCases(2, 3, 9, 7, 4, 3, 2, 2, 1, 1, 0, 0),
    ...convCases(300, 8, 6, 6, 6, 3, 3, 1, 1, 1, 1, 1),
    ...convCases(2, 8, 48, 48, 3, 3, 3, 1, 1, 1, 1, 1),
    ...convCases(4, 2, 11, 13, 1, 5, 3, 3, 2, 2, 1, 0),
    // non-finite inputs: the direct loops, on both kinds of geometry
    ...convCases(20, 4, 3, 3, 5, 3, 3, 1, 1, 1, 1, 1, true),
    ...convCases(3, 2, 7, 6, 3, 3, 3, 2, 1, 1, 1, 1, true),
  ];
}

const status = deviceStatus(DEV);

describe.skipIf(!status.available)(suiteTitle('embedding / indexing / layout / conv2d kernels', DEV), () => {
  const threads = pb.getCpuNativeThreads();
  afterAll(() => { if (threads !== null) pb.setCpuNativeThreads(threads); });

  it('runs every kernel of the area natively', () => {
    const native = new Set(nativeCpuKernels());
    expect(KERNELS.filter((k) => !native.has(k))).toEqual([]);
  });

  for (const [group, make] of [['embedding / index_select', embeddingCases], ['gather', gatherCases], ['layout', layoutCases], ['conv2d', conv2dCases]] as const) {
    it(`${group}: matches the 'cpu' oracle`, () => { for (const c of make()) check(c); });
  }

  it('scatter-add backwards and conv weight gradients are bit-identical for 1, 2 and 3 threads', () => {
    const ids = ints(g, 73728, 0, 113);
    const cases: KernelCase[] = [
      { name: 'embedding_backward', kernel: 'embedding_backward', outs: [{ n: 113 * 9 }], ins: [uniform(g, 73728 * 9), ids], ints: [73728, 113, 9], tol: EXACT },
      { name: 'gather_backward', kernel: 'gather_backward', outs: [{ n: 300 * 129 }], ins: [uniform(g, 500 * 129), ints(g, 500 * 129, 0, 300)], ints: [2, 500, 129, 0, 1, 129], tol: EXACT },
      ...convCases(2048, 9, 3, 3, 9, 3, 3, 1, 1, 1, 1, 1),
      ...convCases(300, 8, 6, 6, 6, 3, 3, 1, 1, 1, 1, 1),
    ];
    for (const c of cases) {
      const one = runWith(c, 1);
      for (const t of [2, 3]) {
        const other = runWith(c, t);
        other.forEach((o, i) => expect(Buffer.compare(bytes(o), bytes(one[i])), `${c.name} output ${i}, ${t} threads`).toBe(0));
      }
    }
  });

  it('bad indices and sizes are errors naming the kernel and the values at fault', () => {
    pb.tidy(() => {
      const expectError = (msg: string, re: RegExp) => expect(msg).toMatch(re);
      expectError(errorOf('embedding', [f32(6)], [arr(10), i32([0, 1, 5])], [3, 5, 2]), /'embedding'.*id 5 at position 2 is out of range \[0, 5\)/);
      expectError(errorOf('embedding_backward', [f32(10)], [arr(6), i32([0, -1, 2])], [3, 5, 2]), /'embedding_backward'.*id -1 at position 1 is out of range \[0, 5\)/);
      expectError(errorOf('index_select', [f32(4)], [arr(6), i32([2, 3])], [1, 3, 2, 2]), /'index_select'.*index 3 at position 1 is out of range \[0, 3\)/);
      expectError(errorOf('index_select_backward', [f32(6)], [arr(4), i32([7, 0])], [1, 3, 2, 2]), /'index_select_backward'.*index 7 at position 0 is out of range \[0, 3\)/);
      expectError(errorOf('gather', [f32(4)], [arr(6), i32([0, 1, 3, 2])], [2, 2, 2, 3, 0, 1]), /'gather'.*index 3 at position 2 is out of range \[0, 3\) along axis 1/);
      expectError(errorOf('gather_backward', [f32(6)], [arr(4), i32([0, 1, 2, -4])], [2, 2, 2, 3, 0, 1]), /'gather_backward'.*index -4 at position 3 is out of range \[0, 3\)/);
      expectError(errorOf('gather', [f32(4)], [arr(6), i32([0, 1, 2, 0])], [2, 2, 2, 0, 2, 4]), /'gather'.*strides \[4, 2\].*not the row-major strides of x with 6 elements/);
      expectError(errorOf('gather', [f32(8)], [arr(6), i32([0, 0, 0, 0, 0, 0, 0, 0])], [2, 4, 2, 3, 0, 1]), /'gather'.*index dimension 0 has size 4, larger than x's 2/);
      expectError(errorOf('embedding', [f32(6)], [arr(9), i32([0, 1, 2])], [3, 5, 2]), /'embedding'.*input 0 has 9 elements, expected 10/);
      expectError(errorOf('permute', [f32(6)], [arr(6)], [2, 2, 3, 1, 1]), /'permute'.*perm entry 1 at position 1 .*permutation/);
      expectError(errorOf('permute', [f32(5)], [arr(6)], [2, 2, 3, 1, 0]), /'permute'.*output 5 elements, the shape has 6/);
      expectError(errorOf('slice', [f32(4)], [arr(6)], [1, 4, 3, 1]), /'slice'.*input positions \[3, 6\] fall outside its 6 elements/);
      expectError(errorOf('slice_backward', [f32(6)], [arr(3)], [1, 3, 1, -1]), /'slice_backward'.*dx positions \[-1, 1\] fall outside its 6 elements/);
      expectError(errorOf('concat', [f32(9)], [arr(4), arr(4)], [1, 2, 2, 2]), /'concat'.*output has 9 elements, expected 8/);
      expectError(errorOf('concat', [f32(8)], [arr(4), arr(3)], [1, 2, 2, 2]), /'concat'.*input 1 has 3 elements, expected 4/);
      const convInts = [2, 3, 3, 3, 4, 3, 3, 3, 3, 1, 1, 1, 1, 1];
      expectError(errorOf('conv2d', [f32(72)], [arr(54), arr(108), arr(4)], convInts.map((v, i) => (i === 9 ? 0 : v))), /'conv2d'.*strides must be ≥ 1, got \[0, 1\]/);
      expectError(errorOf('conv2d', [f32(72)], [arr(54), arr(107), arr(4)], convInts), /'conv2d'.*input 1 has 107 elements, expected 108/);
      expectError(errorOf('conv2d', [f32(72)], [arr(54), arr(108)], convInts), /'conv2d'.*expects 3 inputs, got 2/);
      expectError(errorOf('conv2d_backward_weight', [f32(108), f32(4), f32(4)], [arr(72), arr(54)], convInts), /'conv2d_backward_weight'.*expects 1 or 2 outputs/);
      expectError(errorOf('conv2d_backward_input', [f32(54)], [arr(72), arr(108)], convInts.map((v, i) => (i === 2 ? -3 : v))), /'conv2d_backward_input'.*H is negative \(-3\)/);
    });
  });
});
