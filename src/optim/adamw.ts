/**
 * AdamW (Loshchilov & Hutter), exactly as torch.optim.AdamW with its defaults: lr 1e-3,
 * betas (0.9, 0.999), eps 1e-8, weight_decay 0.01, amsgrad off. Per step t of a parameter p with
 * gradient g (one fused in-place kernel 'adamw'):
 *
 *   p ← p − lr·wd·p                                   (decoupled weight decay, applied first)
 *   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
 *   m̂ = m / (1 − β1^t),      v̂ = v / (1 − β2^t)
 *   p ← p − lr·m̂ / (√v̂ + eps)
 *
 * State per parameter, named like PyTorch: step (a number), exp_avg, exp_avg_sq.
 */
import type { Tensor } from '../tensor.js';
import { runKernel } from '../dispatch/dispatch.js';
import { Optimizer, type ParamState, type ParamsArg } from './optimizer.js';

export interface AdamWOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

export const ADAMW_DEFAULTS: AdamWOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 };

export class AdamW extends Optimizer<AdamWOptions> {
  protected readonly stateTensorNames = ['exp_avg', 'exp_avg_sq'] as const;

  constructor(params: ParamsArg<AdamWOptions>, opts: Partial<AdamWOptions> = {}) {
    super(params, { ...ADAMW_DEFAULTS, ...opts }, 'AdamW');
  }

  protected validate(o: AdamWOptions): void {
    const [b1, b2] = o.betas;
    if (!(o.lr >= 0)) throw new RangeError(`AdamW: invalid learning rate ${o.lr}`);
    if (!(o.eps >= 0)) throw new RangeError(`AdamW: invalid eps ${o.eps}`);
    if (!(b1 >= 0 && b1 < 1)) throw new RangeError(`AdamW: invalid beta1 ${b1} (must be in [0, 1))`);
    if (!(b2 >= 0 && b2 < 1)) throw new RangeError(`AdamW: invalid beta2 ${b2} (must be in [0, 1))`);
    if (!(o.weightDecay >= 0)) throw new RangeError(`AdamW: invalid weight_decay ${o.weightDecay}`);
  }

  protected update(p: Tensor, grad: Tensor, o: AdamWOptions, s: ParamState | undefined): ParamState {
    const state = s ?? { step: 0, exp_avg: this.zerosLike(p), exp_avg_sq: this.zerosLike(p) };
    const step = (state.step as number) + 1;
    const [b1, b2] = o.betas;
    const bc1 = 1 - Math.pow(b1, step), bc2 = 1 - Math.pow(b2, step);
    runKernel('adamw', [p, state.exp_avg as Tensor, state.exp_avg_sq as Tensor], [grad], [], [o.lr, b1, b2, o.eps, o.weightDecay, bc1, bc2]);
    state.step = step;
    return state;
  }

  protected hyperToDict(o: AdamWOptions): Record<string, unknown> {
    return { lr: o.lr, betas: [...o.betas], eps: o.eps, weight_decay: o.weightDecay, amsgrad: false, maximize: false };
  }
  protected hyperFromDict(d: Record<string, unknown>): AdamWOptions {
    const betas = d.betas as [number, number];
    if (d.amsgrad === true || d.maximize === true) throw new Error('AdamW.loadStateDict: amsgrad/maximize are not supported');
    if (!Array.isArray(betas) || betas.length !== 2) throw new Error('AdamW.loadStateDict: param group has no valid betas');
    return { lr: Number(d.lr), betas: [Number(betas[0]), Number(betas[1])], eps: Number(d.eps), weightDecay: Number(d.weight_decay) };
  }
}
