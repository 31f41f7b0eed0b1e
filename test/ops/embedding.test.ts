// embedding: gather forward, deterministic scatter-add backward, id range errors.
import { describe, it, expect } from 'vitest';
import { tensor, fromArray, zeros, F, runKernel } from '../../src/index.js';

const W = () => tensor([[0, 1], [10, 11], [20, 21], [30, 31]]);   // V = 4, D = 2
const ids = (v: number[], shape?: number[]) => fromArray(v, shape, { dtype: 'int32' });

describe('embedding', () => {
  it('gathers rows; output shape is ids.shape + [D]', () => {
    const y = F.embedding(W(), ids([3, 0, 0, 2, 1, 3], [2, 3]));
    expect(y.shape).toEqual([2, 3, 2]);
    expect(y.toArray()).toEqual([30, 31, 0, 1, 0, 1, 20, 21, 10, 11, 30, 31]);
  });

  it('backward scatter-adds in index order (repeated ids sum)', () => {
    const w = W().requiresGrad_();
    const y = F.embedding(w, ids([3, 0, 0, 3, 3]));
    // gradient rows g[i] = [i+1, 10(i+1)]
    y.backward(tensor([[1, 10], [2, 20], [3, 30], [4, 40], [5, 50]]));
    // row 0 ← g1 + g2 = [5, 50]; row 3 ← g0 + g3 + g4 = [10, 100]; rows 1, 2 untouched
    expect(w.grad!.toArray()).toEqual([5, 50, 0, 0, 0, 0, 10, 100]);
  });

  it('the backward is deterministic and order-exact in float32', () => {
    // 1e8 + 1 − 1e8 depends on the order in float32: index order gives (1e8 + 1) − 1e8 = 0, then + 1
    const w = zeros([2, 1]).requiresGrad_();
    const y = F.embedding(w, ids([1, 1, 1, 1]));
    y.backward(tensor([[1e8], [1], [-1e8], [1]]));
    expect(w.grad!.toArray()).toEqual([0, 1]);
  });

  it('an id out of range names the id, its position and V', () => {
    expect(() => F.embedding(W(), ids([0, 1, 2, 3, 4, 0], [2, 3]))).toThrow(
      'embedding: id 4 at position [1, 1] of ids [2, 3] is out of range for a vocabulary of V = 4 (weight [4, 2])');
    expect(() => F.embedding(W(), ids([-1]))).toThrow(/id -1 at position \[0\]/);
    // the kernel itself refuses too
    const out = zeros([1, 2]);
    expect(() => runKernel('embedding', [out], [W(), ids([7])], [1, 4, 2])).toThrow(/id 7 at flat position 0 .* 4 rows/);
  });

  it('type errors', () => {
    expect(() => F.embedding(W(), tensor([1, 2]))).toThrow(/ids must be int32/);
    expect(() => F.embedding(tensor([1, 2, 3]), ids([0]))).toThrow(/weight must be \[V, D\]/);
  });
});
