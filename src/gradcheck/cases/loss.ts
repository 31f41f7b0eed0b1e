/** Gradcheck cases: crossEntropy and nllLoss, every reduction, with an ignored target. */
import type { GradcheckCase } from '../case.js';
import { randLeaf } from '../case.js';
import { fromArray } from '../../creation.js';
import * as F from '../../ops/index.js';

const targets = () => fromArray([2, 0, -100, 4, 1], [5], { dtype: 'int32' });

export const cases: GradcheckCase[] = [
  { op: 'crossEntropy', shapes: '[5,6] mean, one ignored', build: (g) => {
    const t = targets();
    return { fn: (x) => F.crossEntropy(x, t), inputs: [randLeaf(g, [5, 6], -3, 3)] };
  } },
  { op: 'crossEntropy', shapes: '[5,6] sum', build: (g) => {
    const t = targets();
    return { fn: (x) => F.crossEntropy(x, t, { reduction: 'sum' }), inputs: [randLeaf(g, [5, 6], -3, 3)] };
  } },
  { op: 'crossEntropy', shapes: '[5,6] none', build: (g) => {
    const t = targets();
    return { fn: (x) => F.crossEntropy(x, t, { reduction: 'none' }), inputs: [randLeaf(g, [5, 6], -3, 3)] };
  } },
  { op: 'crossEntropy', shapes: '[2,3,4] (leading dims) ignoreIndex 0', build: (g) => {
    const t = fromArray([1, 0, 3, 2, 0, 1], [2, 3], { dtype: 'int32' });
    return { fn: (x) => F.crossEntropy(x, t, { ignoreIndex: 0 }), inputs: [randLeaf(g, [2, 3, 4], -3, 3)] };
  } },
  { op: 'nllLoss', shapes: 'logSoftmax [5,6] mean, one ignored', build: (g) => {
    const t = targets();
    return { fn: (x) => F.nllLoss(F.logSoftmax(x), t), inputs: [randLeaf(g, [5, 6], -3, 3)] };
  } },
  { op: 'nllLoss', shapes: '[5,6] none', build: (g) => {
    const t = targets();
    return { fn: (x) => F.nllLoss(x, t, { reduction: 'none' }), inputs: [randLeaf(g, [5, 6])] };
  } },
];
