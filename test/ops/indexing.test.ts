// Indexing ops: indexSelect, gather (torch.gather semantics), where, maskedFill — values and
// gradients by hand, index errors naming the op, the value and the valid range.
import { describe, it, expect } from 'vitest';
import { fromArray, tensor, sum, mul, indexSelect, gather, where, maskedFill, softmax } from '../../src/index.js';

const f64 = { dtype: 'float64' as const };
const i32 = (xs: number[], shape?: number[]) => fromArray(xs, shape, { dtype: 'int32' });

describe('indexSelect', () => {
  it('selects rows (an embedding lookup) with repeats', () => {
    const w = tensor([[1, 2], [3, 4], [5, 6]]);
    const y = indexSelect(w, 0, i32([2, 0, 2]));
    expect(y.shape).toEqual([3, 2]);
    expect(y.toArray()).toEqual([5, 6, 1, 2, 5, 6]);
  });

  it('selects along an inner axis', () => {
    const x = tensor([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]]);   // [2, 3, 2]
    const y = indexSelect(x, 1, i32([1, 1]));
    expect(y.shape).toEqual([2, 2, 2]);
    expect(y.toArray()).toEqual([3, 4, 3, 4, 9, 10, 9, 10]);
    expect(indexSelect(x, -1, i32([1])).toArray()).toEqual([2, 4, 6, 8, 10, 12]);
    expect(indexSelect(x, 1, i32([])).shape).toEqual([2, 0, 2]);
  });

  it('backward adds the gradient of repeated indices', () => {
    const w = fromArray([1, 2, 3, 4, 5, 6], [3, 2], f64).requiresGrad_();
    const g = fromArray([1, 2, 3, 4, 5, 6], [3, 2], f64);
    sum(mul(indexSelect(w, 0, i32([2, 0, 2])), g)).backward();
    // row 0 gets g[1]; row 1 nothing; row 2 gets g[0] + g[2]
    expect(w.grad!.toArray()).toEqual([3, 4, 0, 0, 1 + 5, 2 + 6]);
  });

  it('errors name the op, the index value and the valid range', () => {
    const w = tensor([[1, 2], [3, 4], [5, 6]]);
    expect(() => indexSelect(w, 0, i32([0, 3]))).toThrow(/indexSelect: index 3 at position 1 is out of range \[0, 3\) for axis 0 of input \[3, 2\]/);
    expect(() => indexSelect(w, 1, i32([-1]))).toThrow(/indexSelect: index -1 at position 0 is out of range \[0, 2\) for axis 1 of input \[3, 2\]/);
    expect(() => indexSelect(w, 0, tensor([0, 1]))).toThrow(/indexSelect: indices must be int32, got float32\[2\]/);
    expect(() => indexSelect(w, 0, i32([0, 1], [1, 2]))).toThrow(/indexSelect: indices must be 1-D, got shape \[1, 2\]/);
  });
});

describe('gather', () => {
  it('follows torch.gather along axis 1', () => {
    // torch.gather(torch.tensor([[1, 2], [3, 4]]), 1, torch.tensor([[0, 0], [1, 0]])) = [[1, 1], [4, 3]]
    const y = gather(tensor([[1, 2], [3, 4]]), 1, i32([0, 0, 1, 0], [2, 2]));
    expect(y.toArray()).toEqual([1, 1, 4, 3]);
  });

  it('follows torch.gather along axis 0, with an index smaller than x', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    // out[i][j] = x[index[i][j]][j]
    const y = gather(x, 0, i32([2, 0, 1, 1], [2, 2]));
    expect(y.shape).toEqual([2, 2]);
    expect(y.toArray()).toEqual([7, 2, 4, 5]);
    // picking the target log-probability per row: out[i][0] = x[i][t_i]
    expect(gather(x, -1, i32([2, 0, 1], [3, 1])).toArray()).toEqual([3, 4, 8]);
  });

  it('backward scatter-adds', () => {
    const x = fromArray([1, 2, 3, 4], [2, 2], f64).requiresGrad_();
    sum(mul(gather(x, 1, i32([0, 0, 1, 0], [2, 2])), fromArray([1, 2, 3, 4], [2, 2], f64))).backward();
    expect(x.grad!.toArray()).toEqual([1 + 2, 0, 4, 3]);
  });

  it('errors name the op, the index value, the range and the shapes', () => {
    const x = tensor([[1, 2], [3, 4]]);
    expect(() => gather(x, 1, i32([0, 2], [1, 2]))).toThrow(/gather: index 2 at position 1 is out of range \[0, 2\) for axis 1 of input \[2, 2\]/);
    expect(() => gather(x, 1, i32([0, 1], [2]))).toThrow(/gather: index \[2\] must have the rank of input \[2, 2\]/);
    expect(() => gather(x, 1, i32([0, 0, 0], [3, 1]))).toThrow(/gather: index \[3, 1\] must have the rank of input \[2, 2\] and no larger dimension except along axis 1/);
  });
});

describe('where', () => {
  it('picks a where cond is nonzero (int32 or float cond), else b', () => {
    expect(where(i32([1, 0, 1]), tensor([1, 2, 3]), tensor([10, 20, 30])).toArray()).toEqual([1, 20, 3]);
    expect(where(tensor([0, 0.5, -2]), tensor([1, 2, 3]), tensor([10, 20, 30])).toArray()).toEqual([10, 2, 3]);
  });

  it('broadcasts cond, a and b; numbers are scalars', () => {
    const y = where(i32([1, 0], [2, 1]), tensor([1, 2, 3]), 0);
    expect(y.shape).toEqual([2, 3]);
    expect(y.toArray()).toEqual([1, 2, 3, 0, 0, 0]);
    expect(where(i32([0, 1]), -1, tensor([5, 6])).toArray()).toEqual([5, -1]);
  });

  it('sends the gradient to a where cond holds and to b elsewhere, summed over broadcasting', () => {
    const a = fromArray([1, 2, 3], [3], f64).requiresGrad_();
    const b = fromArray([1, 2, 3, 4, 5, 6], [2, 3], f64).requiresGrad_();
    const w = fromArray([1, 2, 3, 4, 5, 6], [2, 3], f64);
    sum(mul(where(i32([1, 0], [2, 1]), a, b), w)).backward();
    expect(a.grad!.toArray()).toEqual([1, 2, 3]);                 // row 0 only
    expect(b.grad!.toArray()).toEqual([0, 0, 0, 4, 5, 6]);        // row 1 only
  });

  it('names the op and shapes when they do not broadcast', () => {
    expect(() => where(i32([1, 0]), tensor([1, 2, 3]), tensor([1, 2, 3]))).toThrow(/where: shapes \[2\] and \[3\] cannot be broadcast together/);
    expect(() => where(i32([1]), tensor([1]), i32([1]))).toThrow(/where: dtypes differ/);
  });
});

describe('maskedFill', () => {
  it('fills where the (broadcast) mask is nonzero', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(maskedFill(x, i32([0, 1, 0], [1, 3]), -7).toArray()).toEqual([1, -7, 3, 4, -7, 6]);
  });

  it('makes a causal attention mask: softmax ignores −∞ entries', () => {
    const scores = tensor([[1, 2], [3, 4]]);
    const p = softmax(maskedFill(scores, i32([0, 1, 0, 0], [2, 2]), -Infinity));
    const v = p.toArray();
    expect(v[0]).toBe(1);
    expect(v[1]).toBe(0);
    expect(v[2]).toBeCloseTo(1 / (1 + Math.E), 6);
  });

  it('blocks the gradient where the value was filled in', () => {
    const x = fromArray([1, 2, 3, 4], [2, 2], f64).requiresGrad_();
    sum(mul(maskedFill(x, i32([1, 0], [2, 1]), 0), fromArray([1, 2, 3, 4], [2, 2], f64))).backward();
    expect(x.grad!.toArray()).toEqual([0, 0, 3, 4]);
  });

  it('requires the mask to broadcast to the input shape', () => {
    expect(() => maskedFill(tensor([[1, 2, 3]]), i32([1, 0, 1, 0], [4]), 0)).toThrow(/maskedFill: shapes \[4\] and \[1, 3\] cannot be broadcast together/);
    expect(() => maskedFill(tensor([1, 2, 3]), i32([1, 0, 1, 0, 1, 0], [2, 3]), 0)).toThrow(/maskedFill: mask \[2, 3\] does not broadcast to input \[3\]/);
  });
});
