/**
 * CPU reference kernels for the optimizers: fused in-place AdamW and SGD updates, and the sum of
 * squares that gradient clipping reduces to. Each update reads and writes every element once;
 * the arithmetic follows PyTorch's single-tensor implementations step by step (see the formulas).
 */
import { registerCpuKernel } from './device.js';

// AdamW, in place, as torch.optim.AdamW (amsgrad=False, maximize=False):
//   p ← p · (1 − lr·wd)                                  decoupled weight decay
//   m ← m + (1 − β1)·(g − m)                             exp_avg.lerp_(grad, 1 − β1)
//   v ← β2·v + (1 − β2)·g²                               exp_avg_sq.mul_(β2).addcmul_(g, g, 1 − β2)
//   p ← p − (lr / bc1) · m / (√v / √bc2 + eps)           bc1 = 1 − β1^t, bc2 = 1 − β2^t (host, float64)
// outs = [param, exp_avg, exp_avg_sq] (updated in place; the same storages are read first);
// ins = [grad]; ints = []; floats = [lr, beta1, beta2, eps, weight_decay, bias_correction1, bias_correction2]
registerCpuKernel('adamw', ([p, m, v], [g], _ints, [lr, beta1, beta2, eps, wd, bc1, bc2]) => {
  const decay = 1 - lr * wd, a1 = 1 - beta1, a2 = 1 - beta2;
  const stepSize = lr / bc1, bc2Sqrt = Math.sqrt(bc2);
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    const mi = m[i] + a1 * (gi - m[i]);
    const vi = beta2 * v[i] + a2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - stepSize * mi / (Math.sqrt(vi) / bc2Sqrt + eps);
  }
});

// SGD with momentum, in place, as torch.optim.SGD:
//   d ← g + wd·p
//   first step (init = 1):  buf ← d;   later:  buf ← momentum·buf + (1 − dampening)·d
//   nesterov: d ← d + momentum·buf, else d ← buf      (momentum = 0: d stays g + wd·p, buf unused)
//   p ← p − lr·d
// outs = [param, momentum_buffer] (the buffer may be absent when momentum = 0); ins = [grad];
// ints = [init, nesterov]; floats = [lr, momentum, dampening, weight_decay]
registerCpuKernel('sgd', (outs, [g], [init, nesterov], [lr, momentum, dampening, wd]) => {
  const p = outs[0], buf = outs[1];
  for (let i = 0; i < p.length; i++) {
    let d = wd !== 0 ? g[i] + wd * p[i] : g[i];
    if (momentum !== 0) {
      const b = init ? d : momentum * buf[i] + (1 - dampening) * d;
      buf[i] = b;
      d = nesterov ? d + momentum * b : b;
    }
    p[i] = p[i] - lr * d;
  }
});

// out [1] = Σ_i x_i² (summed in float64)     outs = [out]; ins = [x]
registerCpuKernel('sum_squares', ([out], [x]) => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  out[0] = s;
});
