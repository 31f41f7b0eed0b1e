// crossEntropy / nllLoss with PyTorch semantics: golden values by hand, reductions, ignoreIndex,
// leading dimensions, fused backward = (softmax − onehot)·scale, errors naming value and row.
import { describe, it, expect } from 'vitest';
import { fromArray, tensor, randn, crossEntropy, nllLoss, logSoftmax, Generator, randint } from '../../src/index.js';

const f64 = { dtype: 'float64' as const };
const i32 = (xs: number[], shape?: number[]) => fromArray(xs, shape, { dtype: 'int32' });

// logits [[1, 2, 3], [1, 1, 1]], targets [2, 0]:
//   row 0: log(e + e² + e³) − 3 = log(1 + e⁻¹ + e⁻²) = 0.40760596444438
//   row 1: log(3e) − 1 = log 3 = 1.09861228866811
const L0 = 0.40760596444438, L1 = Math.log(3);
const SM = [0.09003057317038046, 0.24472847105479764, 0.6652409557748219];   // softmax([1, 2, 3])
const logits = () => fromArray([1, 2, 3, 1, 1, 1], [2, 3], f64).requiresGrad_();

function close(actual: number[], expected: number[], digits = 12): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i], digits));
}

describe('crossEntropy', () => {
  it('golden values for every reduction', () => {
    const t = i32([2, 0]);
    expect(crossEntropy(logits(), t).item()).toBeCloseTo((L0 + L1) / 2, 13);
    expect(crossEntropy(logits(), t, { reduction: 'sum' }).item()).toBeCloseTo(L0 + L1, 13);
    const none = crossEntropy(logits(), t, { reduction: 'none' });
    expect(none.shape).toEqual([2]);
    close(none.toArray(), [L0, L1], 13);
  });

  it('backward of the mean is (softmax − onehot) / N', () => {
    const x = logits();
    crossEntropy(x, i32([2, 0])).backward();
    close(x.grad!.toArray(), [SM[0] / 2, SM[1] / 2, (SM[2] - 1) / 2, (1 / 3 - 1) / 2, 1 / 6, 1 / 6]);
  });

  it("backward of 'none' scales each row by its own gradient", () => {
    const x = logits();
    crossEntropy(x, i32([2, 0]), { reduction: 'none' }).backward(fromArray([2, -1], [2], f64));
    close(x.grad!.toArray(), [2 * SM[0], 2 * SM[1], 2 * (SM[2] - 1), 2 / 3, -1 / 3, -1 / 3]);
  });

  it('ignoreIndex: ignored rows have no loss, no gradient, and do not count in the mean', () => {
    const x = logits();
    const loss = crossEntropy(x, i32([2, -100]));
    expect(loss.item()).toBeCloseTo(L0, 13);                       // mean over 1 row, not 2
    loss.backward();
    close(x.grad!.toArray(), [SM[0], SM[1], SM[2] - 1, 0, 0, 0]);
    close(crossEntropy(logits(), i32([2, -100]), { reduction: 'none' }).toArray(), [L0, 0]);
    // a custom ignoreIndex (here class 0 itself)
    expect(crossEntropy(logits(), i32([2, 0]), { ignoreIndex: 0 }).item()).toBeCloseTo(L0, 13);
  });

  it('all targets ignored: the mean is 0/0 = NaN (as torch), the gradient zero', () => {
    const x = logits();
    const loss = crossEntropy(x, i32([-100, -100]));
    expect(Number.isNaN(loss.item())).toBe(true);
    loss.backward();
    expect(x.grad!.toArray()).toEqual([0, 0, 0, 0, 0, 0]);
    expect(crossEntropy(logits(), i32([-100, -100]), { reduction: 'sum' }).item()).toBe(0);
  });

  it('accepts [..., C] logits with targets of the leading shape', () => {
    const x = randn([2, 3, 5], { generator: new Generator(1), dtype: 'float64' });
    const t = randint(0, 5, [2, 3], { generator: new Generator(2) });
    const flat = crossEntropy(fromArray(x.toTyped(), [6, 5]), fromArray(t.toTyped(), [6]), { reduction: 'none' });
    const none = crossEntropy(x, t, { reduction: 'none' });
    expect(none.shape).toEqual([2, 3]);
    close(none.toArray(), flat.toArray(), 6);
    expect(crossEntropy(x, t).item()).toBeCloseTo(flat.toArray().reduce((s, v) => s + v, 0) / 6, 12);
  });

  it('is stable for large logits', () => {
    const loss = crossEntropy(tensor([[1001, 1002, 1003], [1e4, 0, -1e4]]), i32([2, 2]), { reduction: 'none' }).toArray();
    expect(loss[0]).toBeCloseTo(L0, 4);
    expect(loss[1]).toBe(2e4);
  });

  it('runs on the [8192, 113] training shape', () => {
    const x = randn([8192, 113], { generator: new Generator(7) }).requiresGrad_();
    const t = randint(0, 113, [8192], { generator: new Generator(8) });
    const loss = crossEntropy(x, t);
    // random logits ~N(0,1): the loss is about log 113 + ½ = 5.2
    expect(loss.item()).toBeGreaterThan(4.5);
    expect(loss.item()).toBeLessThan(6);
    loss.backward();
    // every gradient row of (softmax − onehot)/N sums to 0
    const g = x.grad!.data;
    let s = 0;
    for (let j = 0; j < 113; j++) s += g[5 * 113 + j];
    expect(Math.abs(s)).toBeLessThan(1e-9);
  });

  it('errors name the op, the offending target, its row and the range', () => {
    expect(() => crossEntropy(logits(), i32([2, 3]))).toThrow(/crossEntropy: target 3 at row 1 is out of range \[0, 3\) for input \[2, 3\] \(ignoreIndex is -100\)/);
    expect(() => crossEntropy(logits(), i32([-1, 0]))).toThrow(/crossEntropy: target -1 at row 0 is out of range \[0, 3\)/);
    expect(() => crossEntropy(logits(), tensor([2, 0]))).toThrow(/crossEntropy: targets must be int32, got float32\[2\]/);
    expect(() => crossEntropy(logits(), i32([2, 0, 1]))).toThrow(/crossEntropy: targets \[3\] must have shape \[2\] \(input \[2, 3\] without its class axis\)/);
    expect(() => crossEntropy(logits(), i32([2, 0]), { reduction: 'avg' as never })).toThrow(/crossEntropy: unknown reduction 'avg'/);
    expect(() => crossEntropy(fromArray([], [2, 0]), i32([0, 0]))).toThrow(/crossEntropy: input \[2, 0\] has no classes/);
  });
});

describe('nllLoss', () => {
  it('nllLoss(logSoftmax(x)) equals crossEntropy(x), values and gradients', () => {
    const a = logits(), b = logits();
    const t = i32([1, -100]);
    const ce = crossEntropy(a, t), nll = nllLoss(logSoftmax(b), t);
    expect(nll.item()).toBeCloseTo(ce.item(), 13);
    ce.backward(); nll.backward();
    close(b.grad!.toArray(), a.grad!.toArray(), 13);
  });

  it('picks −logp[t] per row', () => {
    const lp = fromArray([-1, -2, -3, -4], [2, 2], f64).requiresGrad_();
    const none = nllLoss(lp, i32([1, 0]), { reduction: 'none' });
    expect(none.toArray()).toEqual([2, 3]);
    nllLoss(lp, i32([1, 0]), { reduction: 'sum' }).backward();
    expect(lp.grad!.toArray()).toEqual([0, -1, -1, 0]);
  });

  it('names itself in errors', () => {
    expect(() => nllLoss(tensor([[0, 0]]), i32([2]))).toThrow(/nllLoss: target 2 at row 0 is out of range \[0, 2\)/);
  });
});
