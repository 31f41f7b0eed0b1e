/**
 * Basic layers with PyTorch's parameter names, shapes and default initialisations:
 *
 *   Linear       weight [out, in] ~ U(−1/√in, 1/√in)   (kaiming_uniform_(a=√5): gain √(2/(1+5)) =
 *                bias [out]       ~ U(−1/√in, 1/√in)    √(1/3), bound = gain·√3/√fan_in = 1/√fan_in)
 *   Embedding    weight [V, D] ~ N(0, 1)
 *   Conv2d       weight [OC, C, KH, KW], bias [OC] ~ U(±1/√(C·KH·KW))
 *   Conv1dDepthwiseCausal  weight [D, 1, K], bias [D] ~ U(±1/√K)   (fan_in = K: groups = D)
 *   LayerNorm    weight = 1, bias = 0 [D]
 *   RMSNorm      weight = 1 [D]
 *   Dropout      no parameters; identity in eval()
 *
 * Every constructor takes `{generator}` (default: the process-wide generator) for its init, and
 * `{dtype, device}` for where the parameters live (float32 on the CPU by default).
 */
import type { Tensor } from '../tensor.js';
import type { DType } from '../dtype.js';
import { Module } from './module.js';
import { rand, randn, zeros, ones } from '../creation.js';
import { defaultGenerator, type Generator } from '../util/rng.js';
import { linear } from '../ops/matmul.js';
import { embedding } from '../ops/embedding.js';
import { conv2d, conv1dDepthwiseCausal } from '../ops/conv.js';
import { layerNorm, rmsNorm } from '../ops/norm.js';
import { dropout } from '../ops/dropout.js';

export interface InitOptions {
  /** Random source of the initialisation (default: the process-wide generator). */
  generator?: Generator;
  dtype?: DType;
  device?: string;
}

function uniformInit(shape: number[], bound: number, o: InitOptions): Tensor {
  return rand(shape, { lo: -bound, hi: bound, generator: o.generator ?? defaultGenerator, dtype: o.dtype, device: o.device });
}

function checkSize(layer: string, name: string, v: number, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${layer}: ${name} must be an integer ≥ ${min}, got ${v}`);
}

/** y = x·Wᵀ + b (torch.nn.Linear). */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: InitOptions & { bias?: boolean } = {}) {
    super();
    checkSize('Linear', 'inFeatures', inFeatures);
    checkSize('Linear', 'outFeatures', outFeatures);
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.registerParameter('weight', uniformInit([outFeatures, inFeatures], bound, opts));
    this.bias = opts.bias === false ? null : this.registerParameter('bias', uniformInit([outFeatures], bound, opts));
  }
  forward(x: Tensor): Tensor { return linear(x, this.weight, this.bias); }
}

/** Lookup table (torch.nn.Embedding without padding_idx / max_norm). */
export class Embedding extends Module {
  readonly weight: Tensor;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, opts: InitOptions = {}) {
    super();
    checkSize('Embedding', 'numEmbeddings', numEmbeddings);
    checkSize('Embedding', 'embeddingDim', embeddingDim);
    this.weight = this.registerParameter('weight', randn([numEmbeddings, embeddingDim], { generator: opts.generator ?? defaultGenerator, dtype: opts.dtype, device: opts.device }));
  }
  /** ids int32 [...] → [..., D] */
  forward(ids: Tensor): Tensor { return embedding(this.weight, ids); }
}

export interface Conv2dLayerOptions extends InitOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  bias?: boolean;
}

/** 2-D convolution, NCHW (torch.nn.Conv2d with groups = 1, dilation = 1, zero padding). */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: number | [number, number];
  readonly padding: number | [number, number];
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: number | [number, number], opts: Conv2dLayerOptions = {}) {
    super();
    checkSize('Conv2d', 'inChannels', inChannels);
    checkSize('Conv2d', 'outChannels', outChannels);
    this.kernelSize = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : [kernelSize[0], kernelSize[1]];
    for (const k of this.kernelSize) checkSize('Conv2d', 'kernelSize', k);
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    const [KH, KW] = this.kernelSize;
    const bound = 1 / Math.sqrt(inChannels * KH * KW);
    this.weight = this.registerParameter('weight', uniformInit([outChannels, inChannels, KH, KW], bound, opts));
    this.bias = opts.bias === false ? null : this.registerParameter('bias', uniformInit([outChannels], bound, opts));
  }
  /** x [B, C, H, W] → [B, OC, OH, OW] */
  forward(x: Tensor): Tensor { return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding }); }
}

/**
 * Mamba's depthwise causal conv1d: torch.nn.Conv1d(D, D, K, groups=D, padding=K−1) keeping the
 * first L outputs. Parameters 'weight' [D, 1, K] and 'bias' [D], as in mamba_ssm's `conv1d`.
 */
export class Conv1dDepthwiseCausal extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(readonly channels: number, readonly kernelSize: number, opts: InitOptions & { bias?: boolean } = {}) {
    super();
    checkSize('Conv1dDepthwiseCausal', 'channels', channels);
    checkSize('Conv1dDepthwiseCausal', 'kernelSize', kernelSize);
    const bound = 1 / Math.sqrt(kernelSize);      // fan_in = (in_channels / groups)·K = K
    this.weight = this.registerParameter('weight', uniformInit([channels, 1, kernelSize], bound, opts));
    this.bias = opts.bias === false ? null : this.registerParameter('bias', uniformInit([channels], bound, opts));
  }
  /** x [B, D, L] → [B, D, L] */
  forward(x: Tensor): Tensor { return conv1dDepthwiseCausal(x, this.weight, this.bias); }
}

/** LayerNorm over the last dimension (torch.nn.LayerNorm(D), eps 1e-5, affine: weight 1, bias 0). */
export class LayerNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly eps: number;
  constructor(readonly normalizedShape: number, opts: { eps?: number; elementwiseAffine?: boolean; bias?: boolean; dtype?: DType; device?: string } = {}) {
    super();
    checkSize('LayerNorm', 'normalizedShape', normalizedShape);
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.elementwiseAffine !== false;
    const o = { dtype: opts.dtype, device: opts.device };
    this.weight = affine ? this.registerParameter('weight', ones([normalizedShape], o)) : null;
    this.bias = affine && opts.bias !== false ? this.registerParameter('bias', zeros([normalizedShape], o)) : null;
  }
  forward(x: Tensor): Tensor { return layerNorm(x, this.weight, this.bias, this.eps); }
}

/** RMSNorm over the last dimension (mamba_ssm's RMSNorm: eps 1e-5, parameter 'weight' = 1). */
export class RMSNorm extends Module {
  readonly weight: Tensor;
  readonly eps: number;
  constructor(readonly dim: number, opts: { eps?: number; dtype?: DType; device?: string } = {}) {
    super();
    checkSize('RMSNorm', 'dim', dim);
    this.eps = opts.eps ?? 1e-5;
    this.weight = this.registerParameter('weight', ones([dim], { dtype: opts.dtype, device: opts.device }));
  }
  forward(x: Tensor): Tensor { return rmsNorm(x, this.weight, this.eps); }
}

/** Inverted dropout while training (module.train()), the identity in eval(). */
export class Dropout extends Module {
  constructor(readonly p = 0.5, readonly opts: { generator?: Generator } = {}) {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Dropout: p must be in [0, 1], got ${p}`);
  }
  forward(x: Tensor): Tensor { return dropout(x, this.p, { training: this.training, generator: this.opts.generator }); }
}
