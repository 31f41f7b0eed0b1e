/**
 * SGD with momentum, as torch.optim.SGD (defaults: momentum 0, dampening 0, weight_decay 0,
 * nesterov off; lr required). One fused in-place kernel 'sgd':
 *
 *   d = g + wd·p;  buf = d (first step) or momentum·buf + (1 − dampening)·d;
 *   d = nesterov ? d + momentum·buf : buf;  p ← p − lr·d
 *
 * State per parameter: step, momentum_buffer (only with momentum ≠ 0).
 */
import type { Tensor } from '../tensor.js';
import { runKernel } from '../dispatch/dispatch.js';
import { Optimizer, type ParamState, type ParamsArg } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

export class SGD extends Optimizer<SGDOptions> {
  protected readonly stateTensorNames = ['momentum_buffer'] as const;
  protected override requiredState(o: SGDOptions): readonly string[] { return o.momentum !== 0 ? this.stateTensorNames : []; }

  constructor(params: ParamsArg<SGDOptions>, opts: Partial<SGDOptions> & { lr: number }) {
    super(params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...opts }, 'SGD');
  }

  protected validate(o: SGDOptions): void {
    if (!(o.lr >= 0)) throw new RangeError(`SGD: invalid learning rate ${o.lr}`);
    if (!(o.momentum >= 0)) throw new RangeError(`SGD: invalid momentum ${o.momentum}`);
    if (!(o.weightDecay >= 0)) throw new RangeError(`SGD: invalid weight_decay ${o.weightDecay}`);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) throw new RangeError('SGD: nesterov momentum requires a momentum and zero dampening');
  }

  protected update(p: Tensor, grad: Tensor, o: SGDOptions, s: ParamState | undefined): ParamState {
    const state: ParamState = s ?? { step: 0 };
    const init = state.momentum_buffer === undefined;
    if (o.momentum !== 0 && init) state.momentum_buffer = this.zerosLike(p);
    const outs = o.momentum !== 0 ? [p, state.momentum_buffer as Tensor] : [p];
    runKernel('sgd', outs, [grad], [init ? 1 : 0, o.nesterov ? 1 : 0], [o.lr, o.momentum, o.dampening, o.weightDecay]);
    state.step = (state.step as number) + 1;
    return state;
  }

  protected hyperToDict(o: SGDOptions): Record<string, unknown> {
    return { lr: o.lr, momentum: o.momentum, dampening: o.dampening, weight_decay: o.weightDecay, nesterov: o.nesterov, maximize: false };
  }
  protected hyperFromDict(d: Record<string, unknown>): SGDOptions {
    return { lr: Number(d.lr), momentum: Number(d.momentum), dampening: Number(d.dampening), weightDecay: Number(d.weight_decay), nesterov: d.nesterov === true };
  }
}
