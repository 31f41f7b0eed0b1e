/**
 * embedding(weight [V, D], ids int32 [...]) → [..., D]: torch.nn.functional.embedding without
 * padding_idx / max_norm. Backward: a deterministic scatter-add into dW (kernel
 * 'embedding_backward'); ids get no gradient.
 */
import type { Tensor } from '../tensor.js';
import { empty } from '../creation.js';
import { runKernel } from '../dispatch/dispatch.js';
import { record1 } from '../autograd/node.js';
import { shapeStr, stridesOf } from '../util/shape.js';
import { assertFloat, assertSameDevice, hostValues } from './util.js';

/** Throws naming the first id outside [0, V), its position in ids and V (checked on the host). */
function checkIds(ids: Tensor, V: number, weight: Tensor): void {
  const v = hostValues(ids);
  for (let i = 0; i < v.length; i++) {
    if (v[i] < 0 || v[i] >= V) {
      const st = stridesOf(ids.shape);
      const pos = st.map((s, d) => Math.floor(i / s) % ids.shape[d]);
      throw new RangeError(`embedding: id ${v[i]} at position [${pos.join(', ')}] of ids ${shapeStr(ids.shape)} is out of range for a vocabulary of V = ${V} (weight ${shapeStr(weight.shape)})`);
    }
  }
}

export function embedding(weight: Tensor, ids: Tensor): Tensor {
  assertFloat('embedding', weight);
  assertSameDevice('embedding', weight, ids);
  if (weight.ndim !== 2) throw new RangeError(`embedding: weight must be [V, D], got ${shapeStr(weight.shape)}`);
  if (ids.dtype !== 'int32') throw new TypeError(`embedding: ids must be int32, got ${ids.dtype}${shapeStr(ids.shape)}`);
  const [V, D] = weight.shape;
  checkIds(ids, V, weight);
  const N = ids.size;
  const out = empty([...ids.shape, D], weight.dtype, weight.device);
  runKernel('embedding', [out], [weight, ids], [N, V, D]);
  return record1('embedding', [weight], out, [ids], (g, [ids_]) => {
    const dW = empty(weight.shape, weight.dtype, weight.device);
    runKernel('embedding_backward', [dW], [g, ids_], [N, V, D]);
    return [dW];
  });
}
