/**
 * CPU kernels for the LSTM: one fused cell step, and a fused SEQUENCE (the whole time loop and
 * its backprop-through-time in one kernel each, so a 256-step layer is one graph node).
 *
 * Gate order is PyTorch's: along every 4H axis (gates, weight_ih, weight_hh, biases) the blocks
 * are [i | f | g | o]. With ĝ the pre-activations (x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh):
 *
 *   i = σ(ĝ_i)   f = σ(ĝ_f)   g = tanh(ĝ_g)   o = σ(ĝ_o)
 *   c' = f ⊙ c + i ⊙ g
 *   h' = o ⊙ tanh(c')
 *
 * Backward of one step, given dh' and dc' (the gradients arriving at h' and c'):
 *
 *   dĉ   = dc' + dh' ⊙ o ⊙ (1 − tanh²c')          (total gradient at c')
 *   dĝ_i = dĉ ⊙ g ⊙ i(1 − i)      dĝ_f = dĉ ⊙ c ⊙ f(1 − f)
 *   dĝ_g = dĉ ⊙ i ⊙ (1 − g²)      dĝ_o = dh' ⊙ tanh c' ⊙ o(1 − o)
 *   dc   = dĉ ⊙ f                 dh (through the recurrence) = dĝ · W_hh   ([B,4H]·[4H,H])
 *
 * ---------------------------------------------------------------------------------------------
 * Kernel 'lstm_cell'           ins  = [gates [B,4H] (pre-activations), c [B,H]]
 *                              outs = [h' [B,H], c' [B,H], act [B,4H] (i, f, g, o activated)]
 *                              ints = [B, H]
 * Kernel 'lstm_cell_backward'  ins  = [dh' [B,H], dc' [B,H], act [B,4H], c [B,H], c' [B,H]]
 *                              outs = [dgates [B,4H], dc [B,H]]
 *                              ints = [B, H]
 * Kernel 'lstm_seq_forward'    ins  = [xProj [B,T,4H], W_hh [4H,H], h0 [B,H], c0 [B,H]]
 *                              outs = [out [B,T,H], hT [B,H], cT [B,H], saved [B,T,6H]]
 *                              ints = [B, T, H, reverse]
 *   xProj already holds x·W_ihᵀ + b_ih + b_hh for every step (one big GEMM outside). Steps run
 *   t = 0 … T−1, or T−1 … 0 when reverse = 1; out[:, t] is h after step t; saved[:, t] holds,
 *   for the backward, [i | f | g | o | c | tanh c] of step t (activated gates, cell state); hT/cT are the
 *   state after the LAST step processed (t = T−1, or t = 0 when reverse: PyTorch's h_n).
 * Kernel 'lstm_seq_backward'   ins  = [dOut [B,T,H], dhT [B,H], dcT [B,H], W_hh [4H,H], h0 [B,H],
 *                                      c0 [B,H], out [B,T,H], saved [B,T,6H]]
 *                              outs = [dxProj [B,T,4H], dW_hh [4H,H], dh0 [B,H], dc0 [B,H]]
 *                              ints = [B, T, H, reverse]
 *   dxProj = dĝ of every step (xProj enters the gates additively); dW_hh = Σ_{b,t} dĝ[b,t]ᵀ·h_prev[b,t]
 *   with h_prev the state entering step t (h0 for the first step processed).
 * float32 or float64 (all tensors of one dtype); arithmetic in float64 (JS numbers).
 * ---------------------------------------------------------------------------------------------
 *
 * The sequence kernels split the batch rows over the worker threads (threads.ts): each thread runs
 * the whole time loop for its sequences (they are independent), so there is one hand-off per call,
 * not one per step. The recurrent product h·W_hhᵀ of a step is [rows, H]·[H, 4H]: W_hh is packed
 * once per call into 4-wide Float64 panels and a 4×4 register tile (4 sequences × 4 gate columns)
 * runs over k. `lstmSeqForwardRows` and `lstmSeqBackwardRows` are shipped to the workers as
 * source text: self-contained, no imports or module-level bindings (σ is written inline there).
 */
import { registerCpuKernel } from './device.js';
import type { FloatArray, TypedArray } from '../../dtype.js';
import { allocTyped } from '../../dtype.js';
import { registerWorkerTask, parallelRows, getNumThreads } from './threads.js';
import { matmulCpu } from './matmul.js';

/** σ(x), the same formula as the 'sigmoid' kernel (stable for both signs). */
export function lstmSigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

// ---------------------------------------------------------------------------------------------
// One step (the readable form of the cell; the sequence kernels inline the same arithmetic).
// ---------------------------------------------------------------------------------------------
export function lstmCellForward(h: FloatArray, cNew: FloatArray, act: FloatArray, gates: FloatArray, c: FloatArray, B: number, H: number): void {
  const G = 4 * H;
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < H; n++) {
      const gb = b * G + n, o = b * H + n;
      const i = lstmSigmoid(gates[gb]), f = lstmSigmoid(gates[gb + H]);
      const g = Math.tanh(gates[gb + 2 * H]), og = lstmSigmoid(gates[gb + 3 * H]);
      const cn = f * c[o] + i * g;
      cNew[o] = cn;
      h[o] = og * Math.tanh(cn);
      act[gb] = i; act[gb + H] = f; act[gb + 2 * H] = g; act[gb + 3 * H] = og;
    }
  }
}

export function lstmCellBackward(dGates: FloatArray, dc: FloatArray, dhNew: FloatArray, dcNew: FloatArray, act: FloatArray,
  c: FloatArray, cNew: FloatArray, B: number, H: number): void {
  const G = 4 * H;
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < H; n++) {
      const gb = b * G + n, o = b * H + n;
      const i = act[gb], f = act[gb + H], g = act[gb + 2 * H], og = act[gb + 3 * H];
      const tc = Math.tanh(cNew[o]), dh = dhNew[o];
      const dct = dcNew[o] + dh * og * (1 - tc * tc);
      dGates[gb] = dct * g * i * (1 - i);
      dGates[gb + H] = dct * c[o] * f * (1 - f);
      dGates[gb + 2 * H] = dct * i * (1 - g * g);
      dGates[gb + 3 * H] = dh * tc * og * (1 - og);
      dc[o] = dct * f;
    }
  }
}

registerCpuKernel('lstm_cell', ([h, cNew, act], [gates, c], [B, H]) =>
  lstmCellForward(h as FloatArray, cNew as FloatArray, act as FloatArray, gates as FloatArray, c as FloatArray, B, H));
registerCpuKernel('lstm_cell_backward', ([dGates, dc], [dh, dcNew, act, c, cNew], [B, H]) =>
  lstmCellBackward(dGates as FloatArray, dc as FloatArray, dh as FloatArray, dcNew as FloatArray, act as FloatArray, c as FloatArray, cNew as FloatArray, B, H));

// ---------------------------------------------------------------------------------------------
// Sequence: per-thread workspace (Float64 scratch, grown on demand)
// ---------------------------------------------------------------------------------------------
export interface LstmWorkspace {
  /** W_hh packed in 4-wide panels (forward: over the 4H gate columns; backward: over the H columns). */
  wp: Float64Array;
  /** The operand rows of the thread's sequences, 4 interleaved per block: [blk][K][4] (h_prev forward, dĝ backward). */
  xp: Float64Array;
  /** Gate accumulators of the thread's sequences: [rows, 4H]. */
  g: Float64Array;
  /** Backward carries for the thread's rows: dh [rows (×4), H (×4)] and dc [rows, H]. */
  dh: Float64Array;
  dc: Float64Array;
}
export function newLstmWorkspace(): LstmWorkspace {
  const z = new Float64Array(0);
  return { wp: z, xp: z, g: z, dh: z, dc: z };
}

/**
 * Forward time loop for the sequences b ∈ [r0, r1).
 * bufs = [out [B,T,H], saved [B,T,6H], xProj [B,T,4H], W_hh [4H,H], h0 [B,H], c0 [B,H]]
 * ints = [B, T, H, reverse]
 * Per step: (1) pack h_prev of all the thread's sequences, 4 at a time, into hp[blk][k][4];
 * (2) for each 4-column panel of W_hhᵀ (kept in L1 while it is used), a 4×4 tile per block of
 * 4 sequences accumulates acc[row, j] = Σ_k h_prev[row, k]·W_hh[j, k]; (3) the cell, per sequence.
 */
export function lstmSeqForwardRows(ws: LstmWorkspace, bufs: TypedArray[], ints: readonly number[], r0: number, r1: number): void {
  const out = bufs[0], sv = bufs[1], xp = bufs[2], W = bufs[3], h0 = bufs[4], c0 = bufs[5];
  const T = ints[1], H = ints[2], reverse = ints[3];
  const G = 4 * H, S = 6 * H;
  const nBlk = (r1 - r0 + 3) >> 2, rows4 = nBlk * 4;
  // wp[(jp·H + k)·4 + c] = W_hh[4·jp + c, k]: the 4 gate columns 4jp..4jp+3 of W_hhᵀ, row k
  if (ws.wp.length < G * H) ws.wp = new Float64Array(G * H);
  if (ws.g.length < rows4 * G) ws.g = new Float64Array(rows4 * G);
  if (ws.xp.length < rows4 * H) ws.xp = new Float64Array(rows4 * H);
  const wp = ws.wp, acc = ws.g, hp = ws.xp;
  for (let jp = 0; jp < H; jp++) {
    for (let k = 0; k < H; k++) {
      const o = (jp * H + k) * 4;
      for (let c = 0; c < 4; c++) wp[o + c] = W[(4 * jp + c) * H + k];
    }
  }
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const tp = reverse ? t + 1 : t - 1;              // the step whose state enters step t (s > 0)
    // (1) hp[(blk·H + k)·4 + r] = h_prev[r0 + 4·blk + r, k]   (zero past r1)
    for (let lr = 0; lr < rows4; lr++) {
      const row = r0 + lr, o = (lr >> 2) * H * 4 + (lr & 3);
      if (row >= r1) { for (let k = 0; k < H; k++) hp[o + 4 * k] = 0; continue; }
      const hArr = s === 0 ? h0 : out, ho = s === 0 ? row * H : (row * T + tp) * H;
      for (let k = 0; k < H; k++) hp[o + 4 * k] = hArr[ho + k];
    }
    // (2) acc[lr·4H + j] = Σ_k h_prev[lr, k] · W_hh[j, k]      (4×4 register tiles over k)
    for (let jp = 0; jp < H; jp++) {
      const w0o = jp * H * 4, j = 4 * jp;
      for (let blk = 0; blk < nBlk; blk++) {
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
        let c0_ = 0, c1 = 0, c2 = 0, c3 = 0, d0 = 0, d1 = 0, d2 = 0, d3 = 0;
        let wo = w0o, xo = blk * H * 4;
        for (let k = 0; k < H; k++, wo += 4, xo += 4) {
          const w0 = wp[wo], w1 = wp[wo + 1], w2 = wp[wo + 2], w3 = wp[wo + 3];
          const xa = hp[xo], xb = hp[xo + 1], xc = hp[xo + 2], xd = hp[xo + 3];
          a0 += xa * w0; a1 += xa * w1; a2 += xa * w2; a3 += xa * w3;
          b0 += xb * w0; b1 += xb * w1; b2 += xb * w2; b3 += xb * w3;
          c0_ += xc * w0; c1 += xc * w1; c2 += xc * w2; c3 += xc * w3;
          d0 += xd * w0; d1 += xd * w1; d2 += xd * w2; d3 += xd * w3;
        }
        const ao = blk * 4 * G + j;
        acc[ao] = a0; acc[ao + 1] = a1; acc[ao + 2] = a2; acc[ao + 3] = a3;
        acc[ao + G] = b0; acc[ao + G + 1] = b1; acc[ao + G + 2] = b2; acc[ao + G + 3] = b3;
        acc[ao + 2 * G] = c0_; acc[ao + 2 * G + 1] = c1; acc[ao + 2 * G + 2] = c2; acc[ao + 2 * G + 3] = c3;
        acc[ao + 3 * G] = d0; acc[ao + 3 * G + 1] = d1; acc[ao + 3 * G + 2] = d2; acc[ao + 3 * G + 3] = d3;
      }
    }
    // (3) the cell, per sequence; saved[b, t] = [i | f | g | o | c | tanh c]
    for (let row = r0; row < r1; row++) {
      const xo = (row * T + t) * G, so = (row * T + t) * S, oo = (row * T + t) * H, ar = (row - r0) * G;
      const cArr = s === 0 ? c0 : sv, co = s === 0 ? row * H : (row * T + tp) * S + 4 * H;
      for (let n = 0; n < H; n++) {
        const i = 1 / (1 + Math.exp(-(xp[xo + n] + acc[ar + n])));                     // σ
        const f = 1 / (1 + Math.exp(-(xp[xo + H + n] + acc[ar + H + n])));
        const g = Math.tanh(xp[xo + 2 * H + n] + acc[ar + 2 * H + n]);
        const og = 1 / (1 + Math.exp(-(xp[xo + 3 * H + n] + acc[ar + 3 * H + n])));
        const c = f * cArr[co + n] + i * g;
        const tc = Math.tanh(c);
        out[oo + n] = og * tc;
        sv[so + n] = i; sv[so + H + n] = f; sv[so + 2 * H + n] = g; sv[so + 3 * H + n] = og;
        sv[so + 4 * H + n] = c; sv[so + 5 * H + n] = tc;
      }
    }
  }
}

/**
 * Backprop through time for the sequences b ∈ [r0, r1): dĝ of every step and the gradients of the
 * initial state. (dW_hh is one GEMM over all steps afterwards.)
 * bufs = [dxProj [B,T,4H], dhc0 [2,B,H] (dh0 then dc0), dOut [B,T,H], dhcT [2,B,H] (dhT then dcT),
 *         W_hh [4H,H], saved [B,T,6H], c0 [B,H]]
 * ints = [B, T, H, reverse]
 * Per step (t from the last processed to the first): (1) the pointwise backward of every sequence,
 * writing dĝ to dxProj and, packed 4 sequences at a time, to gp[blk][j][4]; (2) the dh carry
 * dh[row, k] = Σ_j dĝ[row, j]·W_hh[j, k] with 4×4 tiles, one 4-column panel of W_hh at a time.
 */
export function lstmSeqBackwardRows(ws: LstmWorkspace, bufs: TypedArray[], ints: readonly number[], r0: number, r1: number): void {
  const dG = bufs[0], dhc0 = bufs[1], dOut = bufs[2], dhcT = bufs[3], W = bufs[4], sv = bufs[5], c0 = bufs[6];
  const B = ints[0], T = ints[1], H = ints[2], reverse = ints[3];
  const G = 4 * H, S = 6 * H;
  const Hp = (H + 3) & ~3;                          // H rounded up to whole panels
  const rows = r1 - r0, nBlk = (rows + 3) >> 2, rows4 = nBlk * 4;
  // wp[(kp·4H + j)·4 + c] = W_hh[j, 4·kp + c]  (zero past H): 4 columns of W_hh, row j
  if (ws.wp.length < Hp * G) ws.wp = new Float64Array(Hp * G);
  if (ws.xp.length < rows4 * G) ws.xp = new Float64Array(rows4 * G);
  const wp = ws.wp, gp = ws.xp;
  for (let kp = 0; kp < Hp / 4; kp++) {
    for (let j = 0; j < G; j++) {
      const o = (kp * G + j) * 4;
      for (let c = 0; c < 4; c++) { const k = 4 * kp + c; wp[o + c] = k < H ? W[j * H + k] : 0; }
    }
  }
  gp.fill(0);                                       // rows past r1 stay zero
  if (ws.dh.length < rows4 * Hp) ws.dh = new Float64Array(rows4 * Hp);
  if (ws.dc.length < rows * H) ws.dc = new Float64Array(rows * H);
  const dhC = ws.dh, dcC = ws.dc;                  // carries arriving from step t+1: dh [rows4, Hp], dc [rows, H]
  for (let b = r0; b < r1; b++) {
    for (let n = 0; n < H; n++) { dhC[(b - r0) * Hp + n] = dhcT[b * H + n]; dcC[(b - r0) * H + n] = dhcT[(B + b) * H + n]; }
  }
  for (let s = T - 1; s >= 0; s--) {
    const t = reverse ? T - 1 - s : s;
    const tp = reverse ? t + 1 : t - 1;
    // (1) pointwise
    for (let row = r0; row < r1; row++) {
      const lr = row - r0, lh = lr * Hp, lc = lr * H, po = (lr >> 2) * G * 4 + (lr & 3);
      const xo = (row * T + t) * G, so = (row * T + t) * S, oo = (row * T + t) * H;
      const cArr = s === 0 ? c0 : sv, co = s === 0 ? row * H : (row * T + tp) * S + 4 * H;
      for (let n = 0; n < H; n++) {
        const i = sv[so + n], f = sv[so + H + n], g = sv[so + 2 * H + n], og = sv[so + 3 * H + n], tc = sv[so + 5 * H + n];
        const dh = dOut[oo + n] + dhC[lh + n];
        const dct = dcC[lc + n] + dh * og * (1 - tc * tc);
        const di = dct * g * i * (1 - i), df = dct * cArr[co + n] * f * (1 - f);
        const dg = dct * i * (1 - g * g), dog = dh * tc * og * (1 - og);
        dG[xo + n] = di; dG[xo + H + n] = df; dG[xo + 2 * H + n] = dg; dG[xo + 3 * H + n] = dog;
        gp[po + 4 * n] = di; gp[po + 4 * (H + n)] = df; gp[po + 4 * (2 * H + n)] = dg; gp[po + 4 * (3 * H + n)] = dog;
        dcC[lc + n] = dct * f;
      }
    }
    // (2) dh carry[lr, k] = Σ_j dĝ[lr, j] · W_hh[j, k]      (4×4 register tiles over j)
    for (let kp = 0; kp < Hp / 4; kp++) {
      const w0o = kp * G * 4, k = 4 * kp;
      for (let blk = 0; blk < nBlk; blk++) {
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
        let c0_ = 0, c1 = 0, c2 = 0, c3 = 0, d0 = 0, d1 = 0, d2 = 0, d3 = 0;
        let wo = w0o, xo = blk * G * 4;
        for (let j = 0; j < G; j++, wo += 4, xo += 4) {
          const w0 = wp[wo], w1 = wp[wo + 1], w2 = wp[wo + 2], w3 = wp[wo + 3];
          const xa = gp[xo], xb = gp[xo + 1], xc = gp[xo + 2], xd = gp[xo + 3];
          a0 += xa * w0; a1 += xa * w1; a2 += xa * w2; a3 += xa * w3;
          b0 += xb * w0; b1 += xb * w1; b2 += xb * w2; b3 += xb * w3;
          c0_ += xc * w0; c1 += xc * w1; c2 += xc * w2; c3 += xc * w3;
          d0 += xd * w0; d1 += xd * w1; d2 += xd * w2; d3 += xd * w3;
        }
        // columns past H land in the padding of dhC (never read)
        const o = blk * 4 * Hp + k;
        dhC[o] = a0; dhC[o + 1] = a1; dhC[o + 2] = a2; dhC[o + 3] = a3;
        dhC[o + Hp] = b0; dhC[o + Hp + 1] = b1; dhC[o + Hp + 2] = b2; dhC[o + Hp + 3] = b3;
        dhC[o + 2 * Hp] = c0_; dhC[o + 2 * Hp + 1] = c1; dhC[o + 2 * Hp + 2] = c2; dhC[o + 2 * Hp + 3] = c3;
        dhC[o + 3 * Hp] = d0; dhC[o + 3 * Hp + 1] = d1; dhC[o + 3 * Hp + 2] = d2; dhC[o + 3 * Hp + 3] = d3;
      }
    }
  }
  for (let b = r0; b < r1; b++) {
    for (let n = 0; n < H; n++) { dhc0[b * H + n] = dhC[(b - r0) * Hp + n]; dhc0[(B + b) * H + n] = dcC[(b - r0) * H + n]; }
  }
}

registerWorkerTask('lstm_seq_forward', [lstmSeqForwardRows], newLstmWorkspace);
registerWorkerTask('lstm_seq_backward', [lstmSeqBackwardRows], newLstmWorkspace);

const mainWs = newLstmWorkspace();
/** Below this many recurrent multiply-adds per call the thread hand-off is not worth it. */
const PARALLEL_MIN_MACS = 1 << 18;

function runRows(task: string, fn: typeof lstmSeqForwardRows, bufs: TypedArray[], ints: number[], isOutput: boolean[]): void {
  const [B, T, H] = ints;
  if (B >= 2 && getNumThreads() > 1 && B * T * H * 4 * H >= PARALLEL_MIN_MACS &&
    parallelRows(task, bufs, ints, B, B >= 8 ? 4 : 1, isOutput, false)) return;
  fn(mainWs, bufs, ints, 0, B);
}

const dtypeOfArr = (a: TypedArray) => (a instanceof Float32Array ? 'float32' : 'float64');

registerCpuKernel('lstm_seq_forward', ([out, hT, cT, saved], [xProj, W, h0, c0], ints) => {
  const [B, T, H, reverse] = ints;
  runRows('lstm_seq_forward', lstmSeqForwardRows, [out, saved, xProj, W, h0, c0], ints, [true, true, false, false, false, false]);
  // the state after the last step processed
  const tl = reverse ? 0 : T - 1;
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < H; n++) { hT[b * H + n] = out[(b * T + tl) * H + n]; cT[b * H + n] = saved[(b * T + tl) * 6 * H + 4 * H + n]; }
  }
});

registerCpuKernel('lstm_seq_backward', ([dxProj, dW, dh0, dc0], [dOut, dhT, dcT, W, h0, c0, out, saved], ints) => {
  const [B, T, H, reverse] = ints;
  const BH = B * H;
  // the two carries travel packed ([dh | dc]) to keep the thread task's buffer count small
  const dhcT = allocTyped(dtypeOfArr(dOut), 2 * BH), dhc0 = allocTyped(dtypeOfArr(dOut), 2 * BH);
  dhcT.set(dhT); dhcT.set(dcT, BH);
  runRows('lstm_seq_backward', lstmSeqBackwardRows, [dxProj, dhc0, dOut, dhcT, W, saved, c0], ints, [true, true, false, false, false, false, false]);
  dh0.set(dhc0.subarray(0, BH)); dc0.set(dhc0.subarray(BH));
  // dW_hh[j, k] = Σ_{b,t} dĝ[b,t,j] · h_prev[b,t,k]: one GEMM dĝᵀ[4H, B·T] · h_prev[B·T, H]
  const hPrev = allocTyped(dtypeOfArr(dOut), B * T * H);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const first = reverse ? t === T - 1 : t === 0;
      const src = first ? b * H : (b * T + (reverse ? t + 1 : t - 1)) * H, arr = first ? h0 : out;
      const dst = (b * T + t) * H;
      for (let n = 0; n < H; n++) hPrev[dst + n] = arr[src + n];
    }
  }
  matmulCpu(dW as FloatArray, dxProj as FloatArray, hPrev as FloatArray, [1, 4 * H, B * T, H, 1, 0, 0, 0, 0]);
});
