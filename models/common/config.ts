/**
 * Model and training configuration (spec §3, §4.1, §4.4), saved beside every checkpoint as JSON.
 */
import { VOCAB_SIZE } from '../../data-tools/index.js';
import type { Objective } from './windows.js';

export type Family = 'rnn' | 'attention' | 'ssm';
/** 'pxby' = PxByEmbed with the conv branch; 'noconv' = σ(α)·X only; 'center' = centre id only. */
export type EmbedKind = 'pxby' | 'noconv' | 'center';

export interface ModelConfig {
  family: Family;
  /** D: the width PxByEmbed outputs (the Transformer uses ⌊D/4⌋·4). */
  dim: number;
  /** LSTM total hidden size (bi: d_state/2 per direction) / Mamba state size N. Unused by the Transformer. */
  dState: number;
  /** LSTM: 1 + (depth−1) stacked; Mamba: modules; Transformer: encoder layers. */
  depth: number;
  /** LSTM / Mamba first layer bidirectional (the original's default). Meaningless for the Transformer. */
  bidirectional: boolean;
  embed: EmbedKind;
  vocabSize: number;
  // Transformer (spec §3.3)
  heads: number;
  ffn: number;
  dropout: number;
  /** Causal mask (the original: none). */
  causal: boolean;
  /** 'none' (the original) or learned absolute positions up to maxLen. */
  positions: 'none' | 'learned';
  maxLen: number;
  // Mamba (spec §3.4)
  dConv: number;
  expand: number;
  /** 'original': shared-weight bi layer + LayerNorm, then plain stacked modules; 'residual': x + M(RMSNorm(x)) blocks. */
  mambaVariant: 'original' | 'residual';
}

export interface TrainConfig {
  objective: Objective;
  seqLen: number;
  stride: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  betas: [number, number];
  eps: number;
  epochs: number;
  evalEvery: number;
  seed: number;
  /** 0 = no clipping (the original). */
  clipGradNorm: number;
}

export const DEFAULT_MODEL: ModelConfig = {
  family: 'rnn', dim: 81, dState: 64, depth: 2, bidirectional: true, embed: 'pxby', vocabSize: VOCAB_SIZE,
  heads: 4, ffn: 320, dropout: 0.1, causal: false, positions: 'none', maxLen: 1024,
  dConv: 4, expand: 2, mambaVariant: 'original',
};

/** The paper's settings (spec §4.1); `dense` changes the stride default to seqLen. */
export const DEFAULT_TRAIN: TrainConfig = {
  objective: 'last', seqLen: 256, stride: 32, batchSize: 32, lr: 1e-3, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-8,
  epochs: 200, evalEvery: 5, seed: 0, clipGradNorm: 0,
};

/** PxByEmbed inner width E = max(9, ⌊D/9⌋) (spec §3.1). */
export function embedChannels(dim: number): number {
  return Math.max(9, Math.floor(dim / 9));
}

/** The Transformer's width ⌊D/4⌋·4 (81 → 80). */
export function transformerWidth(cfg: Pick<ModelConfig, 'dim' | 'heads'>): number {
  return Math.floor(cfg.dim / cfg.heads) * cfg.heads;
}

/** Whether every output position depends only on windows at or before it (required by `dense`). */
export function isCausal(cfg: ModelConfig): boolean {
  if (cfg.family === 'attention') return cfg.causal;
  return !cfg.bidirectional;
}

/** Why a model cannot train with an objective, or null. */
export function objectiveProblem(cfg: ModelConfig, objective: Objective): string | null {
  if (objective !== 'dense' || isCausal(cfg)) return null;
  const what = cfg.family === 'attention'
    ? 'an unmasked Transformer attends to later windows, which hold the targets'
    : `a bidirectional ${cfg.family === 'rnn' ? 'LSTM' : 'Mamba'} first layer reads later windows, which hold the targets`;
  return `the dense objective needs a causal model: ${what}. Use --objective last, or a causal model ` +
    `(${cfg.family === 'attention' ? '--causal' : '--uni'}, e.g. --preset ${cfg.family === 'attention' ? 'attention_causal_pxby_conv_81_dim_64_state_2_layer' : `${cfg.family}_uni_pxby_conv_81_dim_64_state_2_layer`}).`;
}

export function validateModelConfig(cfg: ModelConfig): void {
  const bad = (msg: string): never => { throw new RangeError(`model config: ${msg}`); };
  if (!['rnn', 'attention', 'ssm'].includes(cfg.family)) bad(`family '${cfg.family}' is not rnn, attention or ssm`);
  if (!['pxby', 'noconv', 'center'].includes(cfg.embed)) bad(`embed '${cfg.embed}' is not pxby, noconv or center`);
  for (const k of ['dim', 'dState', 'depth', 'heads', 'ffn', 'maxLen', 'dConv', 'expand', 'vocabSize'] as const) {
    if (!(Number.isInteger(cfg[k]) && cfg[k] >= 1)) bad(`${k} = ${cfg[k]} must be an integer ≥ 1`);
  }
  if (cfg.family === 'rnn' && cfg.bidirectional && cfg.dState % 2 !== 0) bad(`a bidirectional LSTM needs an even d_state (d_state/2 per direction), got ${cfg.dState}`);
  if (cfg.family === 'attention' && transformerWidth(cfg) < cfg.heads) bad(`dim ${cfg.dim} is too small for ${cfg.heads} heads`);
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) bad(`dropout ${cfg.dropout} must be in [0, 1)`);
}

export function validateTrainConfig(t: TrainConfig): void {
  const bad = (msg: string): never => { throw new RangeError(`train config: ${msg}`); };
  for (const k of ['seqLen', 'stride', 'batchSize', 'evalEvery'] as const) if (!(Number.isInteger(t[k]) && t[k] >= 1)) bad(`${k} = ${t[k]} must be an integer ≥ 1`);
  if (!(Number.isInteger(t.epochs) && t.epochs >= 0)) bad(`epochs = ${t.epochs} must be an integer ≥ 0`);
  if (!(t.lr > 0)) bad(`lr ${t.lr} must be > 0`);
  if (t.objective !== 'last' && t.objective !== 'dense') bad(`objective '${t.objective}' is not last or dense`);
}

/** The original's config name (spec §4.4), e.g. rnn_bi_pxby_conv_81_dim_64_state_2_layer. */
export function configName(cfg: ModelConfig): string {
  const dir = cfg.family === 'attention' ? (cfg.causal ? 'causal' : 'bi') : cfg.bidirectional ? 'bi' : 'uni';
  const emb = cfg.embed === 'center' ? 'center' : cfg.embed === 'noconv' ? 'pxby_noconv' : 'pxby_conv';
  const extra = [
    cfg.family === 'attention' && cfg.positions === 'learned' ? '_pos' : '',
    cfg.family === 'ssm' && cfg.mambaVariant === 'residual' ? '_res' : '',
  ].join('');
  return `${cfg.family}_${dir}_${emb}_${cfg.dim}_dim_${cfg.dState}_state_${cfg.depth}_layer${extra}`;
}
