/**
 * Convolutions: conv2d (NCHW, PyTorch's F.conv2d with groups = 1) and Mamba's depthwise causal
 * conv1d. Kernels in backend/cpu/conv.ts; backward through dedicated kernels.
 */
import type { Tensor } from '../tensor.js';
import { empty } from '../creation.js';
import { runKernel } from '../dispatch/dispatch.js';
import { record1 } from '../autograd/node.js';
import { shapeStr } from '../util/shape.js';
import { assertFloat, assertSameDevice, assertSameDtype, assertRank } from './util.js';

export interface Conv2dOptions {
  /** Stride, one number for both dimensions or [sh, sw]. Default 1. */
  stride?: number | [number, number];
  /** Zero padding on each side, one number or [ph, pw]. Default 0. */
  padding?: number | [number, number];
}

function pair(op: string, name: string, v: number | [number, number], min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.some((d) => !Number.isInteger(d) || d < min)) throw new RangeError(`${op}: ${name} must be an integer ≥ ${min} (or a pair of them), got ${JSON.stringify(v)}`);
  return p;
}

/**
 * 2-D cross-correlation, as torch.nn.functional.conv2d(x, w, b, stride, padding):
 * x [B, C, H, W], w [OC, C, KH, KW], b [OC] → [B, OC, OH, OW],
 * OH = ⌊(H + 2·padH − KH) / strideH⌋ + 1 (OW likewise).
 */
export function conv2d(x: Tensor, w: Tensor, b?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  assertRank(op, x, 4, 'input');
  assertRank(op, w, 4, 'weight');
  const ins = b ? [x, w, b] : [x, w];
  assertFloat(op, ...ins);
  assertSameDtype(op, ...ins);
  assertSameDevice(op, ...ins);
  const [B, C, H, W] = x.shape;
  const [OC, Cw, KH, KW] = w.shape;
  if (Cw !== C) throw new RangeError(`conv2d: input ${shapeStr(x.shape)} has ${C} channels but weight ${shapeStr(w.shape)} expects ${Cw}`);
  if (b && (b.ndim !== 1 || b.shape[0] !== OC)) throw new RangeError(`conv2d: bias ${shapeStr(b.shape)} must be [${OC}] for weight ${shapeStr(w.shape)}`);
  const [sh, sw] = pair(op, 'stride', opts.stride ?? 1, 1);
  const [ph, pw] = pair(op, 'padding', opts.padding ?? 0, 0);
  const OH = Math.floor((H + 2 * ph - KH) / sh) + 1, OW = Math.floor((W + 2 * pw - KW) / sw) + 1;
  if (KH === 0 || KW === 0 || OH <= 0 || OW <= 0) {
    throw new RangeError(`conv2d: kernel ${KH}×${KW} does not fit input ${shapeStr(x.shape)} with padding [${ph}, ${pw}] (output would be ${OH}×${OW})`);
  }
  const ints = [B, C, H, W, OC, KH, KW, OH, OW, sh, sw, ph, pw, b ? 1 : 0];
  const y = empty([B, OC, OH, OW], x.dtype, x.device);
  runKernel('conv2d', [y], ins, ints);
  return record1('conv2d', ins, y, [x, w], (g, [x_, w_]) => {
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    if (x.requiresGrad) {
      dx = empty(x.shape, x.dtype, x.device);
      runKernel('conv2d_backward_input', [dx], [g, w_], ints);
    }
    if (w.requiresGrad || b?.requiresGrad) {
      dw = empty(w.shape, w.dtype, w.device);
      if (b) db = empty(b.shape, b.dtype, b.device);
      runKernel('conv2d_backward_weight', db ? [dw, db] : [dw], [g, x_], ints);
    }
    return b ? [dx, dw, db] : [dx, dw];
  });
}

/**
 * Mamba's depthwise causal conv1d: x [B, D, L], w [D, 1, K], b [D] → [B, D, L], equal to
 * torch.nn.Conv1d(D, D, K, groups=D, padding=K-1)(x)[..., :L]:
 * y[n, d, t] = b[d] + Σ_j w[d, 0, j] · x[n, d, t + j − (K − 1)] (zero before the start).
 */
export function conv1dDepthwiseCausal(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  const op = 'conv1dDepthwiseCausal';
  assertRank(op, x, 3, 'input');
  assertRank(op, w, 3, 'weight');
  const ins = b ? [x, w, b] : [x, w];
  assertFloat(op, ...ins);
  assertSameDtype(op, ...ins);
  assertSameDevice(op, ...ins);
  const [B, D, L] = x.shape;
  const [Dw, one, K] = w.shape;
  if (Dw !== D || one !== 1 || K < 1) throw new RangeError(`${op}: weight ${shapeStr(w.shape)} must be [${D}, 1, K ≥ 1] for input ${shapeStr(x.shape)}`);
  if (b && (b.ndim !== 1 || b.shape[0] !== D)) throw new RangeError(`${op}: bias ${shapeStr(b.shape)} must be [${D}]`);
  const y = empty(x.shape, x.dtype, x.device);
  runKernel('conv1d_causal', [y], ins, [B, D, L, K, b ? 1 : 0]);
  return record1(op, ins, y, [x, w], (g, [x_, w_]) => {
    const dx = empty(x.shape, x.dtype, x.device);
    const dw = empty(w.shape, w.dtype, w.device);
    const db = empty([D], x.dtype, x.device);
    runKernel('conv1d_causal_backward', [dx, dw, db], [g, x_, w_], [B, D, L, K]);
    if (!b) db.dispose();
    return b ? [dx, dw, db] : [dx, dw];
  });
}
