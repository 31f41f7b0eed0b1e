/** Gradcheck cases: elementwise ops (with broadcasting) and reductions. */
import type { GradcheckCase } from '../case.js';
import { randLeaf, randLeafAwayFromZero } from '../case.js';
import * as F from '../../ops/index.js';

const unaryCases: [string, (x: import('../../tensor.js').Tensor) => import('../../tensor.js').Tensor, 'any' | 'positive' | 'awayFromZero'][] = [
  ['neg', F.neg, 'any'], ['exp', F.exp, 'any'], ['log', F.log, 'positive'], ['sqrt', F.sqrt, 'positive'],
  ['abs', F.abs, 'awayFromZero'], ['tanh', F.tanh, 'any'], ['sigmoid', F.sigmoid, 'any'], ['relu', F.relu, 'awayFromZero'],
  ['gelu', F.gelu, 'any'], ['silu', F.silu, 'any'], ['softplus', F.softplus, 'any'],
];

export const cases: GradcheckCase[] = [
  { op: 'add', shapes: '[2,3,4] + [2,3,4]', build: (g) => ({ fn: F.add, inputs: [randLeaf(g, [2, 3, 4]), randLeaf(g, [2, 3, 4])] }) },
  { op: 'add', shapes: 'broadcast [2,3,4] + [3,1]', build: (g) => ({ fn: F.add, inputs: [randLeaf(g, [2, 3, 4]), randLeaf(g, [3, 1])] }) },
  { op: 'add', shapes: 'scalar [3,4] + 2.5', build: (g) => ({ fn: (x) => F.add(x, 2.5), inputs: [randLeaf(g, [3, 4])] }) },
  { op: 'sub', shapes: 'broadcast [4] - [3,4]', build: (g) => ({ fn: F.sub, inputs: [randLeaf(g, [4]), randLeaf(g, [3, 4])] }) },
  { op: 'mul', shapes: 'broadcast [2,1,4] * [3,1]', build: (g) => ({ fn: F.mul, inputs: [randLeaf(g, [2, 1, 4]), randLeaf(g, [3, 1])] }) },
  { op: 'mul', shapes: 'fan-out x * x', build: (g) => ({ fn: (x) => F.mul(x, x), inputs: [randLeaf(g, [5])] }) },
  { op: 'div', shapes: 'broadcast [2,3] / [3]', build: (g) => ({ fn: F.div, inputs: [randLeaf(g, [2, 3]), randLeafAwayFromZero(g, [3], 0.5)] }) },
  { op: 'pow', shapes: '[3,4] ^ 3', build: (g) => ({ fn: (x) => F.pow(x, 3), inputs: [randLeaf(g, [3, 4])] }) },
  { op: 'pow', shapes: '[3,4] ^ [4] (tensor exponent)', build: (g) => ({ fn: F.pow, inputs: [randLeaf(g, [3, 4], 0.5, 2), randLeaf(g, [4])] }) },
  { op: 'maximum', shapes: '[3,4] max [4]', build: (g) => ({ fn: F.maximum, inputs: [randLeaf(g, [3, 4]), randLeaf(g, [4])] }) },
  ...unaryCases.map(([op, f, domain]): GradcheckCase => ({
    op, shapes: '[3,5]',
    build: (g) => ({
      fn: f,
      inputs: [domain === 'positive' ? randLeaf(g, [3, 5], 0.2, 2) : domain === 'awayFromZero' ? randLeafAwayFromZero(g, [3, 5]) : randLeaf(g, [3, 5], -3, 3)],
    }),
  })),
  { op: 'softplus', shapes: '[6] across the threshold 20', build: (g) => ({ fn: F.softplus, inputs: [randLeaf(g, [6], 15, 25)] }) },
  { op: 'sum', shapes: '[2,3,4] all', build: (g) => ({ fn: (x) => F.sum(x), inputs: [randLeaf(g, [2, 3, 4])] }) },
  { op: 'sum', shapes: '[2,3,4] axes [0,2] keepdim', build: (g) => ({ fn: (x) => F.sum(x, [0, 2], true), inputs: [randLeaf(g, [2, 3, 4])] }) },
  { op: 'mean', shapes: '[2,3,4] axis -1', build: (g) => ({ fn: (x) => F.mean(x, -1), inputs: [randLeaf(g, [2, 3, 4])] }) },
  { op: 'max', shapes: '[3,5] axis 1', build: (g) => ({ fn: (x) => F.max(x, 1).values, inputs: [randLeaf(g, [3, 5])] }) },
  { op: 'max', shapes: '[4,3,2] axis 0 keepdim', build: (g) => ({ fn: (x) => F.max(x, 0, true).values, inputs: [randLeaf(g, [4, 3, 2])] }) },
  { op: 'broadcastTo', shapes: '[3,1] -> [2,3,4]', build: (g) => ({ fn: (x) => F.broadcastTo(x, [2, 3, 4]), inputs: [randLeaf(g, [3, 1])] }) },
  { op: 'reshape', shapes: '[2,6] -> [3,-1]', build: (g) => ({ fn: (x) => F.mul(F.reshape(x, [3, -1]), F.reshape(x, [3, 4])), inputs: [randLeaf(g, [2, 6])] }) },
];
