/**
 * What every PixelBytes model is: an nn.Module from windows [B, T, 3, 3] (int32) to 113-way
 * logits, either of the last position only ([B, V], the original's seq-to-one head) or of every
 * position ([B, T, V], the dense objective).
 */
import type { Tensor } from '../../src/index.js';
import { Module } from '../../src/nn/module.js';
import type { ModelConfig } from './config.js';

export abstract class PixelBytesModel extends Module {
  constructor(readonly config: ModelConfig) { super(); }

  /** windows int32 [B, T, 3, 3] → logits [B, V] (allPositions false) or [B, T, V]. */
  abstract forward(windows: Tensor, allPositions: boolean): Tensor;

  /**
   * An incremental reader for one stream (causal recurrent models only; null otherwise): feeding
   * windows chunk by chunk gives the same last-position logits as forward() on the whole sequence,
   * in time proportional to the new windows only.
   */
  stepper(): Stepper | null { return null; }
}

export interface Stepper {
  /** windows int32 [1, n, 3, 3] → logits [V] after the last of them (host copy). */
  feed(windows: Tensor): Float32Array;
  /** Frees the carried state. */
  dispose(): void;
}
