/** Gradcheck cases: matmul (2-D, batched, broadcast operands, 1-D) and linear (transposed weight, bias). */
import type { GradcheckCase } from '../case.js';
import { randLeaf } from '../case.js';
import * as F from '../../ops/index.js';

export const cases: GradcheckCase[] = [
  { op: 'matmul', shapes: '[3,4]·[4,5]', build: (g) => ({ fn: F.matmul, inputs: [randLeaf(g, [3, 4]), randLeaf(g, [4, 5])] }) },
  { op: 'matmul', shapes: 'batched [2,3,4]·[2,4,5]', build: (g) => ({ fn: F.matmul, inputs: [randLeaf(g, [2, 3, 4]), randLeaf(g, [2, 4, 5])] }) },
  { op: 'matmul', shapes: 'broadcast b [2,3,5,4]·[4,6]', build: (g) => ({ fn: F.matmul, inputs: [randLeaf(g, [2, 3, 5, 4]), randLeaf(g, [4, 6])] }) },
  { op: 'matmul', shapes: 'broadcast a [3,4]·[2,4,5]', build: (g) => ({ fn: F.matmul, inputs: [randLeaf(g, [3, 4]), randLeaf(g, [2, 4, 5])] }) },
  { op: 'matmul', shapes: '1-D [4]·[4,3] and [3,4]·[4]', build: (g) => ({
    fn: (v, m, w) => F.add(F.matmul(v, m), F.matmul(F.reshape(m, [3, 4]), w)), inputs: [randLeaf(g, [4]), randLeaf(g, [4, 3]), randLeaf(g, [4])] }) },
  { op: 'matmul', shapes: 'fast path [2,9,37]·[37,13]', build: (g) => ({ fn: F.matmul, inputs: [randLeaf(g, [2, 9, 37]), randLeaf(g, [37, 13])] }) },
  { op: 'linear', shapes: 'x[2,3,4]·W[5,4]ᵀ', build: (g) => ({ fn: (x, w) => F.linear(x, w), inputs: [randLeaf(g, [2, 3, 4]), randLeaf(g, [5, 4])] }) },
  { op: 'linear', shapes: 'x[2,3,4]·W[5,4]ᵀ + b[5]', build: (g) => ({ fn: (x, w, b) => F.linear(x, w, b), inputs: [randLeaf(g, [2, 3, 4]), randLeaf(g, [5, 4]), randLeaf(g, [5])] }) },
  { op: 'linear', shapes: 'x[4]·W[3,4]ᵀ + b[3]', build: (g) => ({ fn: (x, w, b) => F.linear(x, w, b), inputs: [randLeaf(g, [4]), randLeaf(g, [3, 4]), randLeaf(g, [3])] }) },
];
