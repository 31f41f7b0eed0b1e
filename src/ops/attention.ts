/**
 * Scaled dot-product attention, fused: softmax(scale·Q·Kᵀ [+ causal −∞ mask]) (dropout) · V in one
 * kernel ('attention_forward') and its gradient in one ('attention_backward'); the probabilities
 * are saved for the backward (materialised, llm.c style). Kernels and formulas:
 * backend/cpu/attention.ts.
 */
import type { Tensor } from '../tensor.js';
import { empty } from '../creation.js';
import { runKernel } from '../dispatch/dispatch.js';
import { record1 } from '../autograd/node.js';
import { defaultGenerator, type Generator } from '../util/rng.js';
import { shapeStr } from '../util/shape.js';
import { assertFloat, assertSameDevice, assertSameDtype } from './util.js';

export interface AttentionOptions {
  /** Mask key j > query i (top-left aligned, PyTorch's is_causal). Default false. */
  causal?: boolean;
  /** Multiplies Q·Kᵀ; default 1/√Dh. */
  scale?: number;
  /** Dropout probability on the attention weights (PyTorch's dropout_p); default 0. */
  dropoutP?: number;
  /** false: no dropout whatever dropoutP says (evaluation). Default true. */
  training?: boolean;
  /** Source of the dropout seed (default: the process-wide generator) … */
  generator?: Generator;
  /** … or a fixed seed (uint32). */
  seed?: number;
}

/**
 * q [..., Lq, Dh], k [..., Lk, Dh], v [..., Lk, Dh] (the same leading dims, usually [B, H]) →
 * [..., Lq, Dh]. Differentiable in q, k and v.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const op = 'scaledDotProductAttention';
  assertFloat(op, q, k, v);
  assertSameDtype(op, q, k, v);
  assertSameDevice(op, q, k, v);
  const shapes = `q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)}, v ${shapeStr(v.shape)}`;
  if (q.ndim < 2 || k.ndim !== q.ndim || v.ndim !== q.ndim) throw new RangeError(`${op}: q, k, v must have the same rank ≥ 2 ([..., L, Dh]); got ${shapes}`);
  const nd = q.ndim;
  const lead = q.shape.slice(0, -2);
  if (k.shape.slice(0, -2).join() !== lead.join() || v.shape.slice(0, -2).join() !== lead.join()) {
    throw new RangeError(`${op}: q, k, v must share their leading dimensions; got ${shapes}`);
  }
  const Lq = q.shape[nd - 2], Dh = q.shape[nd - 1], Lk = k.shape[nd - 2];
  if (k.shape[nd - 1] !== Dh || v.shape[nd - 1] !== Dh || v.shape[nd - 2] !== Lk) {
    throw new RangeError(`${op}: expected k [..., Lk, ${Dh}] and v [..., Lk, ${Dh}] for q [..., ${Lq}, ${Dh}]; got ${shapes}`);
  }
  const p = opts.training === false ? 0 : opts.dropoutP ?? 0;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${op}: dropoutP must be in [0, 1], got ${p}`);
  const BH = lead.reduce((a, b) => a * b, 1);
  const scale = opts.scale ?? 1 / Math.sqrt(Dh);
  const seed = p > 0 ? (opts.seed ?? (opts.generator ?? defaultGenerator).nextUint32()) | 0 : 0;
  const ints = [BH, Lq, Lk, Dh, opts.causal ? 1 : 0, seed], floats = [scale, p];
  const out = empty([...lead, Lq, Dh], q.dtype, q.device);
  const att = empty([...lead, Lq, Lk], q.dtype, q.device);
  runKernel('attention_forward', [out, att], [q, k, v], ints, floats);
  record1(op, [q, k, v], out, [q, k, v, att], (g, [q_, k_, v_, att_]) => {
    const dq = empty(q.shape, q.dtype, q.device);
    const dk = empty(k.shape, k.dtype, k.device);
    const dv = empty(v.shape, v.dtype, v.device);
    runKernel('attention_backward', [dq, dk, dv], [g, q_, k_, v_, att_], ints, floats);
    return [dq, dk, dv];
  });
  att.dispose();
  return out;
}
