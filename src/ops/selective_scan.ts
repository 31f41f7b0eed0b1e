/**
 * Mamba-1's selective scan (mamba_ssm's selective_scan_fn without the z gate), in mamba-minimal's
 * layout. Two implementations with one signature and hand-written backward kernels:
 *   selectiveScanSequential — the readable reference loop over t;
 *   selectiveScanChunked    — chunks of Tc steps, a parallel (Blelloch) prefix scan inside each
 *                             chunk, a carried state across chunks, backward by recomputation
 *                             from the saved chunk-start states (CUDA-NOTES §5).
 * `selectiveScan` is the chunked one. Kernels and formulas: backend/cpu/selective_scan.ts.
 *
 * Δ: pass the raw δ with {deltaSoftplus: true, deltaBias} (what Mamba does: δ = dt_proj.weight·dt,
 * bias = dt_proj.bias, Δ = softplus(δ + bias) fused in the kernel), or an already positive Δ with
 * the defaults (no softplus, no bias).
 */
import type { Tensor } from '../tensor.js';
import { empty, zeros } from '../creation.js';
import { runKernel } from '../dispatch/dispatch.js';
import { record } from '../autograd/node.js';
import { sameShape, shapeStr } from '../util/shape.js';
import { assertFloat, assertSameDevice, assertSameDtype } from './util.js';

export interface SelectiveScanOptions {
  /** δ_bias [D], added to δ before the softplus (mamba's delta_bias). */
  deltaBias?: Tensor | null;
  /** Δ = softplus(δ + bias) (threshold 20), fused. Default false: Δ = δ + bias. */
  deltaSoftplus?: boolean;
  /** Chunk length of the chunked scan (a power of two; default 64). Ignored by the sequential one. */
  chunkSize?: number;
}

interface Checked { B: number; L: number; D: number; N: number; Dt: Tensor; biasT: Tensor; given: Tensor[] }

function check(op: string, u: Tensor, delta: Tensor, A: Tensor, Bm: Tensor, Cm: Tensor, Dskip: Tensor | null | undefined, bias: Tensor | null | undefined): Checked {
  const given = [u, delta, A, Bm, Cm, ...(Dskip ? [Dskip] : []), ...(bias ? [bias] : [])];
  assertFloat(op, ...given);
  assertSameDtype(op, ...given);
  assertSameDevice(op, ...given);
  if (u.ndim !== 3) throw new RangeError(`${op}: u must have shape [B, L, D], got ${shapeStr(u.shape)}`);
  const [B, L, D] = u.shape;
  if (!sameShape(delta.shape, u.shape)) throw new RangeError(`${op}: delta must have u's shape ${shapeStr(u.shape)}, got ${shapeStr(delta.shape)}`);
  if (A.ndim !== 2 || A.shape[0] !== D) throw new RangeError(`${op}: A must have shape [${D}, N] for u ${shapeStr(u.shape)}, got ${shapeStr(A.shape)}`);
  const N = A.shape[1];
  if (!sameShape(Bm.shape, [B, L, N])) throw new RangeError(`${op}: B must have shape [${B}, ${L}, ${N}] (u ${shapeStr(u.shape)}, A ${shapeStr(A.shape)}), got ${shapeStr(Bm.shape)}`);
  if (!sameShape(Cm.shape, [B, L, N])) throw new RangeError(`${op}: C must have shape [${B}, ${L}, ${N}] (u ${shapeStr(u.shape)}, A ${shapeStr(A.shape)}), got ${shapeStr(Cm.shape)}`);
  if (Dskip && !sameShape(Dskip.shape, [D])) throw new RangeError(`${op}: D must have shape [${D}], got ${shapeStr(Dskip.shape)}`);
  if (bias && !sameShape(bias.shape, [D])) throw new RangeError(`${op}: deltaBias must have shape [${D}], got ${shapeStr(bias.shape)}`);
  const Dt = Dskip ?? zeros([D], { dtype: u.dtype, device: u.device });
  const biasT = bias ?? zeros([D], { dtype: u.dtype, device: u.device });
  return { B, L, D, N, Dt, biasT, given };
}

/** The gradients for the inputs that were given (D and deltaBias only when passed). */
function pick(grads: Tensor[], Dskip: Tensor | null | undefined, bias: Tensor | null | undefined): Tensor[] {
  const [du, dd, dA, dB, dC, dD, db] = grads;
  return [du, dd, dA, dB, dC, ...(Dskip ? [dD] : []), ...(bias ? [db] : [])];
}

function allocGrads(B: number, L: number, D: number, N: number, like: Tensor): Tensor[] {
  const e = (s: number[]) => empty(s, like.dtype, like.device);
  return [e([B, L, D]), e([B, L, D]), e([D, N]), e([B, L, N]), e([B, L, N]), e([D]), e([D])];
}

/**
 * y [B, L, D] of the selective scan (reference implementation: a sequential loop over t).
 * u, delta [B, L, D]; A [D, N] (negative: −exp(A_log)); B, C [B, L, N]; D [D] (optional skip).
 */
export function selectiveScanSequential(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D?: Tensor | null, opts: SelectiveScanOptions = {}): Tensor {
  const op = 'selectiveScanSequential';
  const { B: Bn, L, D: Dn, N, Dt, biasT, given } = check(op, u, delta, A, B, C, D, opts.deltaBias);
  const ints = [Bn, L, Dn, N, opts.deltaSoftplus ? 1 : 0];
  const y = empty([Bn, L, Dn], u.dtype, u.device);
  runKernel('selective_scan_forward', [y], [u, delta, A, B, C, Dt, biasT], ints);
  record(op, given, [y], [u, delta, A, B, C, Dt, biasT], ([g], saved) => {
    const grads = allocGrads(Bn, L, Dn, N, u);
    runKernel('selective_scan_backward', grads, [g!, ...saved], ints);
    return pick(grads, D, opts.deltaBias);
  });
  if (!D) Dt.dispose();
  if (!opts.deltaBias) biasT.dispose();
  return y;
}

/** The same op, chunked: a parallel prefix scan inside chunks of `chunkSize` steps. */
export function selectiveScanChunked(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D?: Tensor | null, opts: SelectiveScanOptions = {}): Tensor {
  const op = 'selectiveScanChunked';
  const chunk = opts.chunkSize ?? 64;
  if (!Number.isInteger(chunk) || chunk < 1 || (chunk & (chunk - 1)) !== 0) throw new RangeError(`${op}: chunkSize must be a power of two, got ${chunk}`);
  const { B: Bn, L, D: Dn, N, Dt, biasT, given } = check(op, u, delta, A, B, C, D, opts.deltaBias);
  // a sequence shorter than the chunk is scanned in the smallest power of two that holds it
  let Tc = 1;
  while (Tc < Math.min(chunk, L)) Tc *= 2;
  const nC = Math.ceil(L / Tc);
  const ints = [Bn, L, Dn, N, opts.deltaSoftplus ? 1 : 0, Tc];
  const y = empty([Bn, L, Dn], u.dtype, u.device);
  const hStart = empty([Bn, Dn, nC, N], u.dtype, u.device);
  runKernel('selective_scan_chunked_forward', [y, hStart], [u, delta, A, B, C, Dt, biasT], ints);
  record(op, given, [y], [u, delta, A, B, C, Dt, biasT, hStart], ([g], saved) => {
    const grads = allocGrads(Bn, L, Dn, N, u);
    runKernel('selective_scan_chunked_backward', grads, [g!, ...saved], ints);
    return pick(grads, D, opts.deltaBias);
  });
  hStart.dispose();
  if (!D) Dt.dispose();
  if (!opts.deltaBias) biasT.dispose();
  return y;
}

/** The selective scan (the chunked implementation). */
export const selectiveScan = selectiveScanChunked;
