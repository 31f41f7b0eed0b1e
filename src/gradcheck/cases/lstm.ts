/** Gradcheck cases: the fused LSTM cell and the fused LSTM sequence (forward and reverse). */
import type { GradcheckCase } from '../case.js';
import { randLeaf } from '../case.js';
import * as F from '../../ops/index.js';
import type { Tensor } from '../../tensor.js';

const seq = (reverse: boolean) => (x: Tensor, w: Tensor, h0: Tensor, c0: Tensor) => {
  const r = F.lstmSequence(x, w, h0, c0, { reverse });
  return [r.out, r.hT, r.cT];
};

export const cases: GradcheckCase[] = [
  { op: 'lstmCell', shapes: 'gates [3,8] c [3,2]', build: (g) => ({
    fn: (gates, c) => { const r = F.lstmCell(gates, c); return [r.h, r.c]; }, inputs: [randLeaf(g, [3, 8], -2, 2), randLeaf(g, [3, 2])] }) },
  { op: 'lstmSequence', shapes: 'xProj [2,4,12] W [12,3] h0 c0', build: (g) => ({
    fn: seq(false), inputs: [randLeaf(g, [2, 4, 12]), randLeaf(g, [12, 3]), randLeaf(g, [2, 3]), randLeaf(g, [2, 3])] }) },
  { op: 'lstmSequence', shapes: 'reverse xProj [5,3,20] W [20,5] h0 c0', build: (g) => ({
    fn: seq(true), inputs: [randLeaf(g, [5, 3, 20]), randLeaf(g, [20, 5]), randLeaf(g, [5, 5]), randLeaf(g, [5, 5])] }) },
  { op: 'lstmSequence', shapes: 'no h0/c0, out only [3,6,8] W [8,2]', build: (g) => ({
    fn: (x, w) => F.lstmSequence(x, w).out, inputs: [randLeaf(g, [3, 6, 8]), randLeaf(g, [8, 2])] }) },
  { op: 'lstmSequence', shapes: 'paper H 32, T 48 [3,48,128] W [128,32] (sampled)', slow: true, build: (g) => ({
    fn: seq(false), inputs: [randLeaf(g, [3, 48, 128]), randLeaf(g, [128, 32], -0.2, 0.2), randLeaf(g, [3, 32]), randLeaf(g, [3, 32])],
    opts: { maxElements: 60 } }) },
];
