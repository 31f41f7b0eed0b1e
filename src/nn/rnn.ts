/**
 * nn.LSTM with PyTorch's semantics and parameter names (batch_first = true only).
 *
 *   weight_ih_l{k}[_reverse] [4H, I_k]   weight_hh_l{k}[_reverse] [4H, H]
 *   bias_ih_l{k}[_reverse]   [4H]        bias_hh_l{k}[_reverse]   [4H]
 *   gate blocks i, f, g, o; every parameter ~ U(−1/√H, 1/√H) (PyTorch's reset_parameters), drawn
 *   in PyTorch's order (layer by layer, forward direction before reverse, w_ih, w_hh, b_ih, b_hh).
 *
 * Per layer and direction: one GEMM for the input projection of all steps (x·W_ihᵀ + b_ih + b_hh),
 * then one fused lstmSequence op (time loop + BPTT in two kernels). A bidirectional layer's output
 * is [forward | reverse] along the feature axis; the reverse direction runs t = T−1 … 0 and writes
 * each output at its own position t. h_n / c_n are [numLayers·numDirections, B, H] (index
 * layer·numDirections + direction), as PyTorch.
 */
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { rand } from '../creation.js';
import { defaultGenerator } from '../util/rng.js';
import { shapeStr } from '../util/shape.js';
import { linear } from '../ops/matmul.js';
import { add } from '../ops/elementwise.js';
import { reshape } from '../ops/shape.js';
import { concat, slice, stack } from '../ops/layout.js';
import { dropout } from '../ops/dropout.js';
import { lstmSequence } from '../ops/lstm.js';
import type { InitOptions } from './layers.js';

export interface LSTMOptions extends InitOptions {
  /** Stacked layers (default 1). */
  numLayers?: number;
  /** b_ih and b_hh (default true). */
  bias?: boolean;
  /** Default false. */
  bidirectional?: boolean;
  /** Must be true (the only layout implemented): x is [B, T, I]. */
  batchFirst?: boolean;
  /** Dropout on the outputs of every layer but the last, while training (default 0). */
  dropout?: number;
}

export interface LSTMState { h: Tensor; c: Tensor }

interface Cell { wIh: Tensor; wHh: Tensor; bIh: Tensor | null; bHh: Tensor | null }

export class LSTM extends Module {
  readonly numLayers: number;
  readonly bidirectional: boolean;
  readonly bias: boolean;
  readonly dropout: number;
  private readonly cells: Cell[][] = [];

  constructor(readonly inputSize: number, readonly hiddenSize: number, opts: LSTMOptions = {}) {
    super();
    for (const [name, v] of [['inputSize', inputSize], ['hiddenSize', hiddenSize], ['numLayers', opts.numLayers ?? 1]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`LSTM: ${name} must be an integer ≥ 1, got ${v}`);
    }
    if (opts.batchFirst === false) throw new Error('LSTM: only batchFirst = true ([B, T, I] inputs) is implemented');
    this.numLayers = opts.numLayers ?? 1;
    this.bidirectional = opts.bidirectional ?? false;
    this.bias = opts.bias ?? true;
    this.dropout = opts.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout <= 1)) throw new RangeError(`LSTM: dropout must be in [0, 1], got ${this.dropout}`);
    const H = hiddenSize, k = 1 / Math.sqrt(H), dirs = this.bidirectional ? 2 : 1;
    const init = (shape: number[]) => rand(shape, { lo: -k, hi: k, generator: opts.generator ?? defaultGenerator, dtype: opts.dtype, device: opts.device });
    for (let l = 0; l < this.numLayers; l++) {
      const inSize = l === 0 ? inputSize : H * dirs;
      const row: Cell[] = [];
      for (let d = 0; d < dirs; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        const wIh = this.registerParameter(`weight_ih${sfx}`, init([4 * H, inSize]));
        const wHh = this.registerParameter(`weight_hh${sfx}`, init([4 * H, H]));
        const bIh = this.bias ? this.registerParameter(`bias_ih${sfx}`, init([4 * H])) : null;
        const bHh = this.bias ? this.registerParameter(`bias_hh${sfx}`, init([4 * H])) : null;
        row.push({ wIh, wHh, bIh, bHh });
      }
      this.cells.push(row);
    }
  }

  /**
   * x [B, T, inputSize] (and optionally the initial state, h and c [numLayers·dirs, B, H]) →
   * output [B, T, dirs·H] (the last layer's h at every step), h and c [numLayers·dirs, B, H].
   */
  forward(x: Tensor, state?: LSTMState | null): { output: Tensor; h: Tensor; c: Tensor } {
    if (x.ndim !== 3 || x.shape[2] !== this.inputSize) {
      throw new RangeError(`LSTM: input must have shape [B, T, ${this.inputSize}] (batch first), got ${shapeStr(x.shape)}`);
    }
    const [B] = x.shape, H = this.hiddenSize, dirs = this.bidirectional ? 2 : 1, S = this.numLayers * dirs;
    if (state) {
      for (const [n, t] of [['h', state.h], ['c', state.c]] as const) {
        if (t.ndim !== 3 || t.shape[0] !== S || t.shape[1] !== B || t.shape[2] !== H) {
          throw new RangeError(`LSTM: initial ${n} must have shape [${S}, ${B}, ${H}], got ${shapeStr(t.shape)}`);
        }
      }
    }
    const initial = (t: Tensor, i: number) => reshape(slice(t, 0, i, i + 1), [B, H]);
    let input = x;
    const hs: Tensor[] = [], cs: Tensor[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < dirs; d++) {
        const { wIh, wHh, bIh, bHh } = this.cells[l][d];
        const xProj = linear(input, wIh, bIh && bHh ? add(bIh, bHh) : null);
        const idx = l * dirs + d;
        const r = lstmSequence(xProj, wHh, state ? initial(state.h, idx) : null, state ? initial(state.c, idx) : null, { reverse: d === 1 });
        outs.push(r.out); hs.push(r.hT); cs.push(r.cT);
      }
      input = dirs === 2 ? concat(outs, 2) : outs[0];
      if (this.dropout > 0 && this.training && l < this.numLayers - 1) input = dropout(input, this.dropout);
    }
    return { output: input, h: stack(hs, 0), c: stack(cs, 0) };
  }
}
