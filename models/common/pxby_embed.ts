/**
 * PxByEmbed: the paper's Algorithm 1 (spec §3.1), with the original's parameter names
 * (`linear_embedding`, `patch_embedding`, `alpha`, `projection`, `norm`):
 *
 *   windows int32 [B, L, 3, 3]
 *   X  = Embedding(113, E)(windows)                 [B·L, 3, 3, E] → channels first [B·L, E, 3, 3]
 *   X' = σ(α)⊙X + (1 − σ(α))⊙Conv2d(E→E, 3×3, pad 1, bias)(X)     α [1, 1, 3, 3] ~ U[0, 1)
 *        ('noconv': X' = σ(α)⊙X)
 *   Y  = LayerNorm(Linear(9E → D)(flatten_channel_major(X')))      [B, L, D]
 *
 * with E = max(9, ⌊D/9⌋). The 'center' ablation is a plain Embedding(113, D) of the centre id.
 */
import { Tensor, add, mul, neg, permute, rand, reshape, sigmoid, slice } from '../../src/index.js';
import { Module } from '../../src/nn/module.js';
import { Conv2d, Embedding, LayerNorm, Linear } from '../../src/nn/layers.js';
import { embedChannels, type EmbedKind } from './config.js';

export class PxByEmbed extends Module {
  readonly E: number;
  readonly alpha: Tensor;
  readonly projection: Linear;
  readonly norm: LayerNorm;
  readonly linearEmbedding: Embedding;
  readonly patchEmbedding: Conv2d | null;

  constructor(readonly vocabSize: number, readonly dim: number, readonly conv = true, readonly k = 3) {
    super();
    this.E = embedChannels(dim);
    // registration order = the original's attribute order (state dict order)
    this.alpha = this.registerParameter('alpha', rand([1, 1, k, k]));
    this.projection = this.registerModule('projection', new Linear(this.E * k * k, dim));
    this.norm = this.registerModule('norm', new LayerNorm(dim));
    this.linearEmbedding = this.registerModule('linear_embedding', new Embedding(vocabSize, this.E));
    this.patchEmbedding = conv ? this.registerModule('patch_embedding', new Conv2d(this.E, this.E, k, { stride: 1, padding: Math.floor(k / 2) })) : null;
  }

  /** windows int32 [B, L, 3, 3] → [B, L, D] */
  embedWindows(windows: Tensor): Tensor {
    const [B, L, M, N] = windows.shape;
    if (windows.ndim !== 4 || M !== this.k || N !== this.k) throw new RangeError(`PxByEmbed: input must be [B, L, ${this.k}, ${this.k}], got [${windows.shape.join(', ')}]`);
    const ids = reshape(windows, [B * L, M, N]);
    let x = permute(this.linearEmbedding.forward(ids), [0, 3, 1, 2]);       // [B·L, E, k, k]
    const s = sigmoid(this.alpha);
    if (this.patchEmbedding) {
      const c = this.patchEmbedding.forward(x);
      x = add(mul(s, x), mul(add(neg(s), 1), c));
    } else {
      x = mul(s, x);
    }
    const flat = reshape(x, [B * L, this.E * M * N]);
    return reshape(this.norm.forward(this.projection.forward(flat)), [B, L, this.dim]);
  }
}

/**
 * The 'center' ablation: Embedding(V, D) of the window centres x[:, :, 1, 1]. It IS an Embedding,
 * so its table keeps the original's name `embedding.weight`.
 */
export class CenterEmbed extends Embedding {
  constructor(vocabSize: number, readonly dim: number) { super(vocabSize, dim); }
  embedWindows(windows: Tensor): Tensor {
    const [B, L] = windows.shape;
    const centre = reshape(slice(reshape(windows, [B, L, 9]), 2, 4, 5), [B, L]);
    return this.forward(centre);
  }
}

/** The embedding of a config: PxByEmbed (conv / noconv) or the centre-only table. */
export function makeEmbedding(kind: EmbedKind, vocabSize: number, dim: number): PxByEmbed | CenterEmbed {
  return kind === 'center' ? new CenterEmbed(vocabSize, dim) : new PxByEmbed(vocabSize, dim, kind === 'pxby');
}
