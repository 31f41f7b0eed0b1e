// Layout ops: permute / transpose, slice, flip, concat, stack — values by hand, gradients by hand,
// error messages.
import { describe, it, expect } from 'vitest';
import {
  arange, fromArray, tensor, sum, mul, permute, transpose, slice, flip, concat, stack, reshape, memory, tidy,
} from '../../src/index.js';

const f64 = { dtype: 'float64' as const };

describe('permute / transpose', () => {
  it('transposes a matrix', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    const y = transpose(x, 0, 1);
    expect(y.shape).toEqual([3, 2]);
    expect(y.toArray()).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('permutes [2,3,4] by [2,0,1]: out[k,i,j] = x[i,j,k]', () => {
    const x = arange(24);                        // x[i,j,k] = 12i + 4j + k
    const y = permute(reshape(x, [2, 3, 4]), [2, 0, 1]);
    expect(y.shape).toEqual([4, 2, 3]);
    const v = y.toArray();
    for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) {
      expect(v[(k * 2 + i) * 3 + j]).toBe(12 * i + 4 * j + k);
    }
  });

  it('accepts negative dims; the identity permutation shares storage', () => {
    const x = reshape(arange(6), [2, 3]);
    expect(permute(x, [-1, -2]).toArray()).toEqual([0, 3, 1, 4, 2, 5]);
    const same = permute(x, [0, 1]);
    expect(same.storage).toBe(x.storage);
  });

  it('backward is the inverse permutation', () => {
    const x = fromArray([1, 2, 3, 4, 5, 6], [1, 2, 3], f64).requiresGrad_();
    const w = fromArray([10, 20, 30, 40, 50, 60], [3, 1, 2], f64);   // w[k,0,j] weights x[0,j,k]
    sum(mul(permute(x, [2, 0, 1]), w)).backward();
    // x[0,j,k] meets w[k,0,j] = 10·(2k + j + 1)
    expect(x.grad!.toArray()).toEqual([10, 30, 50, 20, 40, 60]);
  });

  it('names the op and shapes in errors', () => {
    const x = arange(6);
    expect(() => permute(reshape(x, [2, 3]), [0, 0])).toThrow(/permute: dims \[0, 0\] is not a permutation of 0\.\.1 for input \[2, 3\]/);
    expect(() => permute(reshape(x, [2, 3]), [0, 1, 2])).toThrow(/permute: .*input \[2, 3\]/);
    expect(() => transpose(reshape(x, [2, 3]), 0, 2)).toThrow(/transpose: axis 2 is out of range for a tensor of rank 2/);
  });

  it('permutes the [32, 256, 81] training shape correctly', () => {
    const x = reshape(arange(32 * 256 * 81), [32, 256, 81]);
    const y = permute(x, [0, 2, 1]);
    const v = y.data;
    // y[b, d, l] = x[b, l, d] = (b·256 + l)·81 + d
    for (const [b, d, l] of [[0, 0, 0], [31, 80, 255], [7, 13, 200], [16, 0, 255]]) {
      expect(v[(b * 81 + d) * 256 + l]).toBe((b * 256 + l) * 81 + d);
    }
  });
});

describe('slice', () => {
  const x = arange(10);
  it('Python semantics: start:end:step, negative bounds, clamping, empty results', () => {
    expect(slice(x, 0, 2, 8, 3).toArray()).toEqual([2, 5]);
    expect(slice(x, 0, -3).toArray()).toEqual([7, 8, 9]);
    expect(slice(x, 0, 1, -6).toArray()).toEqual([1, 2, 3]);
    expect(slice(x, 0, 5, 100).toArray()).toEqual([5, 6, 7, 8, 9]);
    expect(slice(x, 0, -100, 2).toArray()).toEqual([0, 1]);
    expect(slice(x, 0, 8, 2).shape).toEqual([0]);
    expect(slice(x, 0, 0, 10, 4).toArray()).toEqual([0, 4, 8]);
  });

  it('slices one axis of a matrix and several axes at once', () => {
    const m = reshape(arange(12), [3, 4]);       // m[i,j] = 4i + j
    expect(slice(m, 1, 1, 3).toArray()).toEqual([1, 2, 5, 6, 9, 10]);
    expect(slice(m, -2, 2).toArray()).toEqual([8, 9, 10, 11]);
    const s = slice(m, [[1, 3], [0, 4, 2]]);
    expect(s.shape).toEqual([2, 2]);
    expect(s.toArray()).toEqual([4, 6, 8, 10]);
    expect(slice(m, [null, [-1]]).toArray()).toEqual([3, 7, 11]);
  });

  it('backward scatters the gradient into zeros', () => {
    const m = fromArray([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [3, 4], f64).requiresGrad_();
    const w = fromArray([1, 2, 3, 4], [2, 2], f64);
    sum(mul(slice(m, [[1, 3], [0, 4, 2]]), w)).backward();
    expect(m.grad!.toArray()).toEqual([0, 0, 0, 0, 1, 0, 2, 0, 3, 0, 4, 0]);
  });

  it('rejects bad steps and bounds, naming the op and shape', () => {
    expect(() => slice(x, 0, 0, 5, 0)).toThrow(/slice: step 0 on axis 0 of \[10\] must be a positive integer/);
    expect(() => slice(x, 0, 0, 5, -1)).toThrow(/slice: step -1/);
    expect(() => slice(x, 0, 1.5)).toThrow(/slice: start 1.5 on axis 0 of \[10\] is not an integer/);
    expect(() => slice(x, 1, 0)).toThrow(/slice: axis 1 is out of range for a tensor of rank 1/);
    expect(() => slice(x, [[0], [0]])).toThrow(/slice: 2 ranges for input \[10\] of rank 1/);
  });
});

describe('flip', () => {
  const m = reshape(arange(6), [2, 3]);
  it('reverses the given axes', () => {
    expect(flip(m, 1).toArray()).toEqual([2, 1, 0, 5, 4, 3]);
    expect(flip(m, 0).toArray()).toEqual([3, 4, 5, 0, 1, 2]);
    expect(flip(m, [0, -1]).toArray()).toEqual([5, 4, 3, 2, 1, 0]);
  });
  it('backward flips the gradient back', () => {
    const x = fromArray([1, 2, 3], [3], f64).requiresGrad_();
    sum(mul(flip(x, 0), fromArray([10, 20, 30], [3], f64))).backward();
    expect(x.grad!.toArray()).toEqual([30, 20, 10]);
  });
  it('rejects repeated axes', () => {
    expect(() => flip(m, [1, -1])).toThrow(/flip: repeated axis in \[1, 1\] for input \[2, 3\]/);
  });
});

describe('concat / stack', () => {
  it('concatenates along any axis', () => {
    const a = tensor([[1, 2], [3, 4]]), b = tensor([[5, 6]]), c = tensor([[7], [8]]);
    expect(concat([a, b], 0).toArray()).toEqual([1, 2, 3, 4, 5, 6]);
    const ac = concat([a, c], -1);
    expect(ac.shape).toEqual([2, 3]);
    expect(ac.toArray()).toEqual([1, 2, 7, 3, 4, 8]);
    expect(concat([fromArray([1, 2], [2], { dtype: 'int32' }), fromArray([3], [1], { dtype: 'int32' })]).toArray()).toEqual([1, 2, 3]);
    expect(concat([a, fromArray([], [0, 2])], 0).toArray()).toEqual([1, 2, 3, 4]);
  });

  it('backward slices the gradient for each input', () => {
    const a = fromArray([1, 2, 3, 4], [2, 2], f64).requiresGrad_();
    const c = fromArray([5, 6], [2, 1], f64).requiresGrad_();
    const w = fromArray([1, 2, 3, 4, 5, 6], [2, 3], f64);
    sum(mul(concat([a, c], 1), w)).backward();
    expect(a.grad!.toArray()).toEqual([1, 2, 4, 5]);
    expect(c.grad!.toArray()).toEqual([3, 6]);
  });

  it('stacks along a new axis', () => {
    const a = tensor([1, 2, 3]), b = tensor([4, 5, 6]);
    const s0 = stack([a, b]);
    expect(s0.shape).toEqual([2, 3]);
    expect(s0.toArray()).toEqual([1, 2, 3, 4, 5, 6]);
    const s1 = stack([a, b], -1);
    expect(s1.shape).toEqual([3, 2]);
    expect(s1.toArray()).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('stack backward', () => {
    const a = fromArray([1, 2], [2], f64).requiresGrad_(), b = fromArray([3, 4], [2], f64).requiresGrad_();
    sum(mul(stack([a, b], 1), fromArray([1, 2, 3, 4], [2, 2], f64))).backward();
    expect(a.grad!.toArray()).toEqual([1, 3]);
    expect(b.grad!.toArray()).toEqual([2, 4]);
  });

  it('names the op, the inputs and the shapes in errors', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]), b = tensor([[1, 2, 3, 4], [5, 6, 7, 8]]);
    expect(() => concat([a, b], 0)).toThrow(/concat: input 1 has shape \[2, 4\] but input 0 has \[2, 3\] \(all dimensions except axis 0 must match\)/);
    expect(() => concat([])).toThrow(/concat: needs at least one tensor/);
    expect(() => concat([a, fromArray([1, 2, 3, 4, 5, 6], [2, 3], { dtype: 'int32' })])).toThrow(/concat: dtypes differ/);
    expect(() => stack([a, b])).toThrow(/stack: input 1 has shape \[2, 4\] but input 0 has \[2, 3\]/);
    expect(() => stack([a], 3)).toThrow(/stack: axis 3 is out of range for a tensor of rank 3/);
  });

  it('leaves no tensors behind inside tidy (graph intermediates included)', () => {
    const a = fromArray([1, 2, 3, 4], [2, 2], f64).requiresGrad_();
    const before = memory().numTensors;
    tidy(() => { sum(mul(concat([a, flip(slice(permute(a, [1, 0]), 0, 1), 1)], 0), 2)).backward(); });
    a.zeroGrad();
    expect(memory().numTensors).toBe(before);
  });
});
