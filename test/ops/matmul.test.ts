import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { tensor, fromArray, randn, zeros, Generator, tidy, F, setNumThreads, getNumThreads, type Tensor } from '../../src/index.js';
import { matmulNaive, matmulFast, matmulCpu, gemmRange, newGemmWorkspace } from '../../src/backend/cpu/matmul.js';
import { parallelRows, whenThreadsReady, threadStats } from '../../src/backend/cpu/threads.js';
import type { FloatArray } from '../../src/dtype.js';
import { maxDiff } from '../helpers/numeric.js';

const gen = new Generator(1234);
function randArray(n: number, T: typeof Float32Array | typeof Float64Array = Float32Array, shared = n >= 1 << 14): FloatArray {
  const buf = shared ? new SharedArrayBuffer(n * T.BYTES_PER_ELEMENT) : new ArrayBuffer(n * T.BYTES_PER_ELEMENT);
  const a = new T(buf as ArrayBuffer);   // a SharedArrayBuffer works at run time; TS 5.9's typings lag
  for (let i = 0; i < n; i++) a[i] = gen.uniform(-1, 1);
  return a;
}
const close = (t: Tensor, want: unknown[], tol = 1e-5) => {
  const flat = (want as number[]).flat(3) as number[];
  expect(maxDiff(t.toArray(), flat)).toBeLessThan(tol);
};

interface Case { batch: number; M: number; K: number; N: number; tA: number; tB: number; sA: 'full' | 0; sB: 'full' | 0; acc: number }
function setup(c: Case, T: typeof Float32Array | typeof Float64Array = Float32Array, shared?: boolean) {
  const strideA = c.sA === 0 ? 0 : c.M * c.K, strideB = c.sB === 0 ? 0 : c.K * c.N;
  const A = randArray(Math.max(1, c.sA === 0 ? c.M * c.K : c.batch * c.M * c.K), T, shared);
  const B = randArray(Math.max(1, c.sB === 0 ? c.K * c.N : c.batch * c.K * c.N), T, shared);
  const C0 = randArray(c.batch * c.M * c.N, T, shared);
  const ints = [c.batch, c.M, c.K, c.N, c.tA, c.tB, strideA, strideB, c.acc];
  return { A, B, C0, ints };
}

const awkward: Case[] = [];
for (const [batch, M, K, N] of [[1, 1, 1, 1], [1, 7, 33, 129], [1, 129, 7, 33], [1, 33, 129, 1], [1, 1, 300, 7], [1, 65, 1, 70],
  [3, 7, 33, 5], [2, 129, 257, 33], [1, 5, 0, 3]]) {
  for (const tA of [0, 1]) for (const tB of [0, 1]) {
    awkward.push({ batch, M, K, N, tA, tB, sA: 'full', sB: 'full', acc: (M + tA + tB) % 2 });
  }
}
awkward.push({ batch: 3, M: 9, K: 17, N: 6, tA: 0, tB: 0, sA: 0, sB: 'full', acc: 0 });
awkward.push({ batch: 3, M: 9, K: 17, N: 6, tA: 1, tB: 1, sA: 0, sB: 'full', acc: 1 });
awkward.push({ batch: 4, M: 13, K: 300, N: 11, tA: 0, tB: 1, sA: 'full', sB: 0, acc: 0 });
awkward.push({ batch: 2, M: 70, K: 520, N: 600, tA: 0, tB: 0, sA: 'full', sB: 0, acc: 1 });   // crosses KC and NC blocks

describe('matmul kernel: naive vs fast', () => {
  for (const c of awkward) {
    it(`batch ${c.batch} ${c.M}×${c.K}×${c.N} transA ${c.tA} transB ${c.tB} strideA ${c.sA} strideB ${c.sB} acc ${c.acc}`, () => {
      const { A, B, C0, ints } = setup(c);
      const C1 = C0.slice(), C2 = C0.slice(), C3 = C0.slice();
      matmulNaive(C1, A, B, ints);
      matmulFast(C2, A, B, ints);
      matmulCpu(C3, A, B, ints);
      expect(maxDiff(C1, C2)).toBeLessThan(1e-4);
      expect(maxDiff(C1, C3)).toBeLessThan(1e-4);
    });
  }

  it('float64: fast agrees with naive to 1e-12', () => {
    const c: Case = { batch: 2, M: 37, K: 300, N: 19, tA: 1, tB: 0, sA: 'full', sB: 'full', acc: 0 };
    const { A, B, C0, ints } = setup(c, Float64Array);
    const C1 = C0.slice(), C2 = C0.slice();
    matmulNaive(C1, A, B, ints);
    matmulFast(C2, A, B, ints);
    expect(maxDiff(C1, C2)).toBeLessThan(1e-12);
  });

  it('a row range computes only those rows', () => {
    const c: Case = { batch: 3, M: 10, K: 8, N: 9, tA: 0, tB: 0, sA: 'full', sB: 'full', acc: 0 };
    const { A, B, ints } = setup(c);
    const ref = new Float32Array(3 * 10 * 9);
    matmulNaive(ref, A, B, ints);
    const C = new Float32Array(ref.length).fill(7);
    gemmRange(newGemmWorkspace(), [C, A, B], ints, 6, 23);
    for (let r = 0; r < 30; r++) for (let j = 0; j < 9; j++) {
      const o = r * 9 + j;
      if (r >= 6 && r < 23) expect(Math.abs(C[o] - ref[o])).toBeLessThan(1e-5);
      else expect(C[o]).toBe(7);
    }
  });
});

describe('matmul kernel: threads', () => {
  const before = getNumThreads();
  beforeAll(async () => {
    setNumThreads(2);
    expect(await whenThreadsReady()).toBe(true);
  });
  afterAll(() => setNumThreads(before));

  const big: Case[] = [
    { batch: 1, M: 129, K: 257, N: 33, tA: 0, tB: 0, sA: 'full', sB: 'full', acc: 0 },
    { batch: 1, M: 133, K: 64, N: 129, tA: 1, tB: 1, sA: 'full', sB: 'full', acc: 1 },
    { batch: 5, M: 33, K: 65, N: 70, tA: 0, tB: 1, sA: 0, sB: 'full', acc: 0 },
    { batch: 3, M: 47, K: 129, N: 1, tA: 1, tB: 0, sA: 'full', sB: 0, acc: 1 },
    { batch: 7, M: 1, K: 1000, N: 300, tA: 0, tB: 0, sA: 'full', sB: 'full', acc: 0 },
  ];
  for (const c of big) {
    for (const shared of [true, false]) {
      it(`${shared ? 'shared' : 'ordinary'} buffers: batch ${c.batch} ${c.M}×${c.K}×${c.N} tA ${c.tA} tB ${c.tB} sA ${c.sA} acc ${c.acc}`, () => {
        const { A, B, C0, ints } = setup(c, Float32Array, shared);
        const C1 = C0.slice(), C2 = shared ? (() => { const x = randArray(C0.length, Float32Array, true); x.set(C0); return x; })() : C0.slice();
        matmulNaive(C1, A, B, ints);
        expect(parallelRows('gemm', [C2, A, B], ints, c.batch * c.M, 4, [true, false, false], c.acc === 1)).toBe(true);
        expect(maxDiff(C1, C2)).toBeLessThan(1e-4);
      });
    }
  }

  it('the workers take part', () => {
    const c: Case = { batch: 1, M: 512, K: 256, N: 256, tA: 0, tB: 0, sA: 'full', sB: 'full', acc: 0 };
    const { A, B, C0, ints } = setup(c, Float32Array, true);
    const before = threadStats().workerChunks;
    for (let i = 0; i < 50 && threadStats().workerChunks === before; i++) {
      expect(parallelRows('gemm', [C0, A, B], ints, 512, 4, [true, false, false], false)).toBe(true);
    }
    expect(threadStats().workerChunks).toBeGreaterThan(before);
    const ref = new Float32Array(C0.length);
    matmulNaive(ref, A, B, ints);
    expect(maxDiff(ref, C0)).toBeLessThan(1e-4);
  });

  it('float64 through the threads', () => {
    const c: Case = { batch: 2, M: 100, K: 70, N: 90, tA: 0, tB: 1, sA: 'full', sB: 'full', acc: 0 };
    const { A, B, C0, ints } = setup(c, Float64Array);
    const C1 = C0.slice(), C2 = randArray(C0.length, Float64Array, true);
    matmulNaive(C1, A, B, ints);
    expect(parallelRows('gemm', [C2, A, B], ints, 200, 4, [true, false, false], false)).toBe(true);
    expect(maxDiff(C1, C2)).toBeLessThan(1e-12);
  });

  it('the op runs threaded and agrees with the reference', () => {
    tidy(() => {
      const a = randn([4, 64, 96]), b = randn([96, 80]);
      const c = F.matmul(a, b);
      const ref = new Float32Array(4 * 64 * 80);
      matmulNaive(ref, a.data as FloatArray, b.data as FloatArray, [1, 256, 96, 80, 0, 0, 0, 0, 0]);
      expect(maxDiff(c.data, ref)).toBeLessThan(1e-4);
    });
  });
});

describe('matmul op', () => {
  it('2×2 by hand', () => {
    // [[1,2],[3,4]]·[[5,6],[7,8]] = [[1·5+2·7, 1·6+2·8], [3·5+4·7, 3·6+4·8]]
    close(F.matmul(tensor([[1, 2], [3, 4]]), tensor([[5, 6], [7, 8]])), [[19, 22], [43, 50]]);
  });

  it('the accumulate flag adds onto C', () => {
    const C = new Float32Array([1, 1, 1, 1]);
    matmulNaive(C, new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), [1, 2, 2, 2, 0, 0, 0, 0, 1]);
    expect(Array.from(C)).toEqual([20, 23, 44, 51]);
    const D = new Float32Array([1, 1, 1, 1]);
    matmulCpu(D, new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), [1, 2, 2, 2, 0, 0, 0, 0, 1]);
    expect(Array.from(D)).toEqual([20, 23, 44, 51]);
    const E = new Float32Array([1, 1, 1, 1]);
    matmulFast(E, new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), [1, 2, 2, 2, 0, 0, 0, 0, 1]);
    expect(Array.from(E)).toEqual([20, 23, 44, 51]);
  });

  it('transpose flags by hand', () => {
    // Aᵀ with A stored [[1,3],[2,4]] is [[1,2],[3,4]]; Bᵀ with B stored [[5,7],[6,8]] is [[5,6],[7,8]]
    for (const f of [matmulNaive, matmulFast]) {
      const C = new Float32Array(4);
      f(C, new Float32Array([1, 3, 2, 4]), new Float32Array([5, 7, 6, 8]), [1, 2, 2, 2, 1, 1, 0, 0, 0]);
      expect(Array.from(C)).toEqual([19, 22, 43, 50]);
    }
  });

  it('batched, and broadcast of either operand', () => {
    const a = tensor([[[1, 0], [0, 1]], [[2, 0], [0, 2]]]);   // [2,2,2]: I, 2I
    const m = tensor([[1, 2], [3, 4]]);
    close(F.matmul(a, m), [[[1, 2], [3, 4]], [[2, 4], [6, 8]]]);
    close(F.matmul(m, a), [[[1, 2], [3, 4]], [[2, 4], [6, 8]]]);
    close(F.matmul(a, a), [[[1, 0], [0, 1]], [[4, 0], [0, 4]]]);
    expect(F.matmul(zeros([2, 3, 5, 4]), zeros([4, 6])).shape).toEqual([2, 3, 5, 6]);
    expect(F.matmul(zeros([5, 4]), zeros([2, 3, 4, 6])).shape).toEqual([2, 3, 5, 6]);
  });

  it('1-D operands as torch', () => {
    const v = tensor([1, 2]), m = tensor([[1, 2], [3, 4]]);
    const vm = F.matmul(v, m), mv = F.matmul(m, v), vv = F.matmul(v, v);
    expect(vm.shape).toEqual([2]); close(vm, [7, 10]);
    expect(mv.shape).toEqual([2]); close(mv, [5, 11]);
    expect(vv.shape).toEqual([]); close(vv, [5]);
    expect(F.matmul(tensor([1, 2]), zeros([3, 2, 4])).shape).toEqual([3, 4]);
  });

  it('linear = x·Wᵀ + b with weight [out, in]', () => {
    const x = tensor([[1, 2], [3, 4], [5, 6]]);            // [3, 2]
    const w = tensor([[1, 0], [0, 1], [1, 1]]);            // [3 out, 2 in]
    close(F.linear(x, w), [[1, 2, 3], [3, 4, 7], [5, 6, 11]]);
    close(F.linear(x, w, tensor([10, 20, 30])), [[11, 22, 33], [13, 24, 37], [15, 26, 41]]);
    expect(F.linear(zeros([2, 5, 2]), w).shape).toEqual([2, 5, 3]);
  });

  it('float64 end to end', () => {
    const a = fromArray(new Float64Array([1, 2, 3, 4]), [2, 2]), b = fromArray(new Float64Array([0.1, 0.2, 0.3, 0.4]), [2, 2]);
    const c = F.matmul(a, b);
    expect(c.dtype).toBe('float64');
    expect(maxDiff(c.toArray(), [0.7, 1.0, 1.5, 2.2])).toBeLessThan(1e-15);
  });

  it('gradients: broadcast b gets one summed gradient, linear bias sums rows', () => {
    const a = tensor([[[1, 2]], [[3, 4]]]).requiresGrad_();   // [2,1,2]
    const b = tensor([[1], [1]]).requiresGrad_();              // [2,1]
    F.sum(F.matmul(a, b)).backward();
    close(b.grad!, [[4], [6]]);                                // Σ over batch of aᵀ·1
    close(a.grad!, [[[1, 1]], [[1, 1]]]);
    const x = tensor([[1, 2], [3, 4]]).requiresGrad_(), w = tensor([[1, 1]]).requiresGrad_(), bias = tensor([0]).requiresGrad_();
    F.sum(F.linear(x, w, bias)).backward();
    close(w.grad!, [[4, 6]]); close(bias.grad!, [2]); close(x.grad!, [[1, 1], [1, 1]]);
  });

  it('errors name the op and both shapes', () => {
    expect(() => F.matmul(zeros([2, 3]), zeros([4, 5]))).toThrow('matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 columns vs 4 rows)');
    expect(() => F.matmul(zeros([2, 2, 3]), zeros([3, 3, 5]))).toThrow('matmul: shapes [2, 2, 3] and [3, 3, 5] have different batch dimensions [2] vs [3]');
    expect(() => F.matmul(zeros([3]), zeros([4]))).toThrow('matmul: shapes [3] and [4] cannot be multiplied');
    expect(() => F.matmul(zeros([]), zeros([4]))).toThrow('matmul: both operands need at least one dimension, got shapes [] and [4]');
    expect(() => F.matmul(zeros([2, 2]), zeros([2, 2], { dtype: 'float64' }))).toThrow(/matmul: dtypes differ/);
    expect(() => F.linear(zeros([2, 3]), zeros([4, 5]))).toThrow('linear: input [2, 3] does not end in 5, the in-features of weight [4, 5]');
    expect(() => F.linear(zeros([2, 5]), zeros([4, 5]), zeros([3]))).toThrow('linear: bias [3] must have shape [4] for weight [4, 5]');
  });
});
