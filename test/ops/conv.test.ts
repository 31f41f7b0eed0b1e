// conv2d and conv1dDepthwiseCausal: hand-computed golden values, a direct-loop float64 oracle over
// awkward shapes (stride, padding, rectangular kernels, batch not a multiple of the 4-sample tile,
// channels not a multiple of the 4-channel panel), the backward against the oracle, and errors.
import { describe, it, expect } from 'vitest';
import { tensor, fromArray, zeros, randn, Generator, F, runKernel, setNumThreads, getNumThreads, type Tensor } from '../../src/index.js';
import { whenThreadsReady, threadStats } from '../../src/backend/cpu/threads.js';
import { maxDiff } from '../helpers/numeric.js';

const gen = new Generator(7);
function rnd(shape: number[], dtype: 'float32' | 'float64' = 'float64'): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return fromArray(Array.from({ length: n }, () => gen.uniform(-1, 1)), shape, { dtype });
}

/** The definition, written as plainly as possible (the oracle of the oracle). */
function conv2dNaive(x: Tensor, w: Tensor, b: Tensor | null, sh: number, sw: number, ph: number, pw: number) {
  const [B, C, H, W] = x.shape, [OC, , KH, KW] = w.shape;
  const OH = Math.floor((H + 2 * ph - KH) / sh) + 1, OW = Math.floor((W + 2 * pw - KW) / sw) + 1;
  const X = x.toArray(), Wt = w.toArray(), bias = b?.toArray();
  const y = new Float64Array(B * OC * OH * OW);
  for (let n = 0; n < B; n++) for (let k = 0; k < OC; k++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    let s = bias ? bias[k] : 0;
    for (let c = 0; c < C; c++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const ih = oh * sh - ph + kh, iw = ow * sw - pw + kw;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      s += Wt[((k * C + c) * KH + kh) * KW + kw] * X[((n * C + c) * H + ih) * W + iw];
    }
    y[((n * OC + k) * OH + oh) * OW + ow] = s;
  }
  return { y, shape: [B, OC, OH, OW] };
}

describe('conv2d', () => {
  it('golden: 3×3 box filter with padding 1 (+ bias 0.5)', () => {
    const x = tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);
    const w = tensor([[[[1, 1, 1], [1, 1, 1], [1, 1, 1]]]]);
    const y = F.conv2d(x, w, tensor([0.5]), { padding: 1 });
    expect(y.shape).toEqual([1, 1, 3, 3]);
    // corners: 4 taps, edges: 6, centre: 9
    expect(y.toArray()).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28].map((v) => v + 0.5));
  });

  it('golden: stride 2, no padding, 2×2 kernel', () => {
    // x[i, j] = 4i + j on a 4×4 map; w = [[1, 2], [0, -1]] → y = x[2a,2b] + 2·x[2a,2b+1] − x[2a+1,2b+1]
    const x = fromArray(Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4]);
    const w = tensor([[[[1, 2], [0, -1]]]]);
    const y = F.conv2d(x, w, null, { stride: 2 });
    expect(y.shape).toEqual([1, 1, 2, 2]);
    // (0 + 2 − 5), (2 + 6 − 7), (8 + 18 − 13), (10 + 22 − 15)
    expect(y.toArray()).toEqual([-3, 1, 13, 17]);
  });

  it('golden: two channels in, two out (cross-correlation, not flipped)', () => {
    // x: ch0 = [[1, 2], [3, 4]], ch1 = [[0, 1], [1, 0]]; 1×2 kernels, no padding → y [1, 2, 2, 1]
    const x = tensor([[[[1, 2], [3, 4]], [[0, 1], [1, 0]]]]);
    // out0 = 1·x0[:,0] + 10·x0[:,1] + 100·x1[:,1];   out1 = −x1[:,0]
    const w = tensor([[[[1, 10]], [[0, 100]]], [[[0, 0]], [[-1, 0]]]]);
    const y = F.conv2d(x, w, tensor([0, 3]));
    expect(y.shape).toEqual([1, 2, 2, 1]);
    expect(y.toArray()).toEqual([1 + 20 + 100, 3 + 40 + 0, 3 - 0, 3 - 1]);
  });

  const configs: [string, number[], number[], number, number, number, number, boolean][] = [
    ['PxByEmbed E=9, B=7', [7, 9, 3, 3], [9, 9, 3, 3], 1, 1, 1, 1, true],
    ['PxByEmbed E=17, B=5', [5, 17, 3, 3], [17, 17, 3, 3], 1, 1, 1, 1, true],
    ['rect kernel, stride (2,1), pad (0,1)', [3, 2, 7, 6], [5, 2, 3, 2], 2, 1, 0, 1, false],
    ['kernel larger than map with padding 2', [2, 3, 2, 2], [6, 3, 5, 5], 1, 1, 2, 2, true],
    ['1×1 conv, stride 3, pad 2 (inputs skipped)', [1, 2, 4, 4], [3, 2, 1, 1], 3, 3, 2, 2, true],
    ['B=1, C=1, big map', [1, 1, 9, 11], [2, 1, 3, 3], 1, 2, 1, 0, false],
    ['B=130 (several sample blocks)', [130, 3, 3, 3], [4, 3, 3, 3], 1, 1, 1, 1, true],
  ];
  it.each(configs)('matches the direct oracle forward and backward: %s', (_n, xs, ws, sh, sw, ph, pw, hasBias) => {
    const x = rnd(xs).requiresGrad_(), w = rnd(ws).requiresGrad_(), b = hasBias ? rnd([ws[0]]).requiresGrad_() : null;
    const y = F.conv2d(x, w, b, { stride: [sh, sw], padding: [ph, pw] });
    const ref = conv2dNaive(x, w, b, sh, sw, ph, pw);
    expect(y.shape).toEqual(ref.shape);
    expect(maxDiff(y.toArray(), ref.y)).toBeLessThan(1e-12);
    // backward: the gradient of Σ y·R is linear in R; compare with finite directional checks via the oracle
    const R = rnd(y.shape as number[]);
    F.sum(F.mul(y, R)).backward();
    const Rv = R.toArray();
    const dot = (yy: Float64Array) => yy.reduce((s, v, i) => s + v * Rv[i], 0);
    // d/dθ_i Σ y·R computed with a unit perturbation (the conv is linear in x, and in w, so this is exact)
    const check = (t: Tensor, grad: number[], recompute: () => Float64Array) => {
      const data = t.data as Float64Array;
      const base = dot(recompute());
      for (let i = 0; i < t.size; i += Math.max(1, Math.floor(t.size / 40))) {
        const o = data[i]; data[i] = o + 1; const up = dot(recompute()); data[i] = o;
        expect(Math.abs(grad[i] - (up - base))).toBeLessThan(1e-9);
      }
    };
    check(x, x.grad!.toArray(), () => conv2dNaive(x, w, b, sh, sw, ph, pw).y);
    check(w, w.grad!.toArray(), () => conv2dNaive(x, w, b, sh, sw, ph, pw).y);
    if (b) check(b, b.grad!.toArray(), () => conv2dNaive(x, w, b, sh, sw, ph, pw).y);
  });

  it('float32 forward equals the float64 oracle rounded (sums in float64)', () => {
    const x = rnd([9, 64, 3, 3], 'float32'), w = rnd([64, 64, 3, 3], 'float32'), b = rnd([64], 'float32');
    const y = F.conv2d(x, w, b, { padding: 1 });
    const ref = conv2dNaive(x, w, b, 1, 1, 1, 1);
    expect(maxDiff(y.toArray(), Float32Array.from(ref.y))).toBe(0);
  });

  it('kernels write every output element (poisoned outputs)', () => {
    const x = rnd([5, 6, 3, 3]), w = rnd([7, 6, 3, 3]), b = rnd([7]);
    const ints = [5, 6, 3, 3, 7, 3, 3, 3, 3, 1, 1, 1, 1, 1];
    const y = zeros([5, 7, 3, 3], { dtype: 'float64' }); (y.data as Float64Array).fill(NaN);
    runKernel('conv2d', [y], [x, w, b], ints);
    const dx = zeros(x.shape, { dtype: 'float64' }); (dx.data as Float64Array).fill(NaN);
    runKernel('conv2d_backward_input', [dx], [y, w], ints);
    const dw = zeros(w.shape, { dtype: 'float64' }), db = zeros([7], { dtype: 'float64' });
    (dw.data as Float64Array).fill(NaN); (db.data as Float64Array).fill(NaN);
    runKernel('conv2d_backward_weight', [dw, db], [y, x], ints);
    for (const t of [y, dx, dw, db]) expect(t.toArray().every(Number.isFinite)).toBe(true);
  });

  it('split over worker threads: bitwise the same results as one thread (E = 9 and E = 16)', async () => {
    const prev = getNumThreads();
    try {
      for (const E of [9, 16]) {
        const x = randn([600, E, 3, 3]), w = randn([E, E, 3, 3]), b = randn([E]), g = randn([600, E, 3, 3]);
        const ints = [600, E, 3, 3, E, 3, 3, 3, 3, 1, 1, 1, 1, 1];
        const run = () => {
          const y = zeros(g.shape), dx = zeros(x.shape), dw = zeros(w.shape), db = zeros([E]);
          runKernel('conv2d', [y], [x, w, b], ints);
          runKernel('conv2d_backward_input', [dx], [g, w], ints);
          runKernel('conv2d_backward_weight', [dw, db], [g, x], ints);
          return [y, dx, dw, db].map((t) => t.toArray());
        };
        setNumThreads(1);
        const one = run();
        setNumThreads(2);
        expect(await whenThreadsReady()).toBe(true);
        const before = threadStats().parallelOps;
        const two = run();
        expect(threadStats().parallelOps - before).toBe(3);
        two.forEach((a, i) => expect(a).toEqual(one[i]));
      }
    } finally {
      setNumThreads(prev);
    }
  });

  it('errors name the op and the shapes', () => {
    const x = zeros([2, 3, 5, 5]);
    expect(() => F.conv2d(zeros([2, 3, 5]), zeros([4, 3, 3, 3]))).toThrow(/conv2d: input must have rank 4, got shape \[2, 3, 5\]/);
    expect(() => F.conv2d(x, zeros([4, 2, 3, 3]))).toThrow(/conv2d: input \[2, 3, 5, 5\] has 3 channels but weight \[4, 2, 3, 3\] expects 2/);
    expect(() => F.conv2d(x, zeros([4, 3, 3, 3]), zeros([3]))).toThrow(/bias \[3\] must be \[4\]/);
    expect(() => F.conv2d(x, zeros([4, 3, 7, 7]))).toThrow(/does not fit/);
    expect(() => F.conv2d(x, zeros([4, 3, 3, 3]), null, { stride: 0 })).toThrow(/stride must be an integer ≥ 1/);
  });
});

describe('conv1dDepthwiseCausal', () => {
  it('golden: K = 4 on one channel, with bias (= Conv1d(groups=D, padding=K−1)(x)[..., :L])', () => {
    // y[t] = b + w0·x[t−3] + w1·x[t−2] + w2·x[t−1] + w3·x[t]
    const x = tensor([[[1, 2, 3, 4, 5]]]);
    const w = tensor([[[1, 10, 100, 1000]]]);
    const y = F.conv1dDepthwiseCausal(x, w, tensor([0.5]));
    expect(y.toArray()).toEqual([1000.5, 2100.5, 3210.5, 4321.5, 5432.5]);
  });

  it('golden: channels do not mix; backward by hand', () => {
    const x = tensor([[[1, 2, 3], [4, 5, 6]]]).requiresGrad_();
    const w = tensor([[[0, 0, 1, 2]], [[1, 0, 0, -1]]]).requiresGrad_();   // K = 4
    const b = tensor([0, 1]).requiresGrad_();
    const y = F.conv1dDepthwiseCausal(x, w, b);
    // ch0: y[t] = x[t−1] + 2x[t] → [2, 5, 8];  ch1: y[t] = 1 + x[t−3] − x[t] → [−3, −4, −5]
    expect(y.toArray()).toEqual([2, 5, 8, -3, -4, -5]);
    F.sum(y).backward();
    // dx[u] = Σ_j w[j] over the outputs t = u + 3 − j < 3: ch0 → [3, 3, 2]; ch1 → [−1, −1, −1]
    expect(x.grad!.toArray()).toEqual([3, 3, 2, -1, -1, -1]);
    // dw[d, j] = Σ_t x[t + j − 3]: j=0 → nothing, j=1 → x[0], j=2 → x0+x1, j=3 → all
    expect(w.grad!.toArray()).toEqual([0, 1, 3, 6, 0, 4, 9, 15]);
    expect(b.grad!.toArray()).toEqual([3, 3]);
  });

  it('errors name the op and the shapes', () => {
    expect(() => F.conv1dDepthwiseCausal(zeros([2, 3, 5]), zeros([3, 2, 4]))).toThrow(/conv1dDepthwiseCausal: weight \[3, 2, 4\] must be \[3, 1, K ≥ 1\]/);
    expect(() => F.conv1dDepthwiseCausal(zeros([2, 3]), zeros([3, 1, 4]))).toThrow(/rank 3/);
  });
});
