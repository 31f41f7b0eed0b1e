/**
 * LSTM ops: one fused cell step (`lstmCell`) and a fused sequence (`lstmSequence`) that runs the
 * whole time loop — recurrent GEMM + cell per step — in one kernel and backprop-through-time in
 * one backward kernel, so a 256-step layer is ONE graph node. Gate order i, f, g, o (PyTorch).
 * Kernels and formulas: backend/cpu/lstm.ts.
 */
import type { Tensor } from '../tensor.js';
import { empty, zeros } from '../creation.js';
import { runKernel } from '../dispatch/dispatch.js';
import { record } from '../autograd/node.js';
import { sameShape, shapeStr } from '../util/shape.js';
import { assertFloat, assertSameDevice, assertSameDtype } from './util.js';

/** A zero tensor standing in for a gradient that did not arrive. */
function orZeros(g: Tensor | null, like: Tensor): Tensor {
  return g ?? zeros(like.shape, { dtype: like.dtype, device: like.device });
}

/**
 * One LSTM step from the gate pre-activations gates [B, 4H] (= x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh,
 * blocks i, f, g, o) and the cell state c [B, H]:
 *   c' = σ(f)·c + σ(i)·tanh(g),   h' = σ(o)·tanh(c').
 * Returns {h, c} (the new state). Differentiable in gates and c.
 */
export function lstmCell(gates: Tensor, c: Tensor): { h: Tensor; c: Tensor } {
  const op = 'lstmCell';
  assertFloat(op, gates, c);
  assertSameDtype(op, gates, c);
  assertSameDevice(op, gates, c);
  if (gates.ndim !== 2 || gates.shape[1] % 4 !== 0) throw new RangeError(`${op}: gates must have shape [B, 4H], got ${shapeStr(gates.shape)}`);
  const [B, G] = gates.shape, H = G / 4;
  if (!sameShape(c.shape, [B, H])) throw new RangeError(`${op}: c must have shape [${B}, ${H}] for gates ${shapeStr(gates.shape)}, got ${shapeStr(c.shape)}`);
  const h = empty([B, H], gates.dtype, gates.device);
  const cNew = empty([B, H], gates.dtype, gates.device);
  const act = empty([B, G], gates.dtype, gates.device);
  runKernel('lstm_cell', [h, cNew, act], [gates, c], [B, H]);
  record(op, [gates, c], [h, cNew], [act, c, cNew], ([dh, dc], [act_, c_, cNew_]) => {
    const dGates = empty([B, G], gates.dtype, gates.device);
    const dcPrev = empty([B, H], gates.dtype, gates.device);
    runKernel('lstm_cell_backward', [dGates, dcPrev], [orZeros(dh, h), orZeros(dc, cNew), act_, c_, cNew_], [B, H]);
    return [dGates, dcPrev];
  });
  act.dispose();
  return { h, c: cNew };
}

export interface LstmSequenceOptions {
  /** Run the steps from t = T−1 down to 0 (the backward direction of a bidirectional LSTM). */
  reverse?: boolean;
}

/**
 * A whole LSTM layer (one direction) over time:
 *   xProj [B, T, 4H]   the input projection x·W_ihᵀ + b_ih + b_hh of every step (one GEMM outside)
 *   W_hh  [4H, H]      the recurrent weight (PyTorch's weight_hh_l{k})
 *   h0, c0 [B, H]      initial state (zeros when omitted)
 * Returns out [B, T, H] (h after each step, at its own position t also when reverse), and hT, cT
 * [B, H]: the state after the last step processed (t = T−1; t = 0 when reverse), PyTorch's h_n/c_n.
 * Differentiable in xProj, W_hh, h0 and c0 (through all three outputs).
 */
export function lstmSequence(xProj: Tensor, wHh: Tensor, h0?: Tensor | null, c0?: Tensor | null, opts: LstmSequenceOptions = {}): { out: Tensor; hT: Tensor; cT: Tensor } {
  const op = 'lstmSequence';
  const given = [xProj, wHh, ...(h0 ? [h0] : []), ...(c0 ? [c0] : [])];
  assertFloat(op, ...given);
  assertSameDtype(op, ...given);
  assertSameDevice(op, ...given);
  if (xProj.ndim !== 3 || xProj.shape[2] % 4 !== 0) throw new RangeError(`${op}: xProj must have shape [B, T, 4H], got ${shapeStr(xProj.shape)}`);
  const [B, T, G] = xProj.shape, H = G / 4;
  if (T === 0) throw new RangeError(`${op}: xProj ${shapeStr(xProj.shape)} has no time steps`);
  if (!sameShape(wHh.shape, [G, H])) throw new RangeError(`${op}: W_hh must have shape [${G}, ${H}] for xProj ${shapeStr(xProj.shape)}, got ${shapeStr(wHh.shape)}`);
  if (h0 && !sameShape(h0.shape, [B, H])) throw new RangeError(`${op}: h0 must have shape [${B}, ${H}], got ${shapeStr(h0.shape)}`);
  if (c0 && !sameShape(c0.shape, [B, H])) throw new RangeError(`${op}: c0 must have shape [${B}, ${H}], got ${shapeStr(c0.shape)}`);
  const reverse = opts.reverse ? 1 : 0;
  const dtype = xProj.dtype, device = xProj.device;
  const h0t = h0 ?? zeros([B, H], { dtype, device });
  const c0t = c0 ?? zeros([B, H], { dtype, device });
  const out = empty([B, T, H], dtype, device);
  const hT = empty([B, H], dtype, device);
  const cT = empty([B, H], dtype, device);
  const saved = empty([B, T, 6 * H], dtype, device);     // per step: i, f, g, o, c, tanh c
  const ints = [B, T, H, reverse];
  runKernel('lstm_seq_forward', [out, hT, cT, saved], [xProj, wHh, h0t, c0t], ints);
  record(op, given, [out, hT, cT], [wHh, h0t, c0t, out, saved], ([dOut, dhT, dcT], [w_, h0_, c0_, out_, saved_]) => {
    const dxProj = empty([B, T, G], dtype, device);
    const dW = empty([G, H], dtype, device);
    const dh0 = empty([B, H], dtype, device);
    const dc0 = empty([B, H], dtype, device);
    runKernel('lstm_seq_backward', [dxProj, dW, dh0, dc0],
      [orZeros(dOut, out_), orZeros(dhT, h0_), orZeros(dcT, c0_), w_, h0_, c0_, out_, saved_], ints);
    return [dxProj, dW, ...(h0 ? [dh0] : []), ...(c0 ? [dc0] : [])];
  });
  saved.dispose();
  if (!h0) h0t.dispose();
  if (!c0) c0t.dispose();
  return { out, hT, cT };
}
