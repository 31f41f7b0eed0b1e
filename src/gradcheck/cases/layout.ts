/** Gradcheck cases: layout ops (permute, transpose, slice, flip, concat, stack). */
import type { GradcheckCase } from '../case.js';
import { randLeaf } from '../case.js';
import * as F from '../../ops/index.js';

export const cases: GradcheckCase[] = [
  { op: 'permute', shapes: '[2,3,4] dims [2,0,1]', build: (g) => ({ fn: (x) => F.permute(x, [2, 0, 1]), inputs: [randLeaf(g, [2, 3, 4])] }) },
  { op: 'permute', shapes: '[2,1,3,2] dims [3,1,-4,2]', build: (g) => ({ fn: (x) => F.permute(x, [3, 1, -4, 2]), inputs: [randLeaf(g, [2, 1, 3, 2])] }) },
  { op: 'transpose', shapes: '[3,4,5] axes 0,-1', build: (g) => ({ fn: (x) => F.transpose(x, 0, -1), inputs: [randLeaf(g, [3, 4, 5])] }) },
  { op: 'slice', shapes: '[3,7] axis 1 [-6:6:2]', build: (g) => ({ fn: (x) => F.slice(x, 1, -6, 6, 2), inputs: [randLeaf(g, [3, 7])] }) },
  { op: 'slice', shapes: '[4,3,5] ranges [[1,3], null, [0,5,3]]', build: (g) => ({ fn: (x) => F.slice(x, [[1, 3], null, [0, 5, 3]]), inputs: [randLeaf(g, [4, 3, 5])] }) },
  { op: 'flip', shapes: '[2,3,4] axes [0,2]', build: (g) => ({ fn: (x) => F.flip(x, [0, 2]), inputs: [randLeaf(g, [2, 3, 4])] }) },
  { op: 'concat', shapes: '[2,1,3] ++ [2,4,3] ++ [2,2,3] axis 1', build: (g) => ({ fn: (a, b, c) => F.concat([a, b, c], 1), inputs: [randLeaf(g, [2, 1, 3]), randLeaf(g, [2, 4, 3]), randLeaf(g, [2, 2, 3])] }) },
  { op: 'concat', shapes: 'fan-out [x, x] axis -1', build: (g) => ({ fn: (x) => F.concat([x, x], -1), inputs: [randLeaf(g, [3, 2])] }) },
  { op: 'stack', shapes: '3 x [2,3] axis 1', build: (g) => ({ fn: (a, b, c) => F.stack([a, b, c], 1), inputs: [randLeaf(g, [2, 3]), randLeaf(g, [2, 3]), randLeaf(g, [2, 3])] }) },
  { op: 'stack', shapes: '2 x [2,3] axis -1', build: (g) => ({ fn: (a, b) => F.stack([a, b], -1), inputs: [randLeaf(g, [2, 3]), randLeaf(g, [2, 3])] }) },
];
