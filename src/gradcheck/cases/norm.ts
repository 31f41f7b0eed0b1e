/** Gradcheck cases: layerNorm and rmsNorm, with and without affine parameters, and at the model widths. */
import type { GradcheckCase } from '../case.js';
import { randLeaf } from '../case.js';
import * as F from '../../ops/index.js';

export const cases: GradcheckCase[] = [
  { op: 'layerNorm', shapes: 'x[2,3,5] w[5] b[5]', build: (g) => ({
    fn: (x, w, b) => F.layerNorm(x, w, b), inputs: [randLeaf(g, [2, 3, 5]), randLeaf(g, [5], 0.5, 1.5), randLeaf(g, [5])] }) },
  { op: 'layerNorm', shapes: 'x[4,6] no affine, eps 1e-3', build: (g) => ({
    fn: (x) => F.layerNorm(x, null, null, 1e-3), inputs: [randLeaf(g, [4, 6])] }) },
  { op: 'layerNorm', shapes: 'x[3,7] weight only', build: (g) => ({
    fn: (x, w) => F.layerNorm(x, w), inputs: [randLeaf(g, [3, 7]), randLeaf(g, [7], 0.5, 1.5)] }) },
  { op: 'layerNorm', shapes: 'x[3,4] bias only, large mean', build: (g) => ({
    fn: (x, b) => F.layerNorm(x, null, b), inputs: [randLeaf(g, [3, 4], 99, 101), randLeaf(g, [4])] }) },
  { op: 'layerNorm', shapes: 'PxByEmbed out x[2,16,81] w[81] b[81]', build: (g) => ({
    fn: (x, w, b) => F.layerNorm(x, w, b), inputs: [randLeaf(g, [2, 16, 81]), randLeaf(g, [81], 0.5, 1.5), randLeaf(g, [81])],
    opts: { maxElements: 600 } }) },
  { op: 'rmsNorm', shapes: 'x[2,3,5] w[5]', build: (g) => ({
    fn: (x, w) => F.rmsNorm(x, w), inputs: [randLeaf(g, [2, 3, 5]), randLeaf(g, [5], 0.5, 1.5)] }) },
  { op: 'rmsNorm', shapes: 'x[4,6] no weight', build: (g) => ({
    fn: (x) => F.rmsNorm(x), inputs: [randLeaf(g, [4, 6])] }) },
  { op: 'rmsNorm', shapes: 'x[2,8,81] w[81]', build: (g) => ({
    fn: (x, w) => F.rmsNorm(x, w), inputs: [randLeaf(g, [2, 8, 81]), randLeaf(g, [81], 0.5, 1.5)] }) },
];
