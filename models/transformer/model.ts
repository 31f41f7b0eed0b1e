/**
 * The Transformer family (spec §3.3, the original's SimpleTransformerModel), with its names:
 *
 *   embedding            PxByEmbed(113 → D') | Embedding(113, D') of the centre, D' = ⌊D/4⌋·4 (81 → 80)
 *   transformer_encoder  `depth` × TransformerEncoderLayer(D', 4 heads, FFN 4·D', dropout 0.1, ReLU,
 *                        post-LN), batch first. As PyTorch's nn.TransformerEncoder (deep copies of one
 *                        layer), every layer starts from the same weights.
 *   fc                   Linear(D' → 113) on the last position
 *
 * Faithful: no positional encoding, no mask (full attention over the 256 past windows). Options:
 * `causal` (a causal mask: required by the dense objective) and `positions: 'learned'`
 * (`pos_embedding` [maxLen, D'] ~ N(0, 0.02²), added after the embedding).
 */
import { type Tensor, add, clone, noGrad, randn, reshape, slice } from '../../src/index.js';
import { Linear } from '../../src/nn/layers.js';
import { TransformerEncoderLayer } from '../../src/nn/transformer.js';
import { transformerWidth, type ModelConfig } from '../common/config.js';
import { Holder, ModuleList } from '../common/container.js';
import { PixelBytesModel } from '../common/model.js';
import { makeEmbedding, type CenterEmbed, type PxByEmbed } from '../common/pxby_embed.js';

export class TransformerModel extends PixelBytesModel {
  readonly width: number;
  readonly embedding: PxByEmbed | CenterEmbed;
  readonly posEmbedding: Tensor | null;
  readonly layers: TransformerEncoderLayer[];
  readonly fc: Linear;

  constructor(config: ModelConfig) {
    super(config);
    const D = transformerWidth(config);
    this.width = D;
    this.embedding = this.registerModule('embedding', makeEmbedding(config.embed, config.vocabSize, D));
    this.posEmbedding = config.positions === 'learned' ? this.registerParameter('pos_embedding', randn([config.maxLen, D], { std: 0.02 })) : null;
    const make = () => new TransformerEncoderLayer(D, config.heads, { dimFeedforward: config.ffn, dropout: config.dropout, batchFirst: true });
    const first = make();
    const layers = [first];
    const src = new Map(first.namedParameters());
    for (let i = 1; i < config.depth; i++) {
      const l = make();
      noGrad(() => { for (const [n, p] of l.namedParameters()) { const c = clone(src.get(n)!); p.assign(c); c.dispose(); } });
      layers.push(l);
    }
    this.layers = layers;
    this.registerModule('transformer_encoder', new Holder('layers', new ModuleList(layers)));
    this.fc = this.registerModule('fc', new Linear(D, config.vocabSize));
  }

  forward(windows: Tensor, allPositions: boolean): Tensor {
    let x = this.embedding.embedWindows(windows);
    const [B, T, D] = x.shape;
    if (this.posEmbedding) {
      if (T > this.config.maxLen) throw new RangeError(`Transformer: ${T} windows exceed the learned positions (maxLen ${this.config.maxLen})`);
      x = add(x, slice(this.posEmbedding, 0, 0, T));
    }
    for (const layer of this.layers) x = layer.forward(x, { causal: this.config.causal });
    if (!allPositions) x = reshape(slice(x, 1, T - 1, T), [B, D]);
    return this.fc.forward(x);
  }
}
