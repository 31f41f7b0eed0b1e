/**
 * The LSTM family (spec §3.2, the original's SimpleRNNModel), with its parameter names:
 *
 *   embedding  PxByEmbed(113 → D) | Embedding(113, D) of the centre ('center')
 *   _lstm      LSTM(D → d_state/2 per direction, bidirectional) or LSTM(D → d_state) (uni)
 *   lstm       LSTM(d_state → d_state, num_layers = depth − 1), unidirectional (absent if depth = 1)
 *   fc         Linear(d_state → 113) on the last position (or every position: dense objective)
 *
 * No dropout. A bidirectional first layer cannot leak the `last` target (every input window is
 * in its past) but makes the model non-causal, so it cannot train with `dense`.
 */
import { type Tensor, keep, noGrad, reshape, slice, tidy } from '../../src/index.js';
import { Linear } from '../../src/nn/layers.js';
import { LSTM, type LSTMState } from '../../src/nn/rnn.js';
import type { ModelConfig } from '../common/config.js';
import { PixelBytesModel, type Stepper } from '../common/model.js';
import { makeEmbedding, type CenterEmbed, type PxByEmbed } from '../common/pxby_embed.js';

export class RnnModel extends PixelBytesModel {
  readonly embedding: PxByEmbed | CenterEmbed;
  readonly firstLstm: LSTM;
  readonly lstm: LSTM | null;
  readonly fc: Linear;

  constructor(config: ModelConfig) {
    super(config);
    const { dim: D, dState: S, depth, bidirectional: bi } = config;
    this.embedding = this.registerModule('embedding', makeEmbedding(config.embed, config.vocabSize, D));
    this.firstLstm = this.registerModule('_lstm', new LSTM(D, bi ? S / 2 : S, { numLayers: 1, bidirectional: bi, batchFirst: true }));
    this.lstm = depth > 1 ? this.registerModule('lstm', new LSTM(S, S, { numLayers: depth - 1, batchFirst: true })) : null;
    this.fc = this.registerModule('fc', new Linear(S, config.vocabSize));
  }

  forward(windows: Tensor, allPositions: boolean): Tensor {
    let x = this.embedding.embedWindows(windows);
    x = this.firstLstm.forward(x).output;
    if (this.lstm) x = this.lstm.forward(x).output;
    if (!allPositions) {
      const [B, T, S] = x.shape;
      x = reshape(slice(x, 1, T - 1, T), [B, S]);
    }
    return this.fc.forward(x);
  }

  /** Unidirectional models read a stream incrementally, carrying (h, c) of both LSTMs. */
  override stepper(): Stepper | null {
    if (this.config.bidirectional) return null;
    let s1: LSTMState | null = null, s2: LSTMState | null = null;
    const free = (s: LSTMState | null) => { s?.h.dispose(); s?.c.dispose(); };
    return {
      feed: (windows: Tensor) => noGrad(() => {
        const r = tidy(() => {
          const a = this.firstLstm.forward(this.embedding.embedWindows(windows), s1);
          let x = a.output;
          let b: { output: Tensor; h: Tensor; c: Tensor } | null = null;
          if (this.lstm) { b = this.lstm.forward(x, s2); x = b.output; }
          const [B, T, S] = x.shape;
          const logits = this.fc.forward(reshape(slice(x, 1, T - 1, T), [B, S]));
          return { logits: logits.toTyped() as Float32Array, h1: keep(a.h), c1: keep(a.c), h2: b ? keep(b.h) : null, c2: b ? keep(b.c) : null };
        });
        free(s1); free(s2);
        s1 = { h: r.h1, c: r.c1 };
        s2 = r.h2 && r.c2 ? { h: r.h2, c: r.c2 } : null;
        return r.logits;
      }),
      dispose: () => { free(s1); free(s2); s1 = s2 = null; },
    };
  }
}
