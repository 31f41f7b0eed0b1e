/**
 * Inverted dropout: during training each element is zeroed with probability p and the survivors
 * are scaled by 1/(1 − p), so evaluation needs no rescaling. The mask is hashUniform(seed, i)
 * ≥ p for one seed drawn per call, so it is reproducible, identical on every device, and the
 * backward re-derives it from the seed instead of keeping a mask tensor.
 */
import type { Tensor } from '../tensor.js';
import { empty } from '../creation.js';
import { runKernel } from '../dispatch/dispatch.js';
import { record1 } from '../autograd/node.js';
import { defaultGenerator, type Generator } from '../util/rng.js';
import { shapeStr } from '../util/shape.js';
import { assertFloat } from './util.js';

export interface DropoutOptions {
  /** false: the identity (evaluation). Default true. */
  training?: boolean;
  /** Where the per-call mask seed comes from (default: the process-wide defaultGenerator). */
  generator?: Generator;
  /** A fixed mask seed (uint32), instead of drawing one: the same seed gives the same mask. */
  seed?: number;
}

/**
 * Zeroes each element with probability p and scales the rest by 1/(1 − p). p = 0 or
 * training = false: the identity (a view, no seed drawn); p = 1: all zeros.
 */
export function dropout(x: Tensor, p: number, opts: DropoutOptions = {}): Tensor {
  assertFloat('dropout', x);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: p must be in [0, 1], got ${p} (input ${shapeStr(x.shape)})`);
  if (p === 0 || opts.training === false) return record1('dropout', [x], x.view(), [], (g) => [g]);
  const seed = (opts.seed ?? (opts.generator ?? defaultGenerator).nextUint32()) | 0;
  const out = empty(x.shape, x.dtype, x.device);
  runKernel('dropout', [out], [x], [seed], [p]);
  return record1('dropout', [x], out, [], (g) => {
    const dx = empty(g.shape, g.dtype, g.device);
    runKernel('dropout', [dx], [g], [seed], [p]);     // the same mask and scale
    return [dx];
  });
}
