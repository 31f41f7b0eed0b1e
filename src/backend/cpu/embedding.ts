/**
 * CPU reference kernels for the embedding lookup and its deterministic backward.
 * ids are int32; an id outside [0, V) throws (the front-end checks first, on the host, with the
 * id's multi-dimensional position; the kernels check again so a direct call cannot read out of
 * bounds).
 */
import { registerCpuKernel } from './device.js';

function badId(kernel: string, id: number, i: number, V: number): Error {
  return new RangeError(`${kernel}: id ${id} at flat position ${i} is out of range for a vocabulary of ${V} rows`);
}

// out [N, D] = weight [V, D] gathered by ids [N]
// outs = [out]; ins = [weight, ids (int32)]; ints = [N, V, D]
//
//   out[i, :] = weight[ids[i], :]
registerCpuKernel('embedding', ([out], [weight, ids], [N, V, D]) => {
  for (let i = 0; i < N; i++) {
    const id = ids[i];
    if (id < 0 || id >= V) throw badId('embedding', id, i, V);
    const src = id * D, dst = i * D;
    for (let d = 0; d < D; d++) out[dst + d] = weight[src + d];
  }
});

// dW [V, D] from g [N, D] and ids [N]: a scatter-add in index order (deterministic: row v receives
// its contributions in increasing i, every run, on every device that mirrors this order).
// outs = [dW]; ins = [g, ids (int32)]; ints = [N, V, D]
//
//   dW = 0;  for i = 0 … N−1:  dW[ids[i], :] += g[i, :]
registerCpuKernel('embedding_backward', ([dW], [g, ids], [N, V, D]) => {
  dW.fill(0);
  for (let i = 0; i < N; i++) {
    const id = ids[i];
    if (id < 0 || id >= V) throw badId('embedding_backward', id, i, V);
    const dst = id * D, src = i * D;
    for (let d = 0; d < D; d++) dW[dst + d] += g[src + d];
  }
});
