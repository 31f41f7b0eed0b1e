/** Gradcheck cases: embedding (repeated ids, multi-dimensional ids, the PxByEmbed lookup). */
import type { GradcheckCase } from '../case.js';
import { randLeaf, randIndices } from '../case.js';
import { fromArray } from '../../creation.js';
import * as F from '../../ops/index.js';

export const cases: GradcheckCase[] = [
  { op: 'embedding', shapes: 'W[5,3] ids[7] (repeats, 0 and V-1)', build: (g) => ({
    fn: (w, ids) => F.embedding(w, ids), inputs: [randLeaf(g, [5, 3]), fromArray([0, 4, 2, 4, 4, 1, 0], [7], { dtype: 'int32' })] }) },
  { op: 'embedding', shapes: 'PxByEmbed W[113,9] ids[2,4,3,3]', build: (g) => ({
    fn: (w, ids) => F.embedding(w, ids), inputs: [randLeaf(g, [113, 9]), randIndices(g, [2, 4, 3, 3], 113)] }) },
];
