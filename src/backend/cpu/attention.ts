/**
 * CPU kernels for scaled dot-product attention, materialised (llm.c's fp32 structure, the v1 of
 * CUDA-NOTES §4.5): batched GEMM for Q·Kᵀ, a row softmax with the causal mask, batched GEMM for
 * P·V; the backward is four batched GEMMs around the softmax backward. The GEMMs are the 'matmul'
 * kernel's CPU function (matmulCpu: packed, register-tiled, split over the worker threads).
 *
 * Per (batch·head) slice, with i a query row and j a key row:
 *
 *   S[i, j]  = scale · q_i · k_j            (−∞ where causal and j > i: top-left aligned mask,
 *                                             PyTorch's is_causal; row i always keeps j = 0)
 *   P[i, :]  = softmax(S[i, :])             (masked entries are exactly 0)
 *   P̃[i, j]  = P[i, j] · m_ij / (1 − p)      dropout on the probabilities (p > 0 only), with
 *                                             m_ij = [hashUniform(seed, (bh·Lq + i)·Lk + j) ≥ p],
 *                                             the 'dropout' kernel's mask on the [BH, Lq, Lk] tensor
 *   out[i]   = Σ_j P̃[i, j] · v_j
 *
 * Backward, given dO:
 *
 *   dV   = P̃ᵀ · dO                dP̃ = dO · Vᵀ           dP = dP̃ ⊙ m / (1 − p)
 *   dS[i, j] = scale · P[i, j] · (dP[i, j] − Σ_l P[i, l] · dP[i, l])      (0 where masked)
 *   dQ   = dS · K                 dK = dSᵀ · Q
 *
 * ---------------------------------------------------------------------------------------------
 * Kernel 'attention_forward'
 *   ins  = [q [BH, Lq, Dh], k [BH, Lk, Dh], v [BH, Lk, Dh]]
 *   outs = [out [BH, Lq, Dh], att [BH, Lq, Lk]]   att = P (before dropout), saved for backward
 *   ints = [BH, Lq, Lk, Dh, causal (0/1), seed (uint32 as its int32 bit pattern)]
 *   floats = [scale, p (dropout probability; 0 = none)]
 * Kernel 'attention_backward'
 *   ins  = [dout [BH, Lq, Dh], q, k, v, att]
 *   outs = [dq [BH, Lq, Dh], dk [BH, Lk, Dh], dv [BH, Lk, Dh]]
 *   ints, floats = as the forward (the same seed re-derives the dropout mask)
 * float32 or float64; the GEMMs accumulate in float64, the softmax runs in float64 per row.
 * Scratch (not tensors): one [BH, Lq, Lk] array for P̃ (only when p > 0) and one for dP.
 * ---------------------------------------------------------------------------------------------
 */
import { registerCpuKernel } from './device.js';
import type { FloatArray } from '../../dtype.js';
import { allocTyped } from '../../dtype.js';
import { splitmix32 } from '../../util/rng.js';
import { matmulCpu } from './matmul.js';

const dtypeOfArr = (a: FloatArray) => (a instanceof Float32Array ? 'float32' : 'float64');

/** P̃ = P ⊙ m / (1 − p) (the dropout kernel's mask over the flat [BH, Lq, Lk] index). */
function dropoutProbs(pd: FloatArray, att: FloatArray, seed: number, p: number): void {
  const scale = p < 1 ? 1 / (1 - p) : 0;
  const hs = splitmix32(seed >>> 0);
  for (let i = 0; i < att.length; i++) {
    const u = splitmix32((Math.imul(i, 0x27d4eb2d) ^ hs) >>> 0) / 4294967296;
    pd[i] = u >= p ? att[i] * scale : 0;
  }
}

export function attentionForward(out: FloatArray, att: FloatArray, q: FloatArray, k: FloatArray, v: FloatArray,
  ints: readonly number[], floats: readonly number[]): void {
  const [BH, Lq, Lk, Dh, causal, seed] = ints;
  const [scale, p] = floats;
  // att[bh] = q[bh] · k[bh]ᵀ      [Lq, Dh]·[Dh, Lk]
  matmulCpu(att, q, k, [BH, Lq, Dh, Lk, 0, 1, Lq * Dh, Lk * Dh, 0]);
  // row softmax of scale·S with the causal mask
  for (let r = 0; r < BH * Lq; r++) {
    const i = r % Lq, o = r * Lk;
    const jEnd = causal ? Math.min(i + 1, Lk) : Lk;    // keys j < jEnd are visible
    let m = -Infinity;
    for (let j = 0; j < Lk; j++) {
      const s = j < jEnd ? scale * att[o + j] : -Infinity;
      if (s > m) m = s;
    }
    let sum = 0;
    for (let j = 0; j < jEnd; j++) { const e = Math.exp(scale * att[o + j] - m); att[o + j] = e; sum += e; }
    const inv = 1 / sum;
    for (let j = 0; j < jEnd; j++) att[o + j] *= inv;
    for (let j = jEnd; j < Lk; j++) att[o + j] = 0;   // exp(−∞ − m) = 0
  }
  let pd = att;
  if (p > 0) { pd = allocTyped(dtypeOfArr(att), att.length) as FloatArray; dropoutProbs(pd, att, seed, p); }
  // out[bh] = P̃[bh] · v[bh]      [Lq, Lk]·[Lk, Dh]
  matmulCpu(out, pd, v, [BH, Lq, Lk, Dh, 0, 0, Lq * Lk, Lk * Dh, 0]);
}

export function attentionBackward(dq: FloatArray, dk: FloatArray, dv: FloatArray, dout: FloatArray, q: FloatArray, k: FloatArray,
  v: FloatArray, att: FloatArray, ints: readonly number[], floats: readonly number[]): void {
  const [BH, Lq, Lk, Dh, causal, seed] = ints;
  const [scale, p] = floats;
  let pd = att;
  if (p > 0) { pd = allocTyped(dtypeOfArr(att), att.length) as FloatArray; dropoutProbs(pd, att, seed, p); }
  // dV[bh] = P̃[bh]ᵀ · dO[bh]      [Lk, Lq]·[Lq, Dh]
  matmulCpu(dv, pd, dout, [BH, Lk, Lq, Dh, 1, 0, Lq * Lk, Lq * Dh, 0]);
  // dP̃[bh] = dO[bh] · V[bh]ᵀ     [Lq, Dh]·[Dh, Lk]
  const dP = allocTyped(dtypeOfArr(att), att.length) as FloatArray;
  matmulCpu(dP, dout, v, [BH, Lq, Dh, Lk, 0, 1, Lq * Dh, Lk * Dh, 0]);
  if (p > 0) dropoutProbs(dP, dP, seed, p);           // dP = dP̃ ⊙ m / (1 − p)
  // dS = scale · P ⊙ (dP − rowsum(P ⊙ dP)), in place in dP; exactly 0 where masked
  for (let r = 0; r < BH * Lq; r++) {
    const i = r % Lq, o = r * Lk;
    const jEnd = causal ? Math.min(i + 1, Lk) : Lk;
    let dot = 0;
    for (let j = 0; j < jEnd; j++) dot += att[o + j] * dP[o + j];
    for (let j = 0; j < jEnd; j++) dP[o + j] = scale * att[o + j] * (dP[o + j] - dot);
    for (let j = jEnd; j < Lk; j++) dP[o + j] = 0;
  }
  // dQ[bh] = dS[bh] · K[bh]        [Lq, Lk]·[Lk, Dh]
  matmulCpu(dq, dP, k, [BH, Lq, Lk, Dh, 0, 0, Lq * Lk, Lk * Dh, 0]);
  // dK[bh] = dS[bh]ᵀ · Q[bh]       [Lk, Lq]·[Lq, Dh]
  matmulCpu(dk, dP, q, [BH, Lk, Lq, Dh, 1, 0, Lq * Lk, Lq * Dh, 0]);
}

registerCpuKernel('attention_forward', ([out, att], [q, k, v], ints, floats) =>
  attentionForward(out as FloatArray, att as FloatArray, q as FloatArray, k as FloatArray, v as FloatArray, ints, floats));
registerCpuKernel('attention_backward', ([dq, dk, dv], [dout, q, k, v, att], ints, floats) =>
  attentionBackward(dq as FloatArray, dk as FloatArray, dv as FloatArray, dout as FloatArray, q as FloatArray, k as FloatArray,
    v as FloatArray, att as FloatArray, ints, floats));
