/**
 * CPU reference kernels for convolutions:
 *
 *   conv2d                  NCHW cross-correlation (torch.nn.functional.conv2d, groups = 1), any
 *                           kernel size, stride and zero padding; bias optional.
 *   conv2d_backward_input   dx
 *   conv2d_backward_weight  dw (+ db)
 *   conv1d_causal           Mamba's depthwise causal conv1d, and its backward.
 *
 * How conv2d is computed (the same for its two backward passes): an *implicit GEMM with tap
 * lists*. For one output position p = (oh, ow) only some kernel taps r = (kh, kw) land inside the
 * image; the others read zero padding and are skipped outright. Listing the valid taps of p turns
 * the output at p into a small dense GEMM
 *
 *     y[n, k, p] = bias[k] + Σ_s A[n, s] · Wp[k, s],   s = (c, valid tap t),
 *     A[n, s]    = x[n, c, q_t]   (read through an offset table: no im2col copy),
 *     Wp[k, s]   = w[k, c, r_t]   (packed once per call, per distinct tap list),
 *
 * computed 4 samples × 4 output channels at a time by `gatherGemm` (16 accumulators in registers,
 * 8 loads per 16 multiply-adds). At the PxByEmbed shape (3×3 maps, 3×3 kernel, padding 1) the
 * 9 output positions have 4, 6 or 9 valid taps: 49 of the 81 products are real and exactly those
 * are computed. The input gradient is the same construction with the roles of p and q exchanged
 * (for every input position q: the (p, tap) pairs that read it), and the weight gradient is the
 * same micro-kernel again, reducing over (sample, position) pairs, one tap at a time.
 *
 * Samples are processed in blocks of NB so that a block of x and y stays in cache while every
 * output position and channel panel sweeps it. Sums run in float64 (JS numbers) in a fixed order:
 * the results are deterministic, and every float32 output is the float64 sum rounded once.
 */
import { registerCpuKernel } from './device.js';
import type { FloatArray } from '../../dtype.js';
import { registerWorkerTask, parallelRows, getNumThreads } from './threads.js';

/** Samples per cache block. */
const NB = 64;
/** Below this many multiply-adds a conv2d kernel stays on the calling thread. */
const PARALLEL_MIN_MACS = 1 << 19;

// ---------------------------------------------------------------------------------------------
// The micro-kernel.
//
//   out[i·oRow + k·oCol + oOff] (=|+=) init[k] + Σ_{s<S} inp[iBase + i·iRow + off[offStart + s]] · W[k, s]
//
// for rows i in [i0, i1) and columns k in [0, K). W is packed in panels of 4 columns starting at
// wStart: Wp[wStart + (kp·S + s)·4 + j] = W[4·kp + j, s] (anything, e.g. 0, for columns ≥ K: those
// sums are never stored). `init` may be null (0).
//
// This function and the two *Rows functions below run on worker threads too (shipped as source
// text, see threads.ts): they must stay self-contained (no imports, no module-level constants).
// ---------------------------------------------------------------------------------------------
function gatherGemm(
  out: FloatArray, oRow: number, oCol: number, oOff: number,
  inp: FloatArray, iBase: number, iRow: number, off: Int32Array, offStart: number, S: number,
  Wp: Float64Array, wStart: number, K: number, init: FloatArray | null, accumulate: boolean,
  i0: number, i1: number,
): void {
  const panels = (K + 3) >> 2;
  for (let kp = 0; kp < panels; kp++) {
    const k0 = kp * 4;
    const kn = K - k0 < 4 ? K - k0 : 4;
    const wBase = wStart + kp * S * 4;
    const b0 = init === null ? 0 : init[k0];
    const b1 = init === null || kn < 2 ? 0 : init[k0 + 1];
    const b2 = init === null || kn < 3 ? 0 : init[k0 + 2];
    const b3 = init === null || kn < 4 ? 0 : init[k0 + 3];
    let i = i0;
    for (; i + 4 <= i1; i += 4) {
      const a0b = iBase + i * iRow, a1b = a0b + iRow, a2b = a1b + iRow, a3b = a2b + iRow;
      let c00 = b0, c01 = b1, c02 = b2, c03 = b3;
      let c10 = b0, c11 = b1, c12 = b2, c13 = b3;
      let c20 = b0, c21 = b1, c22 = b2, c23 = b3;
      let c30 = b0, c31 = b1, c32 = b2, c33 = b3;
      for (let s = offStart, sEnd = offStart + S, wi = wBase; s < sEnd; s++, wi += 4) {
        const o = off[s];
        const a0 = inp[a0b + o], a1 = inp[a1b + o], a2 = inp[a2b + o], a3 = inp[a3b + o];
        const w0 = Wp[wi], w1 = Wp[wi + 1], w2 = Wp[wi + 2], w3 = Wp[wi + 3];
        c00 += a0 * w0; c01 += a0 * w1; c02 += a0 * w2; c03 += a0 * w3;
        c10 += a1 * w0; c11 += a1 * w1; c12 += a1 * w2; c13 += a1 * w3;
        c20 += a2 * w0; c21 += a2 * w1; c22 += a2 * w2; c23 += a2 * w3;
        c30 += a3 * w0; c31 += a3 * w1; c32 += a3 * w2; c33 += a3 * w3;
      }
      const o0 = i * oRow + k0 * oCol + oOff, o1 = o0 + oRow, o2 = o1 + oRow, o3 = o2 + oRow;
      if (accumulate) {
        out[o0] += c00; out[o1] += c10; out[o2] += c20; out[o3] += c30;
        if (kn > 1) { out[o0 + oCol] += c01; out[o1 + oCol] += c11; out[o2 + oCol] += c21; out[o3 + oCol] += c31; }
        if (kn > 2) { const d = 2 * oCol; out[o0 + d] += c02; out[o1 + d] += c12; out[o2 + d] += c22; out[o3 + d] += c32; }
        if (kn > 3) { const d = 3 * oCol; out[o0 + d] += c03; out[o1 + d] += c13; out[o2 + d] += c23; out[o3 + d] += c33; }
      } else {
        out[o0] = c00; out[o1] = c10; out[o2] = c20; out[o3] = c30;
        if (kn > 1) { out[o0 + oCol] = c01; out[o1 + oCol] = c11; out[o2 + oCol] = c21; out[o3 + oCol] = c31; }
        if (kn > 2) { const d = 2 * oCol; out[o0 + d] = c02; out[o1 + d] = c12; out[o2 + d] = c22; out[o3 + d] = c32; }
        if (kn > 3) { const d = 3 * oCol; out[o0 + d] = c03; out[o1 + d] = c13; out[o2 + d] = c23; out[o3 + d] = c33; }
      }
    }
    // leftover rows, one at a time
    for (; i < i1; i++) {
      const ab = iBase + i * iRow;
      let c0 = b0, c1 = b1, c2 = b2, c3 = b3;
      for (let s = offStart, sEnd = offStart + S, wi = wBase; s < sEnd; s++, wi += 4) {
        const a = inp[ab + off[s]];
        c0 += a * Wp[wi]; c1 += a * Wp[wi + 1]; c2 += a * Wp[wi + 2]; c3 += a * Wp[wi + 3];
      }
      const o0 = i * oRow + k0 * oCol + oOff;
      if (accumulate) {
        out[o0] += c0;
        if (kn > 1) out[o0 + oCol] += c1;
        if (kn > 2) out[o0 + 2 * oCol] += c2;
        if (kn > 3) out[o0 + 3 * oCol] += c3;
      } else {
        out[o0] = c0;
        if (kn > 1) out[o0 + oCol] = c1;
        if (kn > 2) out[o0 + 2 * oCol] = c2;
        if (kn > 3) out[o0 + 3 * oCol] = c3;
      }
    }
  }
}

/**
 * gatherGemm with panels of 3 columns (12 accumulators): used when K is a multiple of 3 but not
 * of 4 (E = 9, 18, 27 …), where 4-wide panels would compute up to a third of padding.
 * Wp[wStart + (kp·S + s)·3 + j] = W[3·kp + j, s].
 */
function gatherGemm3(
  out: FloatArray, oRow: number, oCol: number, oOff: number,
  inp: FloatArray, iBase: number, iRow: number, off: Int32Array, offStart: number, S: number,
  Wp: Float64Array, wStart: number, K: number, init: FloatArray | null, accumulate: boolean,
  i0: number, i1: number,
): void {
  const panels = ((K + 2) / 3) | 0;
  for (let kp = 0; kp < panels; kp++) {
    const k0 = kp * 3;
    const kn = K - k0 < 3 ? K - k0 : 3;
    const wBase = wStart + kp * S * 3;
    const b0 = init === null ? 0 : init[k0];
    const b1 = init === null || kn < 2 ? 0 : init[k0 + 1];
    const b2 = init === null || kn < 3 ? 0 : init[k0 + 2];
    let i = i0;
    for (; i + 4 <= i1; i += 4) {
      const a0b = iBase + i * iRow, a1b = a0b + iRow, a2b = a1b + iRow, a3b = a2b + iRow;
      let c00 = b0, c01 = b1, c02 = b2;
      let c10 = b0, c11 = b1, c12 = b2;
      let c20 = b0, c21 = b1, c22 = b2;
      let c30 = b0, c31 = b1, c32 = b2;
      for (let s = offStart, sEnd = offStart + S, wi = wBase; s < sEnd; s++, wi += 3) {
        const o = off[s];
        const a0 = inp[a0b + o], a1 = inp[a1b + o], a2 = inp[a2b + o], a3 = inp[a3b + o];
        const w0 = Wp[wi], w1 = Wp[wi + 1], w2 = Wp[wi + 2];
        c00 += a0 * w0; c01 += a0 * w1; c02 += a0 * w2;
        c10 += a1 * w0; c11 += a1 * w1; c12 += a1 * w2;
        c20 += a2 * w0; c21 += a2 * w1; c22 += a2 * w2;
        c30 += a3 * w0; c31 += a3 * w1; c32 += a3 * w2;
      }
      const o0 = i * oRow + k0 * oCol + oOff, o1 = o0 + oRow, o2 = o1 + oRow, o3 = o2 + oRow;
      if (accumulate) {
        out[o0] += c00; out[o1] += c10; out[o2] += c20; out[o3] += c30;
        if (kn > 1) { out[o0 + oCol] += c01; out[o1 + oCol] += c11; out[o2 + oCol] += c21; out[o3 + oCol] += c31; }
        if (kn > 2) { const d = 2 * oCol; out[o0 + d] += c02; out[o1 + d] += c12; out[o2 + d] += c22; out[o3 + d] += c32; }
      } else {
        out[o0] = c00; out[o1] = c10; out[o2] = c20; out[o3] = c30;
        if (kn > 1) { out[o0 + oCol] = c01; out[o1 + oCol] = c11; out[o2 + oCol] = c21; out[o3 + oCol] = c31; }
        if (kn > 2) { const d = 2 * oCol; out[o0 + d] = c02; out[o1 + d] = c12; out[o2 + d] = c22; out[o3 + d] = c32; }
      }
    }
    for (; i < i1; i++) {
      const ab = iBase + i * iRow;
      let c0 = b0, c1 = b1, c2 = b2;
      for (let s = offStart, sEnd = offStart + S, wi = wBase; s < sEnd; s++, wi += 3) {
        const a = inp[ab + off[s]];
        c0 += a * Wp[wi]; c1 += a * Wp[wi + 1]; c2 += a * Wp[wi + 2];
      }
      const o0 = i * oRow + k0 * oCol + oOff;
      if (accumulate) {
        out[o0] += c0;
        if (kn > 1) out[o0 + oCol] += c1;
        if (kn > 2) out[o0 + 2 * oCol] += c2;
      } else {
        out[o0] = c0;
        if (kn > 1) out[o0 + oCol] = c1;
        if (kn > 2) out[o0 + 2 * oCol] = c2;
      }
    }
  }
}

/**
 * Samples [n0, n1) of a forward or input-gradient pass: for every position j (an output position
 * p for the forward, an input position q for dx), one gatherGemm over its tap list.
 * bufs = [out, inp, init (or a 1-element dummy), off, Wp, meta]; meta[4j..4j+3] = [oOff, S, offStart, wStart]
 * ints = [positions, oRow, oCol, iRow, K, hasInit, NB, PW (panel width 3 or 4)]
 */
function convPositionsRows(_ws: unknown, bufs: (Float32Array | Float64Array | Int32Array)[], ints: readonly number[], n0: number, n1: number): void {
  const out = bufs[0] as Float32Array | Float64Array, inp = bufs[1] as Float32Array | Float64Array;
  const init = ints[5] ? bufs[2] as Float32Array | Float64Array : null;
  const off = bufs[3] as Int32Array, Wp = bufs[4] as Float64Array, meta = bufs[5] as Int32Array;
  const positions = ints[0], oRow = ints[1], oCol = ints[2], iRow = ints[3], K = ints[4], nb = ints[6], pw = ints[7];
  for (let b0 = n0; b0 < n1; b0 += nb) {
    const b1 = b0 + nb < n1 ? b0 + nb : n1;
    for (let j = 0; j < positions; j++) {
      const m = 4 * j;
      if (pw === 3) gatherGemm3(out, oRow, oCol, meta[m], inp, 0, iRow, off, meta[m + 2], meta[m + 1], Wp, meta[m + 3], K, init, false, b0, b1);
      else gatherGemm(out, oRow, oCol, meta[m], inp, 0, iRow, off, meta[m + 2], meta[m + 1], Wp, meta[m + 3], K, init, false, b0, b1);
    }
  }
}

/**
 * Output channels [k0, k1) of the weight gradient, over all samples:
 *   acc[k·C·R + c·R + r] = Σ_n Σ_{t < T_r} gy[n·OC·P + k·P + p_t] · x[n·CHW + c·HW + q_t]
 * with (p_t, q_t) the pairs of tap r. Per block of samples and tap, gy is packed as the W side
 * (Gp[k, s = nl·T + t]) and x is read through offsets (nl·CHW + q_t).
 * bufs = [acc (Float64), gy, x, pairP, pairQ, meta]; meta[2r..2r+1] = [T_r, start_r]
 * ints = [B, OC, C, P, HW, R, NB, PW (panel width 3 or 4)]; ws = { Gp: Float64Array, off: Int32Array } (grown here)
 */
function convWeightRows(ws: { Gp: Float64Array; off: Int32Array }, bufs: (Float32Array | Float64Array | Int32Array)[], ints: readonly number[], k0: number, k1: number): void {
  const acc = bufs[0] as Float64Array, gy = bufs[1] as Float32Array | Float64Array, x = bufs[2] as Float32Array | Float64Array;
  const pairP = bufs[3] as Int32Array, pairQ = bufs[4] as Int32Array, meta = bufs[5] as Int32Array;
  const B = ints[0], OC = ints[1], C = ints[2], P = ints[3], HW = ints[4], R = ints[5], nb = ints[6], pw = ints[7];
  const CHW = C * HW, OCP = OC * P, K = k1 - k0;
  let maxT = 0;
  for (let r = 0; r < R; r++) if (meta[2 * r] > maxT) maxT = meta[2 * r];
  const need = (((K + pw - 1) / pw) | 0) * nb * maxT * pw;
  if (ws.Gp.length < need) ws.Gp = new Float64Array(need);
  if (ws.off.length < nb * maxT) ws.off = new Int32Array(nb * maxT);
  const Gp = ws.Gp, off = ws.off;
  for (let i = k0 * C * R; i < k1 * C * R; i++) acc[i] = 0;
  for (let n0 = 0; n0 < B; n0 += nb) {
    const cnt = n0 + nb < B ? nb : B - n0;
    for (let r = 0; r < R; r++) {
      const T = meta[2 * r], start = meta[2 * r + 1], S = cnt * T;
      if (T === 0) continue;
      for (let nl = 0, s = 0; nl < cnt; nl++) for (let t = 0; t < T; t++, s++) off[s] = nl * CHW + pairQ[start + t];
      // Gp[k, s] at ((k div pw)·S + s)·pw + k mod pw
      for (let k = 0, panel = 0, j = 0; k < K; k++) {
        const gk = (k0 + k) * P;
        let gi = panel * S * pw + j;
        for (let nl = 0; nl < cnt; nl++) {
          const gb = (n0 + nl) * OCP + gk;
          for (let t = 0; t < T; t++, gi += pw) Gp[gi] = gy[gb + pairP[start + t]];
        }
        if (++j === pw) { j = 0; panel++; }
      }
      // rows i = input channel c (x stride HW), columns k: acc[(k0 + k)·C·R + c·R + r] += Σ_s x[n0·CHW + c·HW + off[s]] · Gp[k, s]
      if (pw === 3) gatherGemm3(acc, R, C * R, k0 * C * R + r, x, n0 * CHW, HW, off, 0, S, Gp, 0, K, null, true, 0, C);
      else gatherGemm(acc, R, C * R, k0 * C * R + r, x, n0 * CHW, HW, off, 0, S, Gp, 0, K, null, true, 0, C);
    }
  }
}

// (workspace factories are named functions: the worker source refers to them by name)
function newConvPositionsWorkspace(): null { return null; }
function newConvWeightWorkspace(): { Gp: Float64Array; off: Int32Array } { return { Gp: new Float64Array(0), off: new Int32Array(0) }; }
registerWorkerTask('conv2d_positions', [convPositionsRows, gatherGemm, gatherGemm3], newConvPositionsWorkspace);
registerWorkerTask('conv2d_weight', [convWeightRows, gatherGemm, gatherGemm3], newConvWeightWorkspace);
const mainWeightWs = newConvWeightWorkspace();

// ---------------------------------------------------------------------------------------------
// Geometry shared by the three conv2d kernels.
// ints = [B, C, H, W, OC, KH, KW, OH, OW, strideH, strideW, padH, padW, hasBias]
// (OH = ⌊(H + 2·padH − KH) / strideH⌋ + 1, OW likewise; the front-end computes them.)
// ---------------------------------------------------------------------------------------------
interface Geometry {
  B: number; C: number; H: number; W: number; OC: number; KH: number; KW: number;
  OH: number; OW: number; sh: number; sw: number; ph: number; pw: number; hasBias: boolean;
}
function geometry(ints: number[]): Geometry {
  const [B, C, H, W, OC, KH, KW, OH, OW, sh, sw, ph, pw, hasBias] = ints;
  return { B, C, H, W, OC, KH, KW, OH, OW, sh, sw, ph, pw, hasBias: hasBias !== 0 };
}

/** Valid taps of output position p: kernel offsets r = kh·KW + kw and input positions q = ih·W + iw. */
function tapsOfOutput(g: Geometry, p: number): { rs: number[]; qs: number[] } {
  const oh = Math.floor(p / g.OW), ow = p % g.OW;
  const rs: number[] = [], qs: number[] = [];
  for (let kh = 0; kh < g.KH; kh++) {
    const ih = oh * g.sh - g.ph + kh;
    if (ih < 0 || ih >= g.H) continue;
    for (let kw = 0; kw < g.KW; kw++) {
      const iw = ow * g.sw - g.pw + kw;
      if (iw < 0 || iw >= g.W) continue;
      rs.push(kh * g.KW + kw); qs.push(ih * g.W + iw);
    }
  }
  return { rs, qs };
}

/** The (output position p, tap r) pairs that read input position q. */
function tapsOfInput(g: Geometry, q: number): { rs: number[]; ps: number[] } {
  const ih = Math.floor(q / g.W), iw = q % g.W;
  const rs: number[] = [], ps: number[] = [];
  for (let oh = 0; oh < g.OH; oh++) {
    const kh = ih - oh * g.sh + g.ph;
    if (kh < 0 || kh >= g.KH) continue;
    for (let ow = 0; ow < g.OW; ow++) {
      const kw = iw - ow * g.sw + g.pw;
      if (kw < 0 || kw >= g.KW) continue;
      rs.push(kh * g.KW + kw); ps.push(oh * g.OW + ow);
    }
  }
  return { rs, ps };
}

/**
 * The tables of a forward (or dx) pass: per position j its tap list gives S_j = rows·T_j reduction
 * terms; `offset(row, t)` is where term (row, t) reads the input and `weight(col, row, t)` its
 * coefficient. Positions with the same tap list (by kernel offsets) share one weight packing.
 */
function positionsPlan(positions: number, taps: (j: number) => { rs: number[]; at: number[] }, rows: number, K: number,
  offset: (row: number, at: number) => number, weight: (col: number, row: number, r: number) => number,
  oOff: (j: number) => number) {
  const lists = Array.from({ length: positions }, (_, j) => taps(j));
  const packOf = new Map<string, number>();
  let offLen = 0, wLen = 0;
  const pw = panelWidth(K), panels = Math.ceil(K / pw);
  const meta = new Int32Array(4 * positions);
  for (let j = 0; j < positions; j++) {
    const T = lists[j].rs.length, S = rows * T, key = lists[j].rs.join(',');
    let ws = packOf.get(key);
    if (ws === undefined) { ws = wLen; packOf.set(key, ws); wLen += panels * S * pw; }
    meta.set([oOff(j), S, offLen, ws], 4 * j);
    offLen += S;
  }
  const off = new Int32Array(offLen), Wp = new Float64Array(wLen);
  const packed = new Set<string>();
  for (let j = 0; j < positions; j++) {
    const { rs, at } = lists[j], T = rs.length, S = rows * T, o0 = meta[4 * j + 2], w0 = meta[4 * j + 3];
    for (let row = 0; row < rows; row++) for (let t = 0; t < T; t++) off[o0 + row * T + t] = offset(row, at[t]);
    const key = rs.join(',');
    if (packed.has(key)) continue;
    packed.add(key);
    for (let col = 0; col < K; col++) {
      const base = w0 + Math.floor(col / pw) * S * pw + (col % pw);
      for (let row = 0; row < rows; row++) for (let t = 0; t < T; t++) Wp[base + (row * T + t) * pw] = weight(col, row, rs[t]);
    }
  }
  return { off, Wp, meta };
}

const DUMMY = new Float64Array(1);
/** Columns per packed panel: 3 when that wastes nothing and 4 would (K = 9, 18, …), else 4. */
function panelWidth(K: number): number { return K % 4 !== 0 && K % 3 === 0 ? 3 : 4; }

function runPositions(out: FloatArray, inp: FloatArray, init: FloatArray | null, plan: { off: Int32Array; Wp: Float64Array; meta: Int32Array },
  positions: number, oRow: number, oCol: number, iRow: number, K: number, B: number, macs: number): void {
  const bufs = [out, inp, init ?? DUMMY, plan.off, plan.Wp, plan.meta];
  const ints = [positions, oRow, oCol, iRow, K, init ? 1 : 0, NB, panelWidth(K)];
  if (macs >= PARALLEL_MIN_MACS && getNumThreads() > 1 &&
    parallelRows('conv2d_positions', bufs, ints, B, 4, [true, false, false, false, false, false], false)) return;
  convPositionsRows(null, bufs, ints, 0, B);
}

// y [B, OC, OH, OW] = conv2d(x [B, C, H, W], w [OC, C, KH, KW]) + b [OC]
// outs = [y]; ins = [x, w] or [x, w, b] (hasBias); ints = [B, C, H, W, OC, KH, KW, OH, OW, sh, sw, ph, pw, hasBias]
//
//   y[n, k, oh, ow] = b[k] + Σ_c Σ_kh Σ_kw w[k, c, kh, kw] · x[n, c, oh·sh − ph + kh, ow·sw − pw + kw]
//   (terms whose input position falls outside the image are zero padding)
export function conv2dForward(y: FloatArray, x: FloatArray, w: FloatArray, b: FloatArray | null, ints: number[]): void {
  const g = geometry(ints);
  const P = g.OH * g.OW, HW = g.H * g.W, R = g.KH * g.KW;
  const plan = positionsPlan(P, (p) => { const t = tapsOfOutput(g, p); return { rs: t.rs, at: t.qs }; }, g.C, g.OC,
    (c, q) => c * HW + q, (k, c, r) => w[(k * g.C + c) * R + r], (p) => p);
  runPositions(y, x, g.hasBias ? b : null, plan, P, g.OC * P, P, g.C * HW, g.OC, g.B, g.B * g.OC * plan.off.length);
}

// dx [B, C, H, W] from gy [B, OC, OH, OW] and w [OC, C, KH, KW]
// outs = [dx]; ins = [gy, w]; ints as conv2d
//
//   dx[n, c, ih, iw] = Σ_k Σ_{(oh, ow, kh, kw): oh·sh − ph + kh = ih, ow·sw − pw + kw = iw} w[k, c, kh, kw] · gy[n, k, oh, ow]
export function conv2dBackwardInput(dx: FloatArray, gy: FloatArray, w: FloatArray, ints: number[]): void {
  const g = geometry(ints);
  const P = g.OH * g.OW, HW = g.H * g.W, R = g.KH * g.KW;
  const plan = positionsPlan(HW, (q) => { const t = tapsOfInput(g, q); return { rs: t.rs, at: t.ps }; }, g.OC, g.C,
    (k, p) => k * P + p, (c, k, r) => w[(k * g.C + c) * R + r], (q) => q);
  runPositions(dx, gy, null, plan, HW, g.C * HW, HW, g.OC * P, g.C, g.B, g.B * g.C * plan.off.length);
}

// dw [OC, C, KH, KW] (and db [OC] when hasBias) from gy [B, OC, OH, OW] and x [B, C, H, W]
// outs = [dw] or [dw, db]; ins = [gy, x]; ints as conv2d
//
//   dw[k, c, kh, kw] = Σ_n Σ_{(oh, ow) in bounds} gy[n, k, oh, ow] · x[n, c, oh·sh − ph + kh, ow·sw − pw + kw]
//   db[k]            = Σ_n Σ_{oh, ow} gy[n, k, oh, ow]
// Both sums run over n in increasing order whatever the thread count: deterministic.
export function conv2dBackwardWeight(dw: FloatArray, db: FloatArray | null, gy: FloatArray, x: FloatArray, ints: number[]): void {
  const g = geometry(ints);
  const P = g.OH * g.OW, HW = g.H * g.W, R = g.KH * g.KW, OCP = g.OC * P;
  // the (p, q) pairs of every tap r, concatenated by r
  const byR: { ps: number[]; qs: number[] }[] = Array.from({ length: R }, () => ({ ps: [], qs: [] }));
  for (let p = 0; p < P; p++) {
    const { rs, qs } = tapsOfOutput(g, p);
    for (let t = 0; t < rs.length; t++) { byR[rs[t]].ps.push(p); byR[rs[t]].qs.push(qs[t]); }
  }
  const meta = new Int32Array(2 * R);
  const pairP = new Int32Array(byR.reduce((s, e) => s + e.ps.length, 0)), pairQ = new Int32Array(pairP.length);
  let at = 0;
  byR.forEach((e, r) => { meta[2 * r] = e.ps.length; meta[2 * r + 1] = at; pairP.set(e.ps, at); pairQ.set(e.qs, at); at += e.ps.length; });
  const acc = new Float64Array(g.OC * g.C * R);
  const bufs = [acc, gy, x, pairP, pairQ, meta];
  const pw = panelWidth(g.OC);
  const wints = [g.B, g.OC, g.C, P, HW, R, NB, pw];
  const macs = g.B * g.OC * g.C * pairP.length;
  if (!(macs >= PARALLEL_MIN_MACS && g.OC >= 2 * pw && getNumThreads() > 1 &&
    parallelRows('conv2d_weight', bufs, wints, g.OC, pw, [true, false, false, false, false, false], false))) {
    convWeightRows(mainWeightWs, bufs, wints, 0, g.OC);
  }
  dw.set(acc);
  if (g.hasBias && db) {
    for (let k = 0; k < g.OC; k++) {
      let s = 0;
      for (let n = 0; n < g.B; n++) {
        const base = n * OCP + k * P;
        for (let p = 0; p < P; p++) s += gy[base + p];
      }
      db[k] = s;
    }
  }
}

registerCpuKernel('conv2d', ([y], [x, w, b], ints) => conv2dForward(y as FloatArray, x as FloatArray, w as FloatArray, (b ?? null) as FloatArray | null, ints));
registerCpuKernel('conv2d_backward_input', ([dx], [gy, w], ints) => conv2dBackwardInput(dx as FloatArray, gy as FloatArray, w as FloatArray, ints));
registerCpuKernel('conv2d_backward_weight', ([dw, db], [gy, x], ints) => conv2dBackwardWeight(dw as FloatArray, (db ?? null) as FloatArray | null, gy as FloatArray, x as FloatArray, ints));

// ---------------------------------------------------------------------------------------------
// Depthwise causal conv1d (Mamba's `conv1d`): groups = D, padding K − 1, first L outputs kept.
// It equals torch.nn.Conv1d(D, D, K, groups=D, padding=K-1)(x)[..., :L].
//
// y [B, D, L] from x [B, D, L], w [D, 1, K], b [D]
// outs = [y]; ins = [x, w] or [x, w, b]; ints = [B, D, L, K, hasBias]
//
//   y[n, d, t] = b[d] + Σ_{j<K, t+j−(K−1) ≥ 0} w[d, j] · x[n, d, t + j − (K − 1)]
// ---------------------------------------------------------------------------------------------
registerCpuKernel('conv1d_causal', ([y], [x, w, b], [B, D, L, K, hasBias]) => {
  const K1 = K - 1;
  for (let n = 0; n < B; n++) {
    for (let d = 0; d < D; d++) {
      const row = (n * D + d) * L, wb = d * K;
      const bias = hasBias ? b[d] : 0;
      for (let t = 0; t < L; t++) {
        let s = bias;
        const j0 = t < K1 ? K1 - t : 0;           // taps before the sequence start read padding
        for (let j = j0; j < K; j++) s += w[wb + j] * x[row + t + j - K1];
        y[row + t] = s;
      }
    }
  }
});

// The backward of conv1d_causal.
// outs = [dx [B, D, L], dw [D, 1, K], db [D]] (db is written even when there is no bias);
// ins = [gy [B, D, L], x [B, D, L], w [D, 1, K]]; ints = [B, D, L, K]
//
//   dx[n, d, u] = Σ_{j<K, u+(K−1)−j < L} w[d, j] · gy[n, d, u + (K − 1) − j]
//   dw[d, j]    = Σ_n Σ_{t: t+j−(K−1) ≥ 0} gy[n, d, t] · x[n, d, t + j − (K − 1)]
//   db[d]       = Σ_n Σ_t gy[n, d, t]
registerCpuKernel('conv1d_causal_backward', ([dx, dw, db], [gy, x, w], [B, D, L, K]) => {
  const K1 = K - 1;
  const accW = new Float64Array(K);
  for (let d = 0; d < D; d++) {
    accW.fill(0);
    let accB = 0;
    const wb = d * K;
    for (let n = 0; n < B; n++) {
      const row = (n * D + d) * L;
      for (let u = 0; u < L; u++) {
        let s = 0;
        const jMin = u + K1 - L + 1 > 0 ? u + K1 - L + 1 : 0;   // gy index past the end: no term
        for (let j = jMin; j < K; j++) s += w[wb + j] * gy[row + u + K1 - j];
        dx[row + u] = s;
      }
      for (let t = 0; t < L; t++) {
        const gv = gy[row + t];
        accB += gv;
        const j0 = t < K1 ? K1 - t : 0;
        for (let j = j0; j < K; j++) accW[j] += gv * x[row + t + j - K1];
      }
    }
    for (let j = 0; j < K; j++) dw[wb + j] = accW[j];
    db[d] = accB;
  }
});
