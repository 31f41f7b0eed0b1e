/**
 * MambaBlock: mamba_ssm's `Mamba` module (Mamba-1, mamba_simple.py), with its parameter names and
 * default initialisation:
 *
 *   in_proj   Linear(D → 2·d_inner, no bias)              default Linear init
 *   conv1d    depthwise causal Conv1d(d_inner, kernel d_conv, padding d_conv − 1, bias)
 *   x_proj    Linear(d_inner → dt_rank + 2·d_state, no bias)
 *   dt_proj   Linear(dt_rank → d_inner, bias): weight ~ U(±dt_rank^−0.5·dt_scale); bias = softplus⁻¹(dt),
 *             dt = exp(U(log dt_min, log dt_max)) clamped ≥ dt_init_floor, softplus⁻¹(y) = y + log(−expm1(−y))
 *   A_log     [d_inner, d_state] = log(1 … d_state) in every row (S4D-real: A = −exp(A_log) = −(1 … N))
 *   D         [d_inner] = 1
 *   out_proj  Linear(d_inner → D, no bias)
 *   d_inner = expand·D (expand 2), dt_rank = ⌈D / 16⌉ ('auto'), d_state 16, d_conv 4 (mamba_ssm's
 *   defaults). PixelBytes (SPEC §3.4) passes d_state = 64: MambaBlock(81, {dState: 64}) has
 *   in_proj 81→324, conv1d 162 ch, x_proj 162→134, dt_proj 6→162, out_proj 162→81.
 *
 * forward (x [B, L, D] → [B, L, D]), as mamba_simple's reference path:
 *   x, z = split(in_proj(u));  x = SiLU(conv1d(x));  (δ, B, C) = split(x_proj(x));  δ = dt_proj.weight·δ
 *   y = selective_scan(x, δ, A = −exp(A_log), B, C, D, delta_bias = dt_proj.bias, delta_softplus)
 *   out = out_proj(y ⊙ SiLU(z))
 */
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { rand, fromArray, ones } from '../creation.js';
import { defaultGenerator } from '../util/rng.js';
import { shapeStr } from '../util/shape.js';
import { linear } from '../ops/matmul.js';
import { exp, mul, neg, silu } from '../ops/elementwise.js';
import { slice, transpose } from '../ops/layout.js';
import { selectiveScan } from '../ops/selective_scan.js';
import { Linear, Conv1dDepthwiseCausal, type InitOptions } from './layers.js';

export interface MambaOptions extends InitOptions {
  /** N, the SSM state size per channel (mamba_ssm default 16; PixelBytes uses 64). */
  dState?: number;
  /** Kernel of the depthwise causal conv (default 4). */
  dConv?: number;
  /** d_inner = expand · dModel (default 2). */
  expand?: number;
  /** Rank of Δ's projection; default ⌈dModel / 16⌉. */
  dtRank?: number;
  dtMin?: number;
  dtMax?: number;
  dtScale?: number;
  dtInitFloor?: number;
  /** Bias of conv1d (default true). */
  convBias?: boolean;
  /** Bias of in_proj and out_proj (default false). */
  bias?: boolean;
  /** Chunk length of the selective scan (a power of two, default 64). */
  chunkSize?: number;
}

export class MambaBlock extends Module {
  readonly dState: number;
  readonly dConv: number;
  readonly dInner: number;
  readonly dtRank: number;
  readonly chunkSize: number;
  readonly inProj: Linear;
  readonly conv1d: Conv1dDepthwiseCausal;
  readonly xProj: Linear;
  readonly dtProj: Linear;
  readonly aLog: Tensor;
  readonly D: Tensor;
  readonly outProj: Linear;

  constructor(readonly dModel: number, opts: MambaOptions = {}) {
    super();
    if (!Number.isInteger(dModel) || dModel < 1) throw new RangeError(`MambaBlock: dModel must be an integer ≥ 1, got ${dModel}`);
    this.dState = opts.dState ?? 16;
    this.dConv = opts.dConv ?? 4;
    this.dInner = (opts.expand ?? 2) * dModel;
    this.dtRank = opts.dtRank ?? Math.ceil(dModel / 16);
    this.chunkSize = opts.chunkSize ?? 64;
    const N = this.dState, Di = this.dInner, R = this.dtRank;
    const gen = opts.generator ?? defaultGenerator;
    const init = { generator: gen, dtype: opts.dtype, device: opts.device };
    const o = { dtype: opts.dtype ?? 'float32', device: opts.device };
    this.inProj = this.registerModule('in_proj', new Linear(dModel, 2 * Di, { ...init, bias: opts.bias ?? false }));
    this.conv1d = this.registerModule('conv1d', new Conv1dDepthwiseCausal(Di, this.dConv, { ...init, bias: opts.convBias ?? true }));
    this.xProj = this.registerModule('x_proj', new Linear(Di, R + 2 * N, { ...init, bias: false }));
    this.dtProj = this.registerModule('dt_proj', new Linear(R, Di, init));
    // dt_proj: weight U(±dt_rank^−0.5·dt_scale), bias = softplus⁻¹(dt), dt log-uniform in [dt_min, dt_max]
    const std = R ** -0.5 * (opts.dtScale ?? 1);
    const w = rand([Di, R], { lo: -std, hi: std, ...init });
    this.dtProj.weight.assign(w); w.dispose();
    const dtMin = opts.dtMin ?? 1e-3, dtMax = opts.dtMax ?? 0.1, floor = opts.dtInitFloor ?? 1e-4;
    const invDt = new Float64Array(Di);
    for (let d = 0; d < Di; d++) {
      const dt = Math.max(Math.exp(gen.random() * (Math.log(dtMax) - Math.log(dtMin)) + Math.log(dtMin)), floor);
      invDt[d] = dt + Math.log(-Math.expm1(-dt));
    }
    const b = fromArray(invDt, [Di], o);
    this.dtProj.bias!.assign(b); b.dispose();
    const aLog = new Float64Array(Di * N);
    for (let d = 0; d < Di; d++) for (let n = 0; n < N; n++) aLog[d * N + n] = Math.log(n + 1);
    this.aLog = this.registerParameter('A_log', fromArray(aLog, [Di, N], o));
    this.D = this.registerParameter('D', ones([Di], o));
    this.outProj = this.registerModule('out_proj', new Linear(Di, dModel, { ...init, bias: opts.bias ?? false }));
  }

  /** x [B, L, dModel] → [B, L, dModel] */
  forward(x: Tensor): Tensor {
    if (x.ndim !== 3 || x.shape[2] !== this.dModel) throw new RangeError(`MambaBlock: input must have shape [B, L, ${this.dModel}], got ${shapeStr(x.shape)}`);
    const Di = this.dInner, R = this.dtRank, N = this.dState;
    const xz = this.inProj.forward(x);                                           // [B, L, 2·Di]
    const xs = slice(xz, 2, 0, Di), z = slice(xz, 2, Di, 2 * Di);
    const xc = transpose(this.conv1d.forward(transpose(xs, 1, 2)), 1, 2);         // causal conv over L
    const u = silu(xc);                                                          // [B, L, Di]
    const xdbl = this.xProj.forward(u);                                          // [B, L, R + 2N]
    const dt = slice(xdbl, 2, 0, R), Bm = slice(xdbl, 2, R, R + N), Cm = slice(xdbl, 2, R + N, R + 2 * N);
    const delta = linear(dt, this.dtProj.weight);                                // δ, bias fused in the scan
    const A = neg(exp(this.aLog));
    const y = selectiveScan(u, delta, A, Bm, Cm, this.D, { deltaBias: this.dtProj.bias, deltaSoftplus: true, chunkSize: this.chunkSize });
    return this.outProj.forward(mul(y, silu(z)));
  }
}
