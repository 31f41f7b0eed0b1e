/**
 * clipGradNorm: torch.nn.utils.clip_grad_norm_ (norm_type 2). The total norm is the 2-norm of all
 * gradients together, √(Σ_p Σ_i g²) (kernel 'sum_squares' per tensor, summed on the host in
 * float64); if it exceeds maxNorm every gradient is scaled in place by maxNorm / (norm + 1e-6).
 * Parameters without a gradient are skipped. Returns the total norm (before clipping).
 */
import type { Tensor } from '../tensor.js';
import { empty } from '../creation.js';
import { runKernel } from '../dispatch/dispatch.js';
import { noGrad } from '../autograd/grad_mode.js';

export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  if (!(maxNorm >= 0)) throw new RangeError(`clipGradNorm: maxNorm must be ≥ 0, got ${maxNorm}`);
  const grads = [...params].map((p) => p.grad).filter((g): g is Tensor => g !== null);
  if (grads.length === 0) return 0;
  return noGrad(() => {
    let total = 0;
    for (const g of grads) {
      const out = empty([1], g.dtype, g.device);
      runKernel('sum_squares', [out], [g]);
      total += out.item();
      out.dispose();
    }
    const norm = Math.sqrt(total);
    const coef = maxNorm / (norm + 1e-6);
    if (coef < 1) for (const g of grads) runKernel('affine', [g], [g], [], [coef, 0]);
    return norm;
  });
}
