/** Gradcheck cases: indexSelect, gather (repeated indices exercise the scatter-add), where, maskedFill. */
import type { GradcheckCase } from '../case.js';
import { randIndices, randLeaf } from '../case.js';
import { fromArray } from '../../creation.js';
import * as F from '../../ops/index.js';

export const cases: GradcheckCase[] = [
  { op: 'indexSelect', shapes: '[3,5,2] axis 1 idx [4,0,4,2,4,1]', build: (g) => {
    const idx = fromArray([4, 0, 4, 2, 4, 1], [6], { dtype: 'int32' });
    return { fn: (x) => F.indexSelect(x, 1, idx), inputs: [randLeaf(g, [3, 5, 2])] };
  } },
  { op: 'indexSelect', shapes: 'embedding [7,4] axis 0 idx [10]', build: (g) => {
    const idx = randIndices(g, [10], 7);
    return { fn: (x) => F.indexSelect(x, 0, idx), inputs: [randLeaf(g, [7, 4])] };
  } },
  { op: 'gather', shapes: '[3,5] axis 1 index [3,4]', build: (g) => {
    const idx = randIndices(g, [3, 4], 5);
    return { fn: (x) => F.gather(x, 1, idx), inputs: [randLeaf(g, [3, 5])] };
  } },
  { op: 'gather', shapes: '[4,3,2] axis 0 index [6,2,2]', build: (g) => {
    const idx = randIndices(g, [6, 2, 2], 4);
    return { fn: (x) => F.gather(x, 0, idx), inputs: [randLeaf(g, [4, 3, 2])] };
  } },
  { op: 'where', shapes: 'cond [3,1] a [3,4] b [4]', build: (g) => {
    const cond = fromArray([1, 0, 1], [3, 1], { dtype: 'int32' });
    return { fn: (a, b) => F.where(cond, a, b), inputs: [randLeaf(g, [3, 4]), randLeaf(g, [4])] };
  } },
  { op: 'where', shapes: 'float cond [2,3] a [2,3] b 0.5', build: (g) => {
    const cond = fromArray([0, 1, 1, 0, 0, 1], [2, 3], { dtype: 'float64' });
    return { fn: (a) => F.where(cond, a, 0.5), inputs: [randLeaf(g, [2, 3])] };
  } },
  { op: 'maskedFill', shapes: '[3,4] mask [1,4] value -5', build: (g) => {
    const mask = fromArray([0, 1, 0, 1], [1, 4], { dtype: 'int32' });
    return { fn: (x) => F.maskedFill(x, mask, -5), inputs: [randLeaf(g, [3, 4])] };
  } },
];
