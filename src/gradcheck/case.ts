/**
 * A gradcheck case: one differentiable op at one set of shapes, with seeded random float64
 * inputs. `pixelbytes gradcheck` and test/ops/gradcheck.test.ts run every registered case.
 */
import type { Tensor } from '../tensor.js';
import type { GradcheckOptions } from '../autograd/gradcheck.js';
import { Generator } from '../util/rng.js';
import { fromArray } from '../creation.js';
import type { Shape } from '../util/shape.js';
import { numel } from '../util/shape.js';

export interface GradcheckCase {
  /** The op's name as users call it (e.g. 'matmul', 'cross_entropy'). */
  op: string;
  /** What this case exercises, e.g. '[3,4]·[4,5]' or 'broadcast [2,3]+[3]'. */
  shapes: string;
  /** Builds inputs (float64, requiresGrad where checked) and the function under test. */
  build(gen: Generator): { fn: (...xs: Tensor[]) => Tensor | Tensor[]; inputs: Tensor[]; opts?: GradcheckOptions };
  /** Paper-size cases that take seconds: skipped by `pixelbytes gradcheck --quick`. */
  slow?: boolean;
}

/** A float64 leaf with uniform values in [lo, hi) that requires grad. */
export function randLeaf(gen: Generator, shape: Shape, lo = -1, hi = 1): Tensor {
  const xs = new Float64Array(numel(shape));
  for (let i = 0; i < xs.length; i++) xs[i] = gen.uniform(lo, hi);
  return fromArray(xs, shape, { dtype: 'float64' }).requiresGrad_();
}

/** A float64 leaf whose values stay at least `gap` away from 0 (kinks of relu/abs, poles of div/log). */
export function randLeafAwayFromZero(gen: Generator, shape: Shape, gap = 0.1, hi = 1): Tensor {
  const xs = new Float64Array(numel(shape));
  for (let i = 0; i < xs.length; i++) xs[i] = (gen.random() < 0.5 ? -1 : 1) * gen.uniform(gap, hi);
  return fromArray(xs, shape, { dtype: 'float64' }).requiresGrad_();
}

/** An int32 tensor of values in [0, n). */
export function randIndices(gen: Generator, shape: Shape, n: number): Tensor {
  const xs = new Int32Array(numel(shape));
  for (let i = 0; i < xs.length; i++) xs[i] = gen.int(n);
  return fromArray(xs, shape, { dtype: 'int32' });
}
