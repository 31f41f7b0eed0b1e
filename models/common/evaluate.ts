/**
 * Loss / accuracy / F1 of a model over a set of samples, as the original's Trainer.evaluate
 * (spec §4.2) but correctly averaged: loss = Σ per-target CE / number of targets (the original
 * divided a sum of batch means by ⌊N/32⌋, inflating it by ≈1/⌊N/32⌋).
 */
import { Tensor, crossEntropy, fromArray, noGrad, tidy } from '../../src/index.js';
import { accuracyPercent, weightedF1 } from './metrics.js';
import type { PixelBytesModel } from './model.js';
import { chunk, makeBatch, type Objective, type Row, type SampleRef } from './windows.js';

export interface EvalResult {
  /** Mean cross-entropy per target (nats). */
  loss: number;
  accuracy: number;
  f1: number;
  /** Number of targets. */
  n: number;
  /** Per-target negative log-likelihoods (for perplexity), when asked. */
  nlls?: Float64Array;
}

/** Windows [B, T, 9] as an int32 tensor [B, T, 3, 3] on a device. */
export function windowsTensor(windows: Int32Array, B: number, T: number, device: string): Tensor {
  return fromArray(windows, [B, T, 3, 3], { dtype: 'int32', device });
}

/** Host argmax over the last axis of a [N, C] float array. */
export function argmaxRows(logits: ArrayLike<number>, C: number): Int32Array {
  const N = logits.length / C;
  const out = new Int32Array(N);
  for (let r = 0; r < N; r++) {
    let best = -Infinity, arg = 0;
    for (let c = 0; c < C; c++) { const v = logits[r * C + c]; if (v > best) { best = v; arg = c; } }
    out[r] = arg;
  }
  return out;
}

export function evaluateSamples(model: PixelBytesModel, rows: readonly Row[], refs: readonly SampleRef[], opts: {
  T: number; objective: Objective; batchSize: number; device: string; keepNlls?: boolean; onBatch?: (done: number, total: number) => void;
}): EvalResult {
  const wasTraining = model.training;
  model.eval();
  const preds: number[] = [], targets: number[] = [];
  const nlls: number[] = [];
  let sum = 0;
  try {
    const batches = chunk(refs, opts.batchSize);
    batches.forEach((refsB, k) => {
      const batch = makeBatch(rows, refsB, opts.T, opts.objective);
      const { loss, logits, perRow } = noGrad(() => tidy(() => {
        const x = windowsTensor(batch.windows, batch.B, batch.T, opts.device);
        const out = model.forward(x, opts.objective === 'dense');
        const tShape = opts.objective === 'dense' ? [batch.B, batch.T] : [batch.B];
        const t = fromArray(batch.targets, tShape, { dtype: 'int32', device: opts.device });
        const per = crossEntropy(out, t, { reduction: 'none' });
        const perHost = per.toTyped();
        let s = 0;
        for (let i = 0; i < perHost.length; i++) s += perHost[i];
        return { loss: s, logits: out.toTyped(), perRow: perHost };
      }));
      sum += loss;
      const C = model.config.vocabSize;
      for (const p of argmaxRows(logits, C)) preds.push(p);
      for (const t of batch.targets) targets.push(t);
      if (opts.keepNlls) for (const v of perRow) nlls.push(v);
      opts.onBatch?.(k + 1, batches.length);
    });
  } finally {
    model.train(wasTraining);
  }
  const n = targets.length;
  return {
    loss: n ? sum / n : NaN,
    accuracy: accuracyPercent(preds, targets),
    f1: weightedF1(preds, targets),
    n,
    nlls: opts.keepNlls ? Float64Array.from(nlls) : undefined,
  };
}
