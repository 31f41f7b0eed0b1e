/** Gradcheck cases: softmax and logSoftmax, along the last axis and along another one (permute path). */
import type { GradcheckCase } from '../case.js';
import { randLeaf } from '../case.js';
import * as F from '../../ops/index.js';

export const cases: GradcheckCase[] = [
  { op: 'softmax', shapes: '[3,5] axis -1', build: (g) => ({ fn: (x) => F.softmax(x), inputs: [randLeaf(g, [3, 5], -3, 3)] }) },
  { op: 'softmax', shapes: '[4,3,2] axis 0', build: (g) => ({ fn: (x) => F.softmax(x, 0), inputs: [randLeaf(g, [4, 3, 2], -3, 3)] }) },
  { op: 'softmax', shapes: '[6] shifted by 500', build: (g) => ({ fn: (x) => F.softmax(x), inputs: [randLeaf(g, [6], 498, 502)] }) },
  { op: 'logSoftmax', shapes: '[3,5] axis -1', build: (g) => ({ fn: (x) => F.logSoftmax(x), inputs: [randLeaf(g, [3, 5], -3, 3)] }) },
  { op: 'logSoftmax', shapes: '[2,4,3] axis 1', build: (g) => ({ fn: (x) => F.logSoftmax(x, 1), inputs: [randLeaf(g, [2, 4, 3], -3, 3)] }) },
];
