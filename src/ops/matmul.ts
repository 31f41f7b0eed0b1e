/**
 * matmul and linear. One kernel, 'matmul' (ints = [batch, M, K, N, transA, transB, strideA,
 * strideB, accumulate]; see backend/cpu/matmul.ts), serves the forward and both gradients through
 * its transpose flags and batch strides: nothing is transposed or broadcast in memory.
 */
import type { Tensor } from '../tensor.js';
import { empty } from '../creation.js';
import { runKernel } from '../dispatch/dispatch.js';
import { record1 } from '../autograd/node.js';
import { numel, sameShape, shapeStr, type Shape } from '../util/shape.js';
import { reshape } from './shape.js';
import { sum } from './reduce.js';
import { assertFloat, assertSameDevice, assertSameDtype } from './util.js';

interface Gemm { batch: number; M: number; K: number; N: number; transA?: number; transB?: number; strideA?: number; strideB?: number; accumulate?: number }

/** Runs the 'matmul' kernel into `out` (allocated here unless given). */
function gemm(shape: Shape, a: Tensor, b: Tensor, p: Gemm, out?: Tensor): Tensor {
  const c = out ?? empty(shape, a.dtype, a.device);
  runKernel('matmul', [c], [a, b], [p.batch, p.M, p.K, p.N, p.transA ?? 0, p.transB ?? 0, p.strideA ?? 0, p.strideB ?? 0, p.accumulate ?? 0]);
  return c;
}

function checkOperands(op: string, a: Tensor, b: Tensor): void {
  assertSameDevice(op, a, b);
  assertSameDtype(op, a, b);
  assertFloat(op, a, b);
}

/**
 * Matrix product as torch.matmul: [M,K]·[K,N]; batched [...,M,K]·[...,K,N] with equal batch
 * dimensions; a 2-D operand broadcast over the other's batch (x[B,L,D]·W[D,O]); 1-D operands
 * as in torch (a vector on the left is a row, on the right a column; the added dim is dropped).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkOperands('matmul', a, b);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new RangeError(`matmul: both operands need at least one dimension, got shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  }
  if (a.ndim > 1 && b.ndim > 1) return matmulNd(a, b, a.shape, b.shape);
  const a2 = a.ndim === 1 ? reshape(a, [1, a.shape[0]]) : a;
  const b2 = b.ndim === 1 ? reshape(b, [b.shape[0], 1]) : b;
  const c = matmulNd(a2, b2, a.shape, b.shape);
  const n = c.ndim;   // drop the added row (a 1-D) and/or column (b 1-D)
  return reshape(c, c.shape.filter((_, i) => !(a.ndim === 1 && i === n - 2) && !(b.ndim === 1 && i === n - 1)));
}

function matmulNd(a: Tensor, b: Tensor, aShape: Shape, bShape: Shape): Tensor {
  const M = a.shape[a.ndim - 2], K = a.shape[a.ndim - 1], N = b.shape[b.ndim - 1];
  if (b.shape[b.ndim - 2] !== K) {
    throw new RangeError(`matmul: shapes ${shapeStr(aShape)} and ${shapeStr(bShape)} cannot be multiplied (${K} columns vs ${b.shape[b.ndim - 2]} rows)`);
  }
  const aBatch = a.shape.slice(0, -2), bBatch = b.shape.slice(0, -2);
  if (aBatch.length && bBatch.length && !sameShape(aBatch, bBatch)) {
    throw new RangeError(`matmul: shapes ${shapeStr(aShape)} and ${shapeStr(bShape)} have different batch dimensions ${shapeStr(aBatch)} vs ${shapeStr(bBatch)} (supported: equal batch dimensions, or one operand 2-D)`);
  }
  const batchShape = aBatch.length ? aBatch : bBatch;
  const batch = numel(batchShape);
  const outShape = [...batchShape, M, N];
  const aBroadcast = aBatch.length === 0 && bBatch.length > 0;   // a[M,K] · b[…,K,N]
  const bBroadcast = bBatch.length === 0;                        // a[…,M,K] · b[K,N] (or both 2-D)

  // forward. b 2-D: one GEMM over the (batch·M) rows of a.
  const out = bBroadcast
    ? gemm(outShape, a, b, { batch: 1, M: batch * M, K, N })
    : gemm(outShape, a, b, { batch, M, K, N, strideA: aBroadcast ? 0 : M * K, strideB: K * N });

  return record1('matmul', [a, b], out, [a, b], (g, [a_, b_]) => {
    let da: Tensor | null = null, db: Tensor | null = null;
    if (a.requiresGrad) {
      // dA = dC · Bᵀ
      if (bBroadcast) da = gemm(a.shape, g, b_, { batch: 1, M: batch * M, K: N, N: K, transB: 1 });
      else if (!aBroadcast) da = gemm(a.shape, g, b_, { batch, M, K: N, N: K, transB: 1, strideA: M * N, strideB: K * N });
      else {
        // a was shared by every batch: per-batch products, summed over the batch
        const per = gemm([batch, M, K], g, b_, { batch, M, K: N, N: K, transB: 1, strideA: M * N, strideB: K * N });
        da = sum(per, 0);
      }
    }
    if (b.requiresGrad) {
      // dB = Aᵀ · dC; b shared by every batch: ONE GEMM over the flattened rows, Aᵀ[K, batch·M] · dC[batch·M, N]
      if (bBroadcast) db = gemm(b.shape, a_, g, { batch: 1, M: K, K: batch * M, N, transA: 1 });
      else db = gemm(b.shape, a_, g, { batch, M: K, K: M, N, transA: 1, strideA: aBroadcast ? 0 : M * K, strideB: M * N });
    }
    return [da, db];
  });
}

/**
 * y = x·Wᵀ + b with PyTorch's layout: x [..., I], weight [O, I], bias [O] → y [..., O].
 * W is read transposed by the kernel (transB) and the bias is written first and accumulated
 * onto, so the whole layer is one kernel call (two with bias).
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  checkOperands('linear', x, weight);
  if (bias) checkOperands('linear', x, bias);
  if (weight.ndim !== 2) throw new RangeError(`linear: weight must have shape [out, in], got ${shapeStr(weight.shape)} (input ${shapeStr(x.shape)})`);
  const [O, I] = weight.shape;
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== I) {
    throw new RangeError(`linear: input ${shapeStr(x.shape)} does not end in ${I}, the in-features of weight ${shapeStr(weight.shape)}`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== O)) {
    throw new RangeError(`linear: bias ${shapeStr(bias.shape)} must have shape [${O}] for weight ${shapeStr(weight.shape)}`);
  }
  const rows = x.size / I;
  const outShape = [...x.shape.slice(0, -1), O];
  let out: Tensor | undefined;
  if (bias) {
    out = empty(outShape, x.dtype, x.device);
    runKernel('broadcast_to', [out], [bias], [2, rows, O, 0, 1]);   // every row = bias
  }
  out = gemm(outShape, x, weight, { batch: 1, M: rows, K: I, N: O, transB: 1, accumulate: bias ? 1 : 0 }, out);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record1('linear', inputs, out, [x, weight], (g, [x_, w_]) => [
    // dx = dy · W  ([rows, O] · [O, I])
    x.requiresGrad ? gemm(x.shape, g, w_, { batch: 1, M: rows, K: O, N: I }) : null,
    // dW = dyᵀ · x  ([O, rows] · [rows, I])
    weight.requiresGrad ? gemm(weight.shape, g, x_, { batch: 1, M: O, K: rows, N: I, transA: 1 }) : null,
    ...(bias ? [bias.requiresGrad ? sumRows(g, rows, O) : null] : []),
  ]);
}

/** Σ over rows of a [..., O] gradient → [O]. */
function sumRows(g: Tensor, rows: number, O: number): Tensor {
  if (g.ndim === 1) return g.view();
  const g2 = g.ndim === 2 ? g : reshape(g, [rows, O]);
  return sum(g2, 0);
}
