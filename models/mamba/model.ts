/**
 * The Mamba family (spec §3.4, the original's bMamba), with its names:
 *
 *   embedding  PxByEmbed(113 → D) | Embedding(113, D) of the centre
 *   _mamba     one Mamba module (mamba_ssm defaults, d_state N, d_conv 4, expand 2)
 *   norm       LayerNorm(D), only when bidirectional
 *   layers     depth − 1 further Mamba modules
 *   lm_head    Linear(D → 113, no bias) on the last position
 *
 * 'original' (faithful): bidirectional → x = norm(M0(x) + flip(M0(flip(x)))) with ONE shared
 * module; uni → x = M0(x); then the other modules in sequence, no residuals, no norms.
 * 'residual' (ours): every module is a pre-norm residual block x + Mk(RMSNorm_k(x)) (the first one
 * adds the flipped pass too when bidirectional), then a final RMSNorm: `norms.k`, `norm_f`.
 */
import { type Tensor, add, flip, reshape, slice } from '../../src/index.js';
import { LayerNorm, Linear, RMSNorm } from '../../src/nn/layers.js';
import { MambaBlock } from '../../src/nn/mamba.js';
import type { ModelConfig } from '../common/config.js';
import { ModuleList } from '../common/container.js';
import { PixelBytesModel } from '../common/model.js';
import { makeEmbedding, type CenterEmbed, type PxByEmbed } from '../common/pxby_embed.js';

export class MambaModel extends PixelBytesModel {
  readonly embedding: PxByEmbed | CenterEmbed;
  readonly first: MambaBlock;
  readonly rest: MambaBlock[];
  readonly norm: LayerNorm | null;
  readonly rmsNorms: RMSNorm[];
  readonly normF: RMSNorm | null;
  readonly lmHead: Linear;

  constructor(config: ModelConfig) {
    super(config);
    const D = config.dim;
    const block = () => new MambaBlock(D, { dState: config.dState, dConv: config.dConv, expand: config.expand });
    this.embedding = this.registerModule('embedding', makeEmbedding(config.embed, config.vocabSize, D));
    this.first = this.registerModule('_mamba', block());
    this.rest = Array.from({ length: config.depth - 1 }, block);
    if (this.rest.length) this.registerModule('layers', new ModuleList(this.rest));
    const residual = config.mambaVariant === 'residual';
    this.norm = !residual && config.bidirectional ? this.registerModule('norm', new LayerNorm(D)) : null;
    this.rmsNorms = residual ? Array.from({ length: config.depth }, () => new RMSNorm(D)) : [];
    if (residual) this.registerModule('norms', new ModuleList(this.rmsNorms));
    this.normF = residual ? this.registerModule('norm_f', new RMSNorm(D)) : null;
    this.lmHead = this.registerModule('lm_head', new Linear(D, config.vocabSize, { bias: false }));
  }

  private biPass(m: MambaBlock, x: Tensor): Tensor {
    return add(m.forward(x), flip(m.forward(flip(x, 1)), 1));
  }

  forward(windows: Tensor, allPositions: boolean): Tensor {
    let x = this.embedding.embedWindows(windows);
    const bi = this.config.bidirectional;
    if (this.config.mambaVariant === 'residual') {
      const h0 = this.rmsNorms[0].forward(x);
      x = add(x, bi ? this.biPass(this.first, h0) : this.first.forward(h0));
      this.rest.forEach((m, k) => { x = add(x, m.forward(this.rmsNorms[k + 1].forward(x))); });
      x = this.normF!.forward(x);
    } else {
      x = bi ? this.norm!.forward(this.biPass(this.first, x)) : this.first.forward(x);
      for (const m of this.rest) x = m.forward(x);
    }
    if (!allPositions) {
      const [B, T, D] = x.shape;
      x = reshape(slice(x, 1, T - 1, T), [B, D]);
    }
    return this.lmHead.forward(x);
  }
}
