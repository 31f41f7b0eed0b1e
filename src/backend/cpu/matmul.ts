/**
 * CPU matmul: the readable reference (matmulNaive, a plain triple loop) and the fast path
 * (packed Float64 panels, a 4×4 register-tiled micro-kernel, cache blocking), optionally split
 * over worker threads (threads.ts).
 *
 * ---------------------------------------------------------------------------------------------
 * Kernel 'matmul' (the same convention on every device):
 *   outs = [C], ins = [A, B], floats = []
 *   ints = [batch, M, K, N, transA, transB, strideA, strideB, accumulate]
 *
 *   for each b < batch:
 *     C[b] (M×N, contiguous, batch stride M·N) = op(A)[b] · op(B)[b]  (+ C[b] if accumulate = 1)
 *   op(A)[b] starts at element A + b·strideA (strideA = 0: the same A for every b) and is stored
 *     [M, K] row-major if transA = 0, or [K, M] row-major (and used transposed) if transA = 1;
 *   op(B)[b] starts at element B + b·strideB and is stored [K, N] row-major if transB = 0, or
 *     [N, K] row-major (used transposed) if transB = 1.
 *   float32 and float64 (C, A and B of one dtype).
 * ---------------------------------------------------------------------------------------------
 *
 * The fast path works on a range of the flattened output rows r ∈ [r0, r1) of (batch·M) so that
 * threads can split any batched GEMM by rows. It GotoBLAS-style blocks N by NC, K by KC and M by
 * MC, packs B[KC×NC] into 4-column panels and A[MC×KC] into 4-row panels (Float64Array: no
 * float32→float64 conversion in the inner loop; edges zero-padded), and runs a 4×4 micro-kernel
 * whose 16 accumulators stay in registers over the KC loop.
 *
 * The functions from `gemmRange` down to `gemmMicro4x4` are shipped to the worker threads as
 * source text (Function.prototype.toString, see threads.ts): they must stay self-contained
 * (no imports, no module-level constants, only each other and globals).
 */
import { registerCpuKernel } from './device.js';
import type { FloatArray, TypedArray } from '../../dtype.js';
import { registerWorkerTask, parallelRows, getNumThreads } from './threads.js';

/** The 9 ints of a matmul kernel call, named. */
export interface MatmulParams {
  batch: number; M: number; K: number; N: number;
  transA: number; transB: number; strideA: number; strideB: number; accumulate: number;
}

export function matmulInts(p: MatmulParams): number[] {
  return [p.batch, p.M, p.K, p.N, p.transA, p.transB, p.strideA, p.strideB, p.accumulate];
}

// ---------------------------------------------------------------------------------------------
// Reference: C[b][i][j] (+)= Σ_k op(A)[b][i][k] · op(B)[b][k][j], summed in float64.
// ---------------------------------------------------------------------------------------------
export function matmulNaive(C: FloatArray, A: FloatArray, B: FloatArray, ints: readonly number[]): void {
  const [batch, M, K, N, transA, transB, strideA, strideB, accumulate] = ints;
  for (let b = 0; b < batch; b++) {
    const a0 = b * strideA, b0 = b * strideB, c0 = b * M * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const a = transA ? A[a0 + k * M + i] : A[a0 + i * K + k];      // op(A)[i][k]
          const bb = transB ? B[b0 + j * K + k] : B[b0 + k * N + j];     // op(B)[k][j]
          s += a * bb;
        }
        const o = c0 + i * N + j;
        C[o] = accumulate ? C[o] + s : s;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Fast path (shipped to workers as source: keep self-contained).
// ---------------------------------------------------------------------------------------------

/** Per-thread scratch: packed panels (grown on demand) and a 4×4 edge tile. */
export interface GemmWorkspace { ap: Float64Array; bp: Float64Array; tile: Float64Array }
export function newGemmWorkspace(): GemmWorkspace {
  return { ap: new Float64Array(0), bp: new Float64Array(0), tile: new Float64Array(16) };
}

/**
 * Rows [r0, r1) of the flattened (batch·M)×N output, ints as the 'matmul' kernel. Worker-task
 * signature: (ws, buffers [C, A, B], ints, r0, r1).
 */
export function gemmRange(ws: GemmWorkspace, bufs: TypedArray[], ints: readonly number[], r0: number, r1: number): void {
  const C = bufs[0] as FloatArray, A = bufs[1] as FloatArray, B = bufs[2] as FloatArray;
  const M = ints[1], K = ints[2], N = ints[3];
  const transA = ints[4], transB = ints[5], strideA = ints[6], strideB = ints[7], accumulate = ints[8];
  if (M === 0 || N === 0) return;
  const KC = 256, MC = 64, NC = 512;
  // scratch: A block MC×KC, B block KC×NC (rounded up to whole 4-wide panels)
  if (ws.ap.length < MC * KC) ws.ap = new Float64Array(MC * KC);
  const ncMax = Math.min(NC, (N + 3) & ~3);
  if (ws.bp.length < KC * ncMax) ws.bp = new Float64Array(KC * ncMax);
  const bFirst = Math.floor(r0 / M), bLast = Math.floor((r1 - 1) / M);
  for (let b = bFirst; b <= bLast; b++) {
    const i0 = Math.max(r0 - b * M, 0), i1 = Math.min(r1 - b * M, M);
    const cOff = b * M * N, aOff = b * strideA, bOff = b * strideB;
    if (K === 0) {   // empty sum: C = 0 (or unchanged when accumulating)
      if (!accumulate) for (let o = cOff + i0 * N; o < cOff + i1 * N; o++) C[o] = 0;
      continue;
    }
    for (let jc = 0; jc < N; jc += NC) {
      const nc = Math.min(NC, N - jc);
      for (let pc = 0; pc < K; pc += KC) {
        const kc = Math.min(KC, K - pc);
        gemmPackB(ws.bp, B, bOff, pc, kc, jc, nc, K, N, transB);
        const overwrite = pc === 0 && !accumulate;
        for (let ic = i0; ic < i1; ic += MC) {
          const mc = Math.min(MC, i1 - ic);
          gemmPackA(ws.ap, A, aOff, ic, mc, pc, kc, M, K, transA);
          for (let jr = 0; jr < nc; jr += 4) {
            const nr = Math.min(4, nc - jr);
            for (let ir = 0; ir < mc; ir += 4) {
              gemmMicro4x4(kc, ws.ap, ir * kc, ws.bp, jr * kc, C, cOff + (ic + ir) * N + jc + jr, N,
                Math.min(4, mc - ir), nr, overwrite, ws.tile);
            }
          }
        }
      }
    }
  }
}

/**
 * Packs op(A)[ic:ic+mc, pc:pc+kc] into 4-row panels: ap[(ir/4)·4kc + p·4 + r] = op(A)[ic+ir+r][pc+p],
 * rows past mc zero-filled.
 */
export function gemmPackA(ap: Float64Array, A: FloatArray, aOff: number, ic: number, mc: number, pc: number, kc: number,
  M: number, K: number, transA: number): void {
  for (let ir = 0; ir < mc; ir += 4) {
    const base = ir * kc, rows = Math.min(4, mc - ir);
    for (let r = 0; r < 4; r++) {
      let o = base + r;
      if (r >= rows) { for (let p = 0; p < kc; p++, o += 4) ap[o] = 0; continue; }
      const i = ic + ir + r;
      if (transA) { let s = aOff + pc * M + i; for (let p = 0; p < kc; p++, o += 4, s += M) ap[o] = A[s]; }
      else { let s = aOff + i * K + pc; for (let p = 0; p < kc; p++, o += 4) ap[o] = A[s++]; }
    }
  }
}

/**
 * Packs op(B)[pc:pc+kc, jc:jc+nc] into 4-column panels: bp[(jr/4)·4kc + p·4 + c] = op(B)[pc+p][jc+jr+c],
 * columns past nc zero-filled.
 */
export function gemmPackB(bp: Float64Array, B: FloatArray, bOff: number, pc: number, kc: number, jc: number, nc: number,
  K: number, N: number, transB: number): void {
  for (let jr = 0; jr < nc; jr += 4) {
    const base = jr * kc, cols = Math.min(4, nc - jr);
    if (!transB && cols === 4) {
      let s = bOff + pc * N + jc + jr, o = base;
      for (let p = 0; p < kc; p++, o += 4, s += N) { bp[o] = B[s]; bp[o + 1] = B[s + 1]; bp[o + 2] = B[s + 2]; bp[o + 3] = B[s + 3]; }
      continue;
    }
    for (let c = 0; c < 4; c++) {
      let o = base + c;
      if (c >= cols) { for (let p = 0; p < kc; p++, o += 4) bp[o] = 0; continue; }
      const j = jc + jr + c;
      if (transB) { let s = bOff + j * K + pc; for (let p = 0; p < kc; p++, o += 4) bp[o] = B[s++]; }
      else { let s = bOff + pc * N + j; for (let p = 0; p < kc; p++, o += 4, s += N) bp[o] = B[s]; }
    }
  }
}

/**
 * The micro-kernel: a 4×4 tile of C (at element co, row stride ldc) = or += the product of one
 * packed A panel (4×kc) and one packed B panel (kc×4); only mr×nr of it is stored (edges).
 */
export function gemmMicro4x4(kc: number, ap: Float64Array, ao: number, bp: Float64Array, bo: number,
  C: FloatArray, co: number, ldc: number, mr: number, nr: number, overwrite: boolean, tile: Float64Array): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let p = 0; p < kc; p++) {
    const a0 = ap[ao], a1 = ap[ao + 1], a2 = ap[ao + 2], a3 = ap[ao + 3];
    const b0 = bp[bo], b1 = bp[bo + 1], b2 = bp[bo + 2], b3 = bp[bo + 3];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    ao += 4; bo += 4;
  }
  if (mr === 4 && nr === 4) {
    const o0 = co, o1 = co + ldc, o2 = o1 + ldc, o3 = o2 + ldc;
    if (overwrite) {
      C[o0] = c00; C[o0 + 1] = c01; C[o0 + 2] = c02; C[o0 + 3] = c03;
      C[o1] = c10; C[o1 + 1] = c11; C[o1 + 2] = c12; C[o1 + 3] = c13;
      C[o2] = c20; C[o2 + 1] = c21; C[o2 + 2] = c22; C[o2 + 3] = c23;
      C[o3] = c30; C[o3 + 1] = c31; C[o3 + 2] = c32; C[o3 + 3] = c33;
    } else {
      C[o0] += c00; C[o0 + 1] += c01; C[o0 + 2] += c02; C[o0 + 3] += c03;
      C[o1] += c10; C[o1 + 1] += c11; C[o1 + 2] += c12; C[o1 + 3] += c13;
      C[o2] += c20; C[o2 + 1] += c21; C[o2 + 2] += c22; C[o2 + 3] += c23;
      C[o3] += c30; C[o3 + 1] += c31; C[o3 + 2] += c32; C[o3 + 3] += c33;
    }
    return;
  }
  tile[0] = c00; tile[1] = c01; tile[2] = c02; tile[3] = c03;
  tile[4] = c10; tile[5] = c11; tile[6] = c12; tile[7] = c13;
  tile[8] = c20; tile[9] = c21; tile[10] = c22; tile[11] = c23;
  tile[12] = c30; tile[13] = c31; tile[14] = c32; tile[15] = c33;
  for (let r = 0; r < mr; r++) {
    for (let c = 0; c < nr; c++) {
      const o = co + r * ldc + c;
      C[o] = overwrite ? tile[r * 4 + c] : C[o] + tile[r * 4 + c];
    }
  }
}

// The worker task: entry first, then the helpers it calls.
registerWorkerTask('gemm', [gemmRange, gemmPackA, gemmPackB, gemmMicro4x4], newGemmWorkspace);

// ---------------------------------------------------------------------------------------------
// Dispatch: tiny → naive loop; big enough and threads > 1 → rows split over threads; else the
// single-threaded fast path.
// ---------------------------------------------------------------------------------------------
const mainWs = newGemmWorkspace();

/** Single-threaded fast path over the whole output. */
export function matmulFast(C: FloatArray, A: FloatArray, B: FloatArray, ints: readonly number[]): void {
  gemmRange(mainWs, [C, A, B], ints, 0, ints[0] * ints[1]);
}

/** Below this many multiply-adds the packing costs more than it saves. */
const NAIVE_MAX_MACS = 4096;
/** Below this many flops (2·batch·M·N·K) the thread hand-off costs more than it saves. */
export const PARALLEL_MIN_FLOPS = 1 << 20;

export function matmulCpu(C: FloatArray, A: FloatArray, B: FloatArray, ints: readonly number[]): void {
  const [batch, M, K, N] = ints;
  const macs = batch * M * K * N;
  if (macs <= NAIVE_MAX_MACS) return matmulNaive(C, A, B, ints);
  const rows = batch * M;
  if (2 * macs >= PARALLEL_MIN_FLOPS && rows >= 8 && getNumThreads() > 1 &&
    parallelRows('gemm', [C, A, B], ints, rows, 4, [true, false, false], ints[8] === 1)) return;
  gemmRange(mainWs, [C, A, B], ints, 0, rows);
}

registerCpuKernel('matmul', ([C], [A, B], ints) => matmulCpu(C as FloatArray, A as FloatArray, B as FloatArray, ints));
