/**
 * Classification losses with PyTorch semantics: crossEntropy (fused log-softmax + NLL) and
 * nllLoss (on log-probabilities). Logits [..., C] are read as [N, C] with N = the product of the
 * leading dimensions; targets are int32 with the leading shape. A target equal to ignoreIndex
 * (default -100) contributes neither loss nor gradient, and 'mean' divides by the number of
 * targets that are not ignored. Like torch, a 'mean' over only ignored targets is 0/0 = NaN
 * (the gradient is then zero: every row is ignored).
 */
import type { Tensor } from '../tensor.js';
import { empty } from '../creation.js';
import { runKernel } from '../dispatch/dispatch.js';
import { record1 } from '../autograd/node.js';
import { sameShape, shapeStr } from '../util/shape.js';
import { assertFloat, assertSameDevice, hostValues } from './util.js';

export type Reduction = 'mean' | 'sum' | 'none';
export interface LossOptions {
  /** Targets with this value are skipped (default -100, as torch). */
  ignoreIndex?: number;
  /** 'mean' (default) over the non-ignored targets, 'sum', or 'none' (one loss per row, the targets' shape). */
  reduction?: Reduction;
}

interface Prepared { N: number; C: number; count: number; ignoreIndex: number; reduction: Reduction; rowShape: number[] }

/** Checks shapes, dtypes and every target value (on the host); counts the targets not ignored. */
function prepare(op: string, x: Tensor, targets: Tensor, opts: LossOptions): Prepared {
  assertFloat(op, x);
  assertSameDevice(op, x, targets);
  const ignoreIndex = opts.ignoreIndex ?? -100, reduction = opts.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') throw new RangeError(`${op}: unknown reduction '${reduction}' (expected 'mean', 'sum' or 'none')`);
  if (!Number.isInteger(ignoreIndex)) throw new RangeError(`${op}: ignoreIndex ${ignoreIndex} must be an integer`);
  if (x.ndim < 1) throw new RangeError(`${op}: input must be [..., C] with a class axis, got a scalar`);
  const C = x.shape[x.ndim - 1];
  if (C === 0) throw new RangeError(`${op}: input ${shapeStr(x.shape)} has no classes`);
  const rowShape = x.shape.slice(0, -1);
  if (targets.dtype !== 'int32') throw new TypeError(`${op}: targets must be int32, got ${targets.dtype}${shapeStr(targets.shape)}`);
  if (!sameShape(targets.shape, rowShape)) {
    throw new RangeError(`${op}: targets ${shapeStr(targets.shape)} must have shape ${shapeStr(rowShape)} (input ${shapeStr(x.shape)} without its class axis)`);
  }
  const t = hostValues(targets);
  let count = 0;
  for (let r = 0; r < t.length; r++) {
    if (t[r] === ignoreIndex) continue;
    if (t[r] < 0 || t[r] >= C) throw new RangeError(`${op}: target ${t[r]} at row ${r} is out of range [0, ${C}) for input ${shapeStr(x.shape)} (ignoreIndex is ${ignoreIndex})`);
    count++;
  }
  return { N: targets.size, C, count, ignoreIndex, reduction, rowShape };
}

/** Per-row losses → the reduced result (a new tensor; perRow is consumed). */
function reduceRows(perRow: Tensor, p: Prepared): Tensor {
  if (p.reduction === 'none') return perRow;
  const total = empty([], perRow.dtype, perRow.device);
  runKernel('sum_axis', [total], [perRow], [1, p.N, 1]);
  perRow.dispose();
  if (p.reduction === 'sum') return total;
  const mean = empty([], total.dtype, total.device);
  runKernel('affine', [mean], [total], [], [1 / p.count, 0]);   // count 0: 0·∞ = NaN, as torch
  total.dispose();
  return mean;
}

/** The backward kernels' gradient layout: per row (gStride 1) or one scalar (gStride 0) times scale. */
function gradScale(p: Prepared): { gStride: number; scale: number } {
  return { gStride: p.reduction === 'none' ? 1 : 0, scale: p.reduction === 'mean' ? 1 / p.count : 1 };
}

/**
 * Cross entropy of logits [..., C] against int32 class targets [...] (torch.nn.functional.cross_entropy
 * with the classes last): loss_r = logsumexp(x_r) − x_r[t_r]. One fused kernel forward, one backward
 * (softmax − onehot, scaled; zero on ignored rows).
 */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: LossOptions = {}): Tensor {
  const p = prepare('crossEntropy', logits, targets, opts);
  const perRow = empty(p.rowShape, logits.dtype, logits.device);
  const lse = empty([p.N], logits.dtype, logits.device);
  runKernel('cross_entropy', [perRow, lse], [logits, targets], [p.N, p.C, p.ignoreIndex]);
  const out = reduceRows(perRow, p);
  const { gStride, scale } = gradScale(p);
  record1('crossEntropy', [logits], out, [logits, targets, lse], (g, [x_, t_, lse_]) => {
    const dx = empty(logits.shape, g.dtype, g.device);
    runKernel('cross_entropy_backward', [dx], [x_, t_, lse_, g], [p.N, p.C, p.ignoreIndex, gStride], [scale]);
    return [dx];
  });
  lse.dispose();
  return out;
}

/**
 * Negative log-likelihood of log-probabilities [..., C] (e.g. logSoftmax output) against int32
 * targets [...] (torch.nn.functional.nll_loss with the classes last): loss_r = −logp_r[t_r].
 */
export function nllLoss(logProbs: Tensor, targets: Tensor, opts: LossOptions = {}): Tensor {
  const p = prepare('nllLoss', logProbs, targets, opts);
  const perRow = empty(p.rowShape, logProbs.dtype, logProbs.device);
  runKernel('nll_loss', [perRow], [logProbs, targets], [p.N, p.C, p.ignoreIndex]);
  const out = reduceRows(perRow, p);
  const { gStride, scale } = gradScale(p);
  return record1('nllLoss', [logProbs], out, [targets], (g, [t_]) => {
    const dx = empty(logProbs.shape, g.dtype, g.device);
    runKernel('nll_loss_backward', [dx], [t_, g], [p.N, p.C, p.ignoreIndex, gStride], [scale]);
    return [dx];
  });
}
