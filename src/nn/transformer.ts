/**
 * nn.MultiheadAttention and nn.TransformerEncoderLayer with PyTorch's parameter names, defaults
 * and initialisation (batch_first = true only).
 *
 * MultiheadAttention(D, H):
 *   in_proj_weight [3D, D]  xavier_uniform_: U(±√(6 / (D + 3D)))      (rows: q | k | v)
 *   in_proj_bias   [3D]     0
 *   out_proj.weight [D, D]  Linear's default U(±1/√D);  out_proj.bias [D] = 0
 *   dropout p on the attention weights while training (fused in the attention kernel).
 *   forward returns the attention output only (PyTorch's need_weights = false path).
 *
 * TransformerEncoderLayer(D, H, {dimFeedforward = 2048, dropout = 0.1, activation = 'relu',
 * layerNormEps = 1e-5, normFirst = false}): PyTorch's defaults. Post-LN (norm_first = false):
 *   x = norm1(x + dropout1(self_attn(x)))
 *   x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))
 * Names: self_attn.*, linear1.*, linear2.*, norm1.*, norm2.*. PixelBytes (SPEC §3.3) uses
 * TransformerEncoderLayer(80, 4, {dimFeedforward: 320}) with the other defaults, no mask.
 */
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { rand, zeros } from '../creation.js';
import { defaultGenerator, type Generator } from '../util/rng.js';
import { shapeStr } from '../util/shape.js';
import { linear } from '../ops/matmul.js';
import { add, relu, gelu } from '../ops/elementwise.js';
import { reshape } from '../ops/shape.js';
import { permute, slice } from '../ops/layout.js';
import { scaledDotProductAttention } from '../ops/attention.js';
import { Linear, LayerNorm, Dropout, type InitOptions } from './layers.js';

export interface MultiheadAttentionOptions extends InitOptions {
  /** Dropout on the attention weights while training (default 0). */
  dropout?: number;
  /** in_proj_bias and out_proj.bias (default true). */
  bias?: boolean;
  /** Must be true: inputs are [B, L, D]. */
  batchFirst?: boolean;
}

export interface AttentionCallOptions {
  /** Mask every key after its query (PyTorch's is_causal / a square subsequent mask). */
  causal?: boolean;
}

export class MultiheadAttention extends Module {
  readonly headDim: number;
  readonly dropout: number;
  readonly inProjWeight: Tensor;
  readonly inProjBias: Tensor | null;
  readonly outProj: Linear;
  private readonly generator: Generator | undefined;

  constructor(readonly embedDim: number, readonly numHeads: number, opts: MultiheadAttentionOptions = {}) {
    super();
    if (!Number.isInteger(embedDim) || embedDim < 1) throw new RangeError(`MultiheadAttention: embedDim must be an integer ≥ 1, got ${embedDim}`);
    if (!Number.isInteger(numHeads) || numHeads < 1 || embedDim % numHeads !== 0) {
      throw new RangeError(`MultiheadAttention: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    }
    if (opts.batchFirst === false) throw new Error('MultiheadAttention: only batchFirst = true ([B, L, D] inputs) is implemented');
    this.headDim = embedDim / numHeads;
    this.dropout = opts.dropout ?? 0;
    this.generator = opts.generator;
    const D = embedDim, bound = Math.sqrt(6 / (D + 3 * D));
    const o = { dtype: opts.dtype, device: opts.device };
    this.inProjWeight = this.registerParameter('in_proj_weight', rand([3 * D, D], { lo: -bound, hi: bound, generator: opts.generator ?? defaultGenerator, ...o }));
    this.inProjBias = opts.bias === false ? null : this.registerParameter('in_proj_bias', zeros([3 * D], o));
    this.outProj = this.registerModule('out_proj', new Linear(D, D, { ...opts, bias: opts.bias !== false }));
    if (this.outProj.bias) { const z = zeros([D], o); this.outProj.bias.assign(z); z.dispose(); }
  }

  /** [B, L, D] → [B, H, L, Dh] */
  private heads(x: Tensor): Tensor {
    const [B, L] = x.shape;
    return permute(reshape(x, [B, L, this.numHeads, this.headDim]), [0, 2, 1, 3]);
  }

  /**
   * query [B, Lq, D], key / value [B, Lk, D] (default: query, i.e. self-attention) → [B, Lq, D].
   */
  forward(query: Tensor, key: Tensor = query, value: Tensor = key, opts: AttentionCallOptions = {}): Tensor {
    const D = this.embedDim;
    for (const [n, t] of [['query', query], ['key', key], ['value', value]] as const) {
      if (t.ndim !== 3 || t.shape[2] !== D) throw new RangeError(`MultiheadAttention: ${n} must have shape [B, L, ${D}] (batch first), got ${shapeStr(t.shape)}`);
    }
    const [B, Lq] = query.shape;
    let q: Tensor, k: Tensor, v: Tensor;
    if (query === key && key === value) {
      // one GEMM for q, k, v: [B, L, 3D] → [B, L, 3, H, Dh] → [3, B, H, L, Dh]
      const qkv = permute(reshape(linear(query, this.inProjWeight, this.inProjBias), [B, Lq, 3, this.numHeads, this.headDim]), [2, 0, 3, 1, 4]);
      const part = (i: number) => reshape(slice(qkv, 0, i, i + 1), [B, this.numHeads, Lq, this.headDim]);
      q = part(0); k = part(1); v = part(2);
    } else {
      const w = (i: number) => slice(this.inProjWeight, 0, i * D, (i + 1) * D);
      const b = (i: number) => (this.inProjBias ? slice(this.inProjBias, 0, i * D, (i + 1) * D) : null);
      q = this.heads(linear(query, w(0), b(0)));
      k = this.heads(linear(key, w(1), b(1)));
      v = this.heads(linear(value, w(2), b(2)));
    }
    const att = scaledDotProductAttention(q, k, v, {
      causal: opts.causal, dropoutP: this.dropout, training: this.training, generator: this.generator,
    });
    const merged = reshape(permute(att, [0, 2, 1, 3]), [B, Lq, D]);
    return this.outProj.forward(merged);
  }
}

export interface TransformerEncoderLayerOptions extends InitOptions {
  /** Width of the feed-forward block (PyTorch default 2048). */
  dimFeedforward?: number;
  /** Default 0.1 (attention weights, FFN, both residual branches). */
  dropout?: number;
  activation?: 'relu' | 'gelu';
  layerNormEps?: number;
  /** Pre-LN when true; default false (post-LN, PyTorch's default and PixelBytes'). */
  normFirst?: boolean;
  /** Must be true: inputs are [B, L, D]. */
  batchFirst?: boolean;
}

export class TransformerEncoderLayer extends Module {
  readonly selfAttn: MultiheadAttention;
  readonly linear1: Linear;
  readonly dropout: Dropout;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly normFirst: boolean;
  readonly activation: 'relu' | 'gelu';

  constructor(readonly dModel: number, readonly nhead: number, opts: TransformerEncoderLayerOptions = {}) {
    super();
    const p = opts.dropout ?? 0.1, ff = opts.dimFeedforward ?? 2048, eps = opts.layerNormEps ?? 1e-5;
    if (opts.batchFirst === false) throw new Error('TransformerEncoderLayer: only batchFirst = true ([B, L, D] inputs) is implemented');
    const init = { generator: opts.generator, dtype: opts.dtype, device: opts.device };
    this.normFirst = opts.normFirst ?? false;
    this.activation = opts.activation ?? 'relu';
    this.selfAttn = this.registerModule('self_attn', new MultiheadAttention(dModel, nhead, { ...init, dropout: p }));
    this.linear1 = this.registerModule('linear1', new Linear(dModel, ff, init));
    this.dropout = this.registerModule('dropout', new Dropout(p, { generator: opts.generator }));
    this.linear2 = this.registerModule('linear2', new Linear(ff, dModel, init));
    this.norm1 = this.registerModule('norm1', new LayerNorm(dModel, { eps, dtype: opts.dtype, device: opts.device }));
    this.norm2 = this.registerModule('norm2', new LayerNorm(dModel, { eps, dtype: opts.dtype, device: opts.device }));
    this.dropout1 = this.registerModule('dropout1', new Dropout(p, { generator: opts.generator }));
    this.dropout2 = this.registerModule('dropout2', new Dropout(p, { generator: opts.generator }));
  }

  private sa(x: Tensor, causal: boolean): Tensor {
    return this.dropout1.forward(this.selfAttn.forward(x, x, x, { causal }));
  }
  private ff(x: Tensor): Tensor {
    const h = this.linear1.forward(x);
    const a = this.activation === 'gelu' ? gelu(h) : relu(h);
    return this.dropout2.forward(this.linear2.forward(this.dropout.forward(a)));
  }

  /** src [B, L, dModel] → [B, L, dModel]; {causal: true} masks future positions. */
  forward(src: Tensor, opts: AttentionCallOptions = {}): Tensor {
    const causal = opts.causal ?? false;
    if (this.normFirst) {
      const x = add(src, this.sa(this.norm1.forward(src), causal));
      return add(x, this.ff(this.norm2.forward(x)));
    }
    const x = this.norm1.forward(add(src, this.sa(src, causal)));
    return this.norm2.forward(add(x, this.ff(x)));
  }
}
