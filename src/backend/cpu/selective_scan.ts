/**
 * CPU kernels for Mamba-1's selective scan (CUDA-NOTES §5), real A only, in mamba-minimal's layout:
 * u, δ [B, L, D], B/C [B, L, N] (shared by every channel d), A [D, N], D_skip [D], δ_bias [D].
 *
 *   Δ_t      = softplus(δ_t + bias_d)   if deltaSoftplus (log1p(exp x) for x ≤ 20, else x: PyTorch /
 *              δ_t + bias_d             otherwise                           mamba's threshold)
 *   Ā_t,n    = exp(Δ_t · A_d,n)                       (ZOH for A)
 *   h_t,n    = Ā_t,n · h_{t−1},n + Δ_t · B_t,n · u_t   (Euler for B; h_{−1} = 0)
 *   y_t      = Σ_n C_t,n · h_t,n + D_d · u_t
 *
 * Backward, with g_t = dy_t (CUDA-NOTES §5.2; the decay in the reverse recurrence is the NEXT step's):
 *
 *   dh_t,n   = C_t,n · g_t + Ā_{t+1},n · dh_{t+1},n         (dh_L = 0: a reverse scan)
 *   dC_t,n  += g_t · h_t,n                                   (Σ over d)
 *   dB_t,n  += dh_t,n · Δ_t · u_t                            (Σ over d)
 *   du_t     = D_d · g_t + Σ_n dh_t,n · Δ_t · B_t,n
 *   dΔ_t     = Σ_n dh_t,n · (B_t,n · u_t + A_d,n · Ā_t,n · h_{t−1},n)
 *   dA_d,n  += dh_t,n · Δ_t · Ā_t,n · h_{t−1},n               (Σ over b, t)
 *   dD_d    += g_t · u_t                                     (Σ over b, t)
 *   dδ_t     = dΔ_t · σ(δ_t + bias_d) if deltaSoftplus (· 1 above 20), else dΔ_t;  dbias_d += dδ_t
 *
 * Two implementations with one signature:
 *  - sequential ('selective_scan_forward' / '_backward'): the readable reference, a loop over t per
 *    (b, d) exactly as above; the backward recomputes the states of one (b, d) row into an [L, N]
 *    scratch (never the whole (B, L, D, N) tensor) and then runs the reverse loop.
 *  - chunked ('selective_scan_chunked_forward' / '_backward'): time in chunks of Tc steps (a power
 *    of two). Each step is the affine map h ↦ a·h + c with (a, c) = (Ā_t, Δ_t·B_t·u_t); inside a
 *    chunk an inclusive Blelloch scan (up-sweep + down-sweep, mamba.py's pscan) composes the pairs
 *    with (a₁, c₁)∘(a₀, c₀) = (a₁·a₀, a₁·c₀ + c₁) for all N states at once, and the state carried
 *    from the previous chunk enters as h_t = c_t + a_t·h_start. The forward saves only h_start of
 *    every chunk; the backward walks chunks last → first, recomputes the chunk's Ā and states from
 *    its h_start (a direct pass of ≤ Tc steps: cheaper than the scan on a CPU; a GPU may rerun the
 *    forward's scan), runs the reverse recurrence as a Blelloch scan over the time-reversed pairs
 *    (Ā_{t+1}, C_t·g_t) seeded with the carry Ā·dh from the next chunk, then accumulates the
 *    gradients of every step of the chunk (independent of each other).
 *
 * ---------------------------------------------------------------------------------------------
 * Kernel 'selective_scan_forward'
 *   ins  = [u [B,L,D], delta [B,L,D], A [D,N], Bm [B,L,N], Cm [B,L,N], Dskip [D], deltaBias [D]]
 *   outs = [y [B,L,D]]
 *   ints = [B, L, D, N, deltaSoftplus (0/1)]
 * Kernel 'selective_scan_backward'
 *   ins  = [dy [B,L,D], u, delta, A, Bm, Cm, Dskip, deltaBias]
 *   outs = [du [B,L,D], ddelta [B,L,D], dA [D,N], dBm [B,L,N], dCm [B,L,N], dDskip [D], ddeltaBias [D]]
 *   ints = [B, L, D, N, deltaSoftplus]
 * Kernel 'selective_scan_chunked_forward'
 *   ins  = as 'selective_scan_forward'
 *   outs = [y [B,L,D], hStart [B, D, nChunks, N]]   (the state entering each chunk; chunk 0: zeros)
 *   ints = [B, L, D, N, deltaSoftplus, Tc]           (Tc a power of two; nChunks = ⌈L / Tc⌉)
 * Kernel 'selective_scan_chunked_backward'
 *   ins  = [dy, u, delta, A, Bm, Cm, Dskip, deltaBias, hStart]
 *   outs = as 'selective_scan_backward'
 *   ints = [B, L, D, N, deltaSoftplus, Tc]
 * Dskip / deltaBias absent: the op passes zeros. float32 or float64 (one dtype); all arithmetic
 * and every per-row accumulator in float64; dBm/dCm (sums over d) accumulate in the output.
 * ---------------------------------------------------------------------------------------------
 *
 * The chunked kernels split the batch over the worker threads (threads.ts): rows are batch
 * indices, and dA/dD/dbias (sums over b) go to per-b partial rows that the main thread adds up.
 * Their functions (`ssChunkFwdTask` … `ssSoftplus`) are shipped to the workers as source text:
 * self-contained, no imports or module-level bindings.
 */
import { registerCpuKernel } from './device.js';
import type { FloatArray, TypedArray } from '../../dtype.js';
import { allocTyped } from '../../dtype.js';
import { registerWorkerTask, parallelRows, getNumThreads } from './threads.js';

/** Δ from the raw δ + bias: softplus with PyTorch's / mamba's threshold 20, or the identity. */
export function ssSoftplus(x: number, on: number): number {
  return on ? (x <= 20 ? Math.log1p(Math.exp(x)) : x) : x;
}
/** dδ from dΔ: times softplus'(x) = σ(x) (1 above the threshold), or the identity. */
export function ssSoftplusGrad(g: number, x: number, on: number): number {
  return on ? (x <= 20 ? g / (1 + Math.exp(-x)) : g) : g;
}

// =============================================================================================
// Sequential reference (mamba-minimal / selective_scan_ref)
// =============================================================================================
export function selectiveScanSeqForward(y: FloatArray, u: FloatArray, delta: FloatArray, A: FloatArray, Bm: FloatArray,
  Cm: FloatArray, Dskip: FloatArray, dBias: FloatArray, B: number, L: number, D: number, N: number, softplus: number): void {
  const h = new Float64Array(N);
  for (let b = 0; b < B; b++) {
    for (let d = 0; d < D; d++) {
      h.fill(0);
      for (let t = 0; t < L; t++) {
        const i = (b * L + t) * D + d, bc = (b * L + t) * N;
        const dt = ssSoftplus(delta[i] + dBias[d], softplus), ut = u[i];
        let yt = 0;
        for (let n = 0; n < N; n++) {
          h[n] = Math.exp(dt * A[d * N + n]) * h[n] + dt * Bm[bc + n] * ut;
          yt += Cm[bc + n] * h[n];
        }
        y[i] = yt + Dskip[d] * ut;
      }
    }
  }
}

export function selectiveScanSeqBackward(du: FloatArray, ddelta: FloatArray, dA: FloatArray, dBm: FloatArray, dCm: FloatArray,
  dDskip: FloatArray, dBiasOut: FloatArray, dy: FloatArray, u: FloatArray, delta: FloatArray, A: FloatArray, Bm: FloatArray,
  Cm: FloatArray, Dskip: FloatArray, dBias: FloatArray, B: number, L: number, D: number, N: number, softplus: number): void {
  const hs = new Float64Array(L * N);      // h_t of one (b, d) row, recomputed
  const as = new Float64Array(L * N);      // Ā_t of that row
  const dts = new Float64Array(L);         // Δ_t of that row
  const dh = new Float64Array(N);          // the carry Ā_{t+1} · dh_{t+1}
  const dAd = new Float64Array(D * N), dDd = new Float64Array(D), dbd = new Float64Array(D);
  dBm.fill(0); dCm.fill(0);
  for (let b = 0; b < B; b++) {
    for (let d = 0; d < D; d++) {
      // 1. recompute the forward states of this row
      for (let t = 0; t < L; t++) {
        const i = (b * L + t) * D + d, bc = (b * L + t) * N;
        const dt = ssSoftplus(delta[i] + dBias[d], softplus), ut = u[i];
        dts[t] = dt;
        for (let n = 0; n < N; n++) {
          const a = Math.exp(dt * A[d * N + n]);
          const hp = t > 0 ? hs[(t - 1) * N + n] : 0;
          as[t * N + n] = a;
          hs[t * N + n] = a * hp + dt * Bm[bc + n] * ut;
        }
      }
      // 2. the reverse recurrence and the gradients of every step
      dh.fill(0);
      for (let t = L - 1; t >= 0; t--) {
        const i = (b * L + t) * D + d, bc = (b * L + t) * N;
        const g = dy[i], ut = u[i], dt = dts[t];
        dDd[d] += g * ut;
        let dut = Dskip[d] * g, ddt = 0;
        for (let n = 0; n < N; n++) {
          const dhn = dh[n] + Cm[bc + n] * g;
          const a = as[t * N + n], hp = t > 0 ? hs[(t - 1) * N + n] : 0, bn = Bm[bc + n];
          dCm[bc + n] += g * hs[t * N + n];
          dBm[bc + n] += dhn * dt * ut;
          dut += dhn * dt * bn;
          ddt += dhn * (bn * ut + A[d * N + n] * a * hp);
          dAd[d * N + n] += dhn * dt * a * hp;
          dh[n] = a * dhn;
        }
        const dx = ssSoftplusGrad(ddt, delta[i] + dBias[d], softplus);
        du[i] = dut;
        ddelta[i] = dx;
        dbd[d] += dx;
      }
    }
  }
  dA.set(dAd); dDskip.set(dDd); dBiasOut.set(dbd);
}

registerCpuKernel('selective_scan_forward', ([y], [u, delta, A, Bm, Cm, Ds, dBias], [B, L, D, N, sp]) =>
  selectiveScanSeqForward(y as FloatArray, u as FloatArray, delta as FloatArray, A as FloatArray, Bm as FloatArray, Cm as FloatArray,
    Ds as FloatArray, dBias as FloatArray, B, L, D, N, sp));
registerCpuKernel('selective_scan_backward', ([du, ddelta, dA, dBm, dCm, dDs, ddb], [dy, u, delta, A, Bm, Cm, Ds, dBias], [B, L, D, N, sp]) =>
  selectiveScanSeqBackward(du as FloatArray, ddelta as FloatArray, dA as FloatArray, dBm as FloatArray, dCm as FloatArray,
    dDs as FloatArray, ddb as FloatArray, dy as FloatArray, u as FloatArray, delta as FloatArray, A as FloatArray, Bm as FloatArray,
    Cm as FloatArray, Ds as FloatArray, dBias as FloatArray, B, L, D, N, sp));

// =============================================================================================
// Chunked / parallel-prefix version
// =============================================================================================

/**
 * Inclusive scan, in place, of T pairs (a_τ, c_τ) for N independent lanes (a[τ·N + n]) under
 * (a₁, c₁)∘(a₀, c₀) = (a₁·a₀, a₁·c₀ + c₁). Blelloch's tree made inclusive (mamba.py's pscan):
 * the up-sweep leaves complete prefixes at positions 2^k·m − 1, the down-sweep fills the rest.
 * T must be a power of two (pad with the identity (1, 0)). Each level's combines are independent:
 * on a GPU one level is one parallel step.
 */
export function ssScanPairs(a: Float64Array, c: Float64Array, T: number, N: number): void {
  for (let s = 1; s < T; s *= 2) {                     // up-sweep: i absorbs i − s
    for (let i = 2 * s - 1; i < T; i += 2 * s) {
      const l = (i - s) * N, r = i * N;
      for (let n = 0; n < N; n++) { c[r + n] += a[r + n] * c[l + n]; a[r + n] *= a[l + n]; }
    }
  }
  for (let s = T / 4; s >= 1; s /= 2) {                // down-sweep: i absorbs the complete i − s
    for (let i = 3 * s - 1; i < T; i += 2 * s) {
      const l = (i - s) * N, r = i * N;
      for (let n = 0; n < N; n++) { c[r + n] += a[r + n] * c[l + n]; a[r + n] *= a[l + n]; }
    }
  }
}

/** Per-thread scratch of the chunked kernels ([Tc, N] pair arrays, per-row accumulators). */
export interface ScanWorkspace {
  pa: Float64Array; pc: Float64Array; ab: Float64Array; ra: Float64Array; rc: Float64Array;
  dts: Float64Array; h: Float64Array; carry: Float64Array; dAd: Float64Array;
}
export function newScanWorkspace(): ScanWorkspace {
  const z = new Float64Array(0);
  return { pa: z, pc: z, ab: z, ra: z, rc: z, dts: z, h: z, carry: z, dAd: z };
}
export function ssEnsureWorkspace(ws: ScanWorkspace, Tc: number, N: number): void {
  if (ws.pa.length < Tc * N) {
    ws.pa = new Float64Array(Tc * N); ws.pc = new Float64Array(Tc * N); ws.ab = new Float64Array(Tc * N);
    ws.ra = new Float64Array(Tc * N); ws.rc = new Float64Array(Tc * N);
  }
  if (ws.dts.length < Tc) ws.dts = new Float64Array(Tc);
  if (ws.h.length < N) { ws.h = new Float64Array(N); ws.carry = new Float64Array(N); ws.dAd = new Float64Array(N); }
}

/** Chunked forward for the batch rows b ∈ [b0, b1). */
export function ssChunkForward(ws: ScanWorkspace, y: FloatArray, hStart: FloatArray, u: FloatArray, delta: FloatArray, A: FloatArray,
  Bm: FloatArray, Cm: FloatArray, Dskip: FloatArray, dBias: FloatArray,
  L: number, D: number, N: number, softplus: number, Tc: number, b0: number, b1: number): void {
  ssEnsureWorkspace(ws, Tc, N);
  const pa = ws.pa, pc = ws.pc, h = ws.h;
  const nC = Math.ceil(L / Tc);
  for (let b = b0; b < b1; b++) {
    for (let d = 0; d < D; d++) {
      for (let n = 0; n < N; n++) h[n] = 0;
      for (let ch = 0; ch < nC; ch++) {
        const t0 = ch * Tc, len = Math.min(Tc, L - t0);
        const hso = ((b * D + d) * nC + ch) * N;
        for (let n = 0; n < N; n++) hStart[hso + n] = h[n];
        // the pairs (Ā_t, Δ_t·B_t·u_t) of the chunk; identity (1, 0) past its end
        for (let tau = 0; tau < len; tau++) {
          const i = (b * L + t0 + tau) * D + d, bc = (b * L + t0 + tau) * N;
          const dt = ssSoftplus(delta[i] + dBias[d], softplus), du = dt * u[i];
          for (let n = 0; n < N; n++) { pa[tau * N + n] = Math.exp(dt * A[d * N + n]); pc[tau * N + n] = du * Bm[bc + n]; }
        }
        for (let k = len * N; k < Tc * N; k++) { pa[k] = 1; pc[k] = 0; }
        ssScanPairs(pa, pc, Tc, N);
        // h_t = c_t + a_t · h_start;  y_t = C_t · h_t + D·u_t
        for (let tau = 0; tau < len; tau++) {
          const i = (b * L + t0 + tau) * D + d, bc = (b * L + t0 + tau) * N;
          let yt = 0;
          for (let n = 0; n < N; n++) yt += Cm[bc + n] * (pc[tau * N + n] + pa[tau * N + n] * h[n]);
          y[i] = yt + Dskip[d] * u[i];
        }
        const last = (len - 1) * N;
        for (let n = 0; n < N; n++) h[n] = pc[last + n] + pa[last + n] * h[n];
      }
    }
  }
}

/**
 * Chunked backward for the batch rows b ∈ [b0, b1). dA/dDskip/ddeltaBias of row b go to
 * offset b·sA / b·sD (sA = sD = 0: one accumulator for all rows; else per-row partials);
 * dBm/dCm rows of b are accumulated (+=). Every output must start at zero.
 */
export function ssChunkBackward(ws: ScanWorkspace, du: FloatArray, ddelta: FloatArray, dA: FloatArray, dBm: FloatArray, dCm: FloatArray,
  dDskip: FloatArray, dBiasOut: FloatArray, sA: number, sD: number,
  dy: FloatArray, u: FloatArray, delta: FloatArray, A: FloatArray, Bm: FloatArray, Cm: FloatArray, Dskip: FloatArray, dBias: FloatArray,
  hStart: FloatArray, L: number, D: number, N: number, softplus: number, Tc: number, b0: number, b1: number): void {
  ssEnsureWorkspace(ws, Tc, N);
  const hs = ws.pc, ab = ws.ab, ra = ws.ra, rc = ws.rc, dts = ws.dts, h0 = ws.h, carry = ws.carry, dAd = ws.dAd;
  const nC = Math.ceil(L / Tc);
  for (let b = b0; b < b1; b++) {
    for (let d = 0; d < D; d++) {
      for (let n = 0; n < N; n++) { carry[n] = 0; dAd[n] = 0; }
      let dDd = 0, dbd = 0;
      for (let ch = nC - 1; ch >= 0; ch--) {
        const t0 = ch * Tc, len = Math.min(Tc, L - t0);
        const hso = ((b * D + d) * nC + ch) * N;
        for (let n = 0; n < N; n++) h0[n] = hStart[hso + n];
        // 1. recompute the chunk's Δ, Ā and states h_τ (into hs) from its saved h_start: ≤ Tc steps of
        //    h = Ā·h + Δ·B·u (the forward's scan would give the same h; this pass is cheaper on a CPU)
        for (let tau = 0; tau < len; tau++) {
          const i = (b * L + t0 + tau) * D + d, bc = (b * L + t0 + tau) * N;
          const dt = ssSoftplus(delta[i] + dBias[d], softplus), dut = dt * u[i];
          dts[tau] = dt;
          const ho = tau * N, hpo = (tau - 1) * N;
          for (let n = 0; n < N; n++) {
            const a = Math.exp(dt * A[d * N + n]);
            ab[ho + n] = a;
            hs[ho + n] = a * (tau > 0 ? hs[hpo + n] : h0[n]) + dut * Bm[bc + n];
          }
        }
        // 2. reverse recurrence as a scan over r = len−1−τ of (Ā_{τ+1}, C_τ·g_τ); r = 0 has a = 1 and
        //    the carry Ā·dh from the next chunk enters as the initial state: dh_τ = rc_r + ra_r·carry
        for (let r = 0; r < len; r++) {
          const tau = len - 1 - r, i = (b * L + t0 + tau) * D + d, bc = (b * L + t0 + tau) * N;
          const g = dy[i];
          for (let n = 0; n < N; n++) { ra[r * N + n] = r === 0 ? 1 : ab[(tau + 1) * N + n]; rc[r * N + n] = Cm[bc + n] * g; }
        }
        for (let k = len * N; k < Tc * N; k++) { ra[k] = 1; rc[k] = 0; }
        ssScanPairs(ra, rc, Tc, N);
        // 3. the gradients of every step of the chunk (independent of each other)
        for (let tau = 0; tau < len; tau++) {
          const r = len - 1 - tau, i = (b * L + t0 + tau) * D + d, bc = (b * L + t0 + tau) * N;
          const g = dy[i], ut = u[i], dt = dts[tau];
          dDd += g * ut;
          let dut = Dskip[d] * g, ddt = 0;
          for (let n = 0; n < N; n++) {
            const dhn = rc[r * N + n] + ra[r * N + n] * carry[n];
            const a = ab[tau * N + n], hp = tau > 0 ? hs[(tau - 1) * N + n] : h0[n], bn = Bm[bc + n];
            dCm[bc + n] += g * hs[tau * N + n];
            dBm[bc + n] += dhn * dt * ut;
            dut += dhn * dt * bn;
            ddt += dhn * (bn * ut + A[d * N + n] * a * hp);
            dAd[n] += dhn * dt * a * hp;
          }
          const dx = ssSoftplusGrad(ddt, delta[i] + dBias[d], softplus);
          du[i] = dut;
          ddelta[i] = dx;
          dbd += dx;
        }
        // 4. carry into the previous chunk: Ā_{t0} · dh_{t0}
        const r0 = (len - 1) * N;
        for (let n = 0; n < N; n++) carry[n] = ab[n] * (rc[r0 + n] + ra[r0 + n] * carry[n]);
      }
      for (let n = 0; n < N; n++) dA[b * sA + d * N + n] += dAd[n];
      dDskip[b * sD + d] += dDd;
      dBiasOut[b * sD + d] += dbd;
    }
  }
}

// ---- thread tasks: all inputs travel packed in one buffer, all outputs in another -----------
// ints = [B, L, D, N, softplus, Tc, nIns, ...inOffsets (nIns + 1), nOuts, ...outOffsets (nOuts + 1)]

/** Views of a packed buffer: part k = buf[offs[k], offs[k + 1]). */
export function ssUnpack(buf: TypedArray, ints: readonly number[], at: number): FloatArray[] {
  const n = ints[at], parts: FloatArray[] = [];
  for (let k = 0; k < n; k++) parts.push(buf.subarray(ints[at + 1 + k], ints[at + 2 + k]) as FloatArray);
  return parts;
}

export function ssChunkFwdTask(ws: ScanWorkspace, bufs: TypedArray[], ints: readonly number[], r0: number, r1: number): void {
  const ins = ssUnpack(bufs[1], ints, 6);
  const outs = ssUnpack(bufs[0], ints, 7 + ints[6] + 1);
  ssChunkForward(ws, outs[0], outs[1], ins[0], ins[1], ins[2], ins[3], ins[4], ins[5], ins[6],
    ints[1], ints[2], ints[3], ints[4], ints[5], r0, r1);
}

export function ssChunkBwdTask(ws: ScanWorkspace, bufs: TypedArray[], ints: readonly number[], r0: number, r1: number): void {
  const ins = ssUnpack(bufs[1], ints, 6);
  const o = ssUnpack(bufs[0], ints, 7 + ints[6] + 1);
  const D = ints[2], N = ints[3];
  ssChunkBackward(ws, o[0], o[1], o[2], o[3], o[4], o[5], o[6], D * N, D,
    ins[0], ins[1], ins[2], ins[3], ins[4], ins[5], ins[6], ins[7], ins[8],
    ints[1], D, N, ints[4], ints[5], r0, r1);
}

registerWorkerTask('selective_scan_chunked_forward', [ssChunkFwdTask, ssUnpack, ssChunkForward, ssScanPairs, ssEnsureWorkspace, ssSoftplus], newScanWorkspace);
registerWorkerTask('selective_scan_chunked_backward', [ssChunkBwdTask, ssUnpack, ssChunkBackward, ssScanPairs, ssEnsureWorkspace, ssSoftplus, ssSoftplusGrad], newScanWorkspace);

const mainWs = newScanWorkspace();
/** Below this many state updates (B·L·D·N) the packing and hand-off are not worth it. */
const PARALLEL_MIN_STATES = 1 << 18;

function offsetsOf(lengths: number[]): number[] {
  const offs = [0];
  for (const n of lengths) offs.push(offs[offs.length - 1] + n);
  return offs;
}
function pack(parts: TypedArray[], offs: number[], like: TypedArray): TypedArray {
  const buf = allocTyped(like instanceof Float32Array ? 'float32' : 'float64', offs[offs.length - 1]);
  parts.forEach((p, k) => buf.set(p, offs[k]));
  return buf;
}

/**
 * Runs a chunked task over the batch rows on the worker threads, all inputs packed in one buffer
 * and all outputs (of the given lengths) in another, zero-filled. Returns the output pack, or
 * null when it is not worth it or the pool declines (then the caller runs single-threaded).
 */
function runPacked(task: string, outLengths: number[], ins: TypedArray[], ints: number[]): TypedArray | null {
  const [B, L, D, N] = ints;
  if (B < 2 || getNumThreads() < 2 || B * L * D * N < PARALLEL_MIN_STATES) return null;
  const inOffs = offsetsOf(ins.map((a) => a.length)), outOffs = offsetsOf(outLengths);
  const inPack = pack(ins, inOffs, ins[0]);
  const outPack = allocTyped(ins[0] instanceof Float32Array ? 'float32' : 'float64', outOffs[outOffs.length - 1]);
  const ints2 = [...ints, ins.length, ...inOffs, outLengths.length, ...outOffs];
  // readsOutputs = true: the tasks accumulate (+=) into their outputs, so the scratch must start
  // from outPack's zeros, not from the previous call's sums left in the pool's reused scratch
  if (!parallelRows(task, [outPack, inPack], ints2, B, 1, [true, false], true)) return null;
  return outPack;
}

registerCpuKernel('selective_scan_chunked_forward', ([y, hStart], ins, ints) => {
  const [B, L, D, N, sp, Tc] = ints;
  const [u, delta, A, Bm, Cm, Ds, dBias] = ins as FloatArray[];
  const packed = runPacked('selective_scan_chunked_forward', [y.length, hStart.length], ins, ints);
  if (packed) { y.set(packed.subarray(0, y.length)); hStart.set(packed.subarray(y.length, y.length + hStart.length)); return; }
  ssChunkForward(mainWs, y as FloatArray, hStart as FloatArray, u, delta, A, Bm, Cm, Ds, dBias, L, D, N, sp, Tc, 0, B);
});

registerCpuKernel('selective_scan_chunked_backward', ([du, ddelta, dA, dBm, dCm, dDs, ddb], ins, ints) => {
  const [B, L, D, N, sp, Tc] = ints;
  const [dy, u, delta, A, Bm, Cm, Ds, dBias, hStart] = ins as FloatArray[];
  // threaded: dA / dD / dbias go to per-batch partial rows [B, D·N] / [B, D], summed here
  const outLengths = [du.length, ddelta.length, B * D * N, dBm.length, dCm.length, B * D, B * D];
  const packed = runPacked('selective_scan_chunked_backward', outLengths, ins, ints);
  if (packed) {
    const offs = offsetsOf(outLengths);
    du.set(packed.subarray(offs[0], offs[1])); ddelta.set(packed.subarray(offs[1], offs[2]));
    dBm.set(packed.subarray(offs[3], offs[4])); dCm.set(packed.subarray(offs[4], offs[5]));
    const pA = packed.subarray(offs[2], offs[3]), pD = packed.subarray(offs[5], offs[6]), pb = packed.subarray(offs[6], offs[7]);
    const sA = new Float64Array(D * N), sD = new Float64Array(D), sb = new Float64Array(D);
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < D * N; k++) sA[k] += pA[b * D * N + k];
      for (let k = 0; k < D; k++) { sD[k] += pD[b * D + k]; sb[k] += pb[b * D + k]; }
    }
    dA.set(sA); dDs.set(sD); ddb.set(sb);
    return;
  }
  // one thread: dA / dD / dbias accumulate over b in float64, then are stored once
  const sA = new Float64Array(D * N), sD = new Float64Array(D), sb = new Float64Array(D);
  dBm.fill(0); dCm.fill(0);
  ssChunkBackward(mainWs, du as FloatArray, ddelta as FloatArray, sA, dBm as FloatArray, dCm as FloatArray,
    sD, sb, 0, 0, dy, u, delta, A, Bm, Cm, Ds, dBias, hStart, L, D, N, sp, Tc, 0, B);
  dA.set(sA); dDs.set(sD); ddb.set(sb);
});
