/**
 * The trainer's optimizer: AdamW with the paper's settings (PyTorch defaults: lr 1e-3, betas
 * 0.9/0.999, eps 1e-8, weight decay 0.01 on every parameter, spec §4.1), optional gradient
 * clipping (off in the original), and its state for checkpoints.
 */
import { AdamW, clipGradNorm, type OptimizerStateDict } from '../../src/optim/index.js';
import type { TrainConfig } from './config.js';
import type { PixelBytesModel } from './model.js';

export interface Optimizer {
  step(): void;
  zeroGrad(): void;
  state(): OptimizerStateDict;
  loadState(sd: OptimizerStateDict): void;
}

export function makeOptimizer(model: PixelBytesModel, tc: Pick<TrainConfig, 'lr' | 'betas' | 'eps' | 'weightDecay' | 'clipGradNorm'>): Optimizer {
  const params = model.parameters();
  const adamw = new AdamW(params, { lr: tc.lr, betas: [tc.betas[0], tc.betas[1]], eps: tc.eps, weightDecay: tc.weightDecay });
  return {
    step: () => {
      if (tc.clipGradNorm > 0) clipGradNorm(params, tc.clipGradNorm);
      adamw.step();
    },
    zeroGrad: () => adamw.zeroGrad(),
    state: () => adamw.stateDict(),
    loadState: (sd) => adamw.loadStateDict(sd),
  };
}
