/** Gradcheck cases: fused scaled dot-product attention (full, causal, Lq ≠ Lk, dropout with a fixed seed). */
import type { GradcheckCase } from '../case.js';
import { randLeaf } from '../case.js';
import * as F from '../../ops/index.js';

export const cases: GradcheckCase[] = [
  { op: 'scaledDotProductAttention', shapes: 'q,k,v [2,2,5,4]', build: (g) => ({
    fn: (q, k, v) => F.scaledDotProductAttention(q, k, v), inputs: [randLeaf(g, [2, 2, 5, 4]), randLeaf(g, [2, 2, 5, 4]), randLeaf(g, [2, 2, 5, 4])] }) },
  { op: 'scaledDotProductAttention', shapes: 'causal [2,3,6,4]', build: (g) => ({
    fn: (q, k, v) => F.scaledDotProductAttention(q, k, v, { causal: true }), inputs: [randLeaf(g, [2, 3, 6, 4]), randLeaf(g, [2, 3, 6, 4]), randLeaf(g, [2, 3, 6, 4])] }) },
  { op: 'scaledDotProductAttention', shapes: 'causal Lq 4 ≠ Lk 7, scale 0.7 [3,4,5]', build: (g) => ({
    fn: (q, k, v) => F.scaledDotProductAttention(q, k, v, { causal: true, scale: 0.7 }), inputs: [randLeaf(g, [3, 4, 5]), randLeaf(g, [3, 7, 5]), randLeaf(g, [3, 7, 5])] }) },
  { op: 'scaledDotProductAttention', shapes: 'dropout 0.3 seed 77 [1,2,6,3]', build: (g) => ({
    fn: (q, k, v) => F.scaledDotProductAttention(q, k, v, { dropoutP: 0.3, seed: 77 }), inputs: [randLeaf(g, [1, 2, 6, 3]), randLeaf(g, [1, 2, 6, 3]), randLeaf(g, [1, 2, 6, 3])] }) },
  { op: 'scaledDotProductAttention', shapes: 'paper [2,4,32,20] causal (sampled)', slow: true, build: (g) => ({
    fn: (q, k, v) => F.scaledDotProductAttention(q, k, v, { causal: true }), inputs: [randLeaf(g, [2, 4, 32, 20]), randLeaf(g, [2, 4, 32, 20]), randLeaf(g, [2, 4, 32, 20])],
    opts: { maxElements: 200 } }) },
];
