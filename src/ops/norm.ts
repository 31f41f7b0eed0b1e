/**
 * Normalisation over the last dimension: layerNorm (torch.nn.functional.layer_norm with
 * normalized_shape = [D]) and rmsNorm (mamba_ssm's / mamba-minimal's RMSNorm). Kernels in
 * backend/cpu/norm.ts save the per-row mean and 1/std for the backward.
 */
import type { Tensor } from '../tensor.js';
import { empty } from '../creation.js';
import { runKernel } from '../dispatch/dispatch.js';
import { record1 } from '../autograd/node.js';
import { shapeStr } from '../util/shape.js';
import { assertFloat, assertSameDevice, assertSameDtype } from './util.js';

function checkNorm(op: string, x: Tensor, params: (Tensor | null | undefined)[], eps: number): { N: number; D: number } {
  const ps = params.filter((p): p is Tensor => !!p);
  assertFloat(op, x, ...ps);
  assertSameDtype(op, x, ...ps);
  assertSameDevice(op, x, ...ps);
  if (x.ndim === 0) throw new RangeError(`${op}: input must have at least one dimension, got a scalar`);
  const D = x.shape[x.ndim - 1];
  for (const p of ps) {
    if (p.ndim !== 1 || p.shape[0] !== D) throw new RangeError(`${op}: weight/bias ${shapeStr(p.shape)} must be [${D}], the last dimension of input ${shapeStr(x.shape)}`);
  }
  if (!(eps >= 0)) throw new RangeError(`${op}: eps must be ≥ 0, got ${eps}`);
  return { N: D === 0 ? 0 : x.size / D, D };
}

/**
 * LayerNorm over the last dimension: (x − mean) / √(var + eps) · weight + bias, var biased
 * (÷D) as PyTorch. weight and bias are optional, independently. eps defaults to 1e-5 (PyTorch).
 */
export function layerNorm(x: Tensor, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const { N, D } = checkNorm('layerNorm', x, [weight, bias], eps);
  const hw = weight ? 1 : 0, hb = bias ? 1 : 0;
  const ins = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  const y = empty(x.shape, x.dtype, x.device);
  const mean = empty([N], x.dtype, x.device), rstd = empty([N], x.dtype, x.device);
  runKernel('layernorm', [y, mean, rstd], ins, [N, D, hw, hb], [eps]);
  const out = record1('layerNorm', ins, y, [x, mean, rstd, ...(weight ? [weight] : [])], (g, [x_, m_, r_, w_]) => {
    const dx = empty(x.shape, x.dtype, x.device);
    const dw = weight ? empty(weight.shape, x.dtype, x.device) : null;
    const db = bias ? empty(bias.shape, x.dtype, x.device) : null;
    runKernel('layernorm_backward', [dx, ...(dw ? [dw] : []), ...(db ? [db] : [])], [g, x_, m_, r_, ...(w_ ? [w_] : [])], [N, D, hw, hb]);
    return [dx, ...(weight ? [dw] : []), ...(bias ? [db] : [])];
  });
  mean.dispose(); rstd.dispose();     // the node holds its own handles
  return out;
}

/**
 * RMSNorm over the last dimension: x / √(mean(x²) + eps) · weight. eps defaults to 1e-5, the
 * default of mamba_ssm's RMSNorm (mamba_ssm/ops/triton/layer_norm.py) and of mamba-minimal;
 * torch.nn.RMSNorm's own default (eps=None) would be torch.finfo(dtype).eps instead.
 */
export function rmsNorm(x: Tensor, weight?: Tensor | null, eps = 1e-5): Tensor {
  const { N, D } = checkNorm('rmsNorm', x, [weight], eps);
  const hw = weight ? 1 : 0;
  const ins = weight ? [x, weight] : [x];
  const y = empty(x.shape, x.dtype, x.device);
  const rstd = empty([N], x.dtype, x.device);
  runKernel('rmsnorm', [y, rstd], ins, [N, D, hw], [eps]);
  const out = record1('rmsNorm', ins, y, weight ? [x, rstd, weight] : [x, rstd], (g, [x_, r_, w_]) => {
    const dx = empty(x.shape, x.dtype, x.device);
    const dw = weight ? empty(weight.shape, x.dtype, x.device) : null;
    runKernel('rmsnorm_backward', dw ? [dx, dw] : [dx], w_ ? [g, x_, r_, w_] : [g, x_, r_], [N, D, hw]);
    return weight ? [dx, dw] : [dx];
  });
  rstd.dispose();
  return out;
}
