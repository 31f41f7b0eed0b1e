/**
 * CPU reference kernels for the classification losses, logits viewed as [N, C] and int32 targets
 * [N]. A target equal to ignoreIndex makes its row contribute zero loss and zero gradient. Targets
 * are checked by the op (ops/loss.ts) before these run.
 *
 * Cross entropy is fused: the forward writes each row's loss and its log-sum-exp (N floats, saved
 * for the backward), the backward recomputes softmax = exp(x − lse) on the fly, so no [N, C]
 * log-probabilities are ever stored.
 */
import { registerCpuKernel } from './device.js';

// lse[r]  = m_r + log Σ_c exp(x[r, c] − m_r),   m_r = max_c x[r, c]
// loss[r] = lse[r] − x[r, t_r]   (0 where t_r = ignoreIndex; lse is still written)
// outs = [loss [N], lse [N]], ins = [logits [N, C], targets int32 [N]], ints = [N, C, ignoreIndex]
registerCpuKernel('cross_entropy', ([loss, lse], [x, targets], [N, C, ignoreIndex]) => {
  for (let r = 0; r < N; r++) {
    const b = r * C;
    let m = -Infinity;
    for (let c = 0; c < C; c++) if (x[b + c] > m) m = x[b + c];
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(x[b + c] - m);
    const l = m + Math.log(s);
    lse[r] = l;
    const t = targets[r];
    loss[r] = t === ignoreIndex ? 0 : l - x[b + t];
  }
});

// dx[r, c] = scale · g[r · gStride] · (exp(x[r, c] − lse[r]) − [c = t_r]),   0 on ignored rows.
// gStride = 1: g is per row [N] (reduction 'none'); gStride = 0: g is the one scalar gradient of
// a 'sum' or 'mean' (scale = 1/count for the mean, 1 otherwise).
// ins = [logits [N, C], targets [N], lse [N], g], ints = [N, C, ignoreIndex, gStride], floats = [scale]
registerCpuKernel('cross_entropy_backward', ([dx], [x, targets, lse, g], [N, C, ignoreIndex, gStride], [scale]) => {
  for (let r = 0; r < N; r++) {
    const b = r * C, t = targets[r];
    if (t === ignoreIndex) { for (let c = 0; c < C; c++) dx[b + c] = 0; continue; }
    const l = lse[r], k = scale * g[r * gStride];
    for (let c = 0; c < C; c++) dx[b + c] = k * Math.exp(x[b + c] - l);
    dx[b + t] -= k;
  }
});

// Negative log-likelihood of log-probabilities: loss[r] = −logp[r, t_r] (0 where ignored).
// outs = [loss [N]], ins = [logp [N, C], targets [N]], ints = [N, C, ignoreIndex]
registerCpuKernel('nll_loss', ([loss], [logp, targets], [N, C, ignoreIndex]) => {
  for (let r = 0; r < N; r++) {
    const t = targets[r];
    loss[r] = t === ignoreIndex ? 0 : -logp[r * C + t];
  }
});

// dx[r, c] = −scale · g[r · gStride] where c = t_r, else 0 (and 0 on ignored rows).
// ins = [targets [N], g], ints = [N, C, ignoreIndex, gStride], floats = [scale]
registerCpuKernel('nll_loss_backward', ([dx], [targets, g], [N, C, ignoreIndex, gStride], [scale]) => {
  dx.fill(0);
  for (let r = 0; r < N; r++) {
    const t = targets[r];
    if (t !== ignoreIndex) dx[r * C + t] = -scale * g[r * gStride];
  }
});
