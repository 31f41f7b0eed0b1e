/**
 * Gradcheck cases: dropout. The mask is a function of the seed alone, so with a fixed seed every
 * evaluation of the function (analytic and both numeric sides) sees the same mask.
 */
import type { GradcheckCase } from '../case.js';
import { randLeaf } from '../case.js';
import * as F from '../../ops/index.js';

export const cases: GradcheckCase[] = [
  { op: 'dropout', shapes: '[4,5] p 0.3 seed 1234', build: (g) => ({ fn: (x) => F.dropout(x, 0.3, { seed: 1234 }), inputs: [randLeaf(g, [4, 5])] }) },
  { op: 'dropout', shapes: '[3,4] p 0.5 eval (identity)', build: (g) => ({ fn: (x) => F.dropout(x, 0.5, { training: false }), inputs: [randLeaf(g, [3, 4])] }) },
];
