/** Gradcheck cases: conv2d (padding, stride, rectangular kernels, the PxByEmbed shape) and Mamba's causal conv1d. */
import type { GradcheckCase } from '../case.js';
import { randLeaf } from '../case.js';
import * as F from '../../ops/index.js';

export const cases: GradcheckCase[] = [
  { op: 'conv2d', shapes: 'x[2,3,5,4] w[4,3,3,3] +b pad 1', build: (g) => ({
    fn: (x, w, b) => F.conv2d(x, w, b, { padding: 1 }), inputs: [randLeaf(g, [2, 3, 5, 4]), randLeaf(g, [4, 3, 3, 3]), randLeaf(g, [4])] }) },
  { op: 'conv2d', shapes: 'x[2,2,7,6] w[5,2,3,2] stride [2,1] pad [0,1]', build: (g) => ({
    fn: (x, w) => F.conv2d(x, w, null, { stride: [2, 1], padding: [0, 1] }), inputs: [randLeaf(g, [2, 2, 7, 6]), randLeaf(g, [5, 2, 3, 2])] }) },
  { op: 'conv2d', shapes: 'x[1,2,4,4] w[3,2,1,1] stride 3 pad 2 (skipped inputs)', build: (g) => ({
    fn: (x, w, b) => F.conv2d(x, w, b, { stride: 3, padding: 2 }), inputs: [randLeaf(g, [1, 2, 4, 4]), randLeaf(g, [3, 2, 1, 1]), randLeaf(g, [3])] }) },
  { op: 'conv2d', shapes: 'PxByEmbed x[5,9,3,3] w[9,9,3,3] +b pad 1', build: (g) => ({
    fn: (x, w, b) => F.conv2d(x, w, b, { padding: 1 }), inputs: [randLeaf(g, [5, 9, 3, 3]), randLeaf(g, [9, 9, 3, 3]), randLeaf(g, [9])] }) },
  { op: 'conv2d', shapes: 'PxByEmbed x[6,64,3,3] w[64,64,3,3] +b pad 1 (400 el.)', slow: true, build: (g) => ({
    fn: (x, w, b) => F.conv2d(x, w, b, { padding: 1 }), inputs: [randLeaf(g, [6, 64, 3, 3]), randLeaf(g, [64, 64, 3, 3]), randLeaf(g, [64])],
    opts: { maxElements: 400 } }) },
  { op: 'conv1dDepthwiseCausal', shapes: 'x[2,3,6] w[3,1,4] +b', build: (g) => ({
    fn: (x, w, b) => F.conv1dDepthwiseCausal(x, w, b), inputs: [randLeaf(g, [2, 3, 6]), randLeaf(g, [3, 1, 4]), randLeaf(g, [3])] }) },
  { op: 'conv1dDepthwiseCausal', shapes: 'x[1,2,3] w[2,1,4] (L < K), no bias', build: (g) => ({
    fn: (x, w) => F.conv1dDepthwiseCausal(x, w), inputs: [randLeaf(g, [1, 2, 3]), randLeaf(g, [2, 1, 4])] }) },
  { op: 'conv1dDepthwiseCausal', shapes: 'Mamba x[2,162,256] w[162,1,4] +b (400 el.)', slow: true, build: (g) => ({
    fn: (x, w, b) => F.conv1dDepthwiseCausal(x, w, b), inputs: [randLeaf(g, [2, 162, 256]), randLeaf(g, [162, 1, 4]), randLeaf(g, [162])],
    opts: { maxElements: 400 } }) },
];
