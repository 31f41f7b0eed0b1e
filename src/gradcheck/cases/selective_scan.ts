/**
 * Gradcheck cases: the selective scan, sequential and chunked, with the fused softplus + bias and
 * the D skip, and without them (Δ given directly, kept positive). A is kept negative.
 */
import type { GradcheckCase } from '../case.js';
import { randLeaf } from '../case.js';
import * as F from '../../ops/index.js';
import type { Tensor } from '../../tensor.js';
import type { Generator } from '../../util/rng.js';

type Scan = typeof F.selectiveScanSequential;

function full(scan: Scan, name: string, B: number, L: number, D: number, N: number, chunkSize?: number, slow = false): GradcheckCase {
  return {
    op: name, shapes: `softplus+bias+D u [${B},${L},${D}] N ${N}${chunkSize ? ` chunk ${chunkSize}` : ''}`, slow,
    build: (g: Generator) => ({
      fn: (u: Tensor, dl: Tensor, A: Tensor, Bm: Tensor, Cm: Tensor, Ds: Tensor, bias: Tensor) =>
        scan(u, dl, A, Bm, Cm, Ds, { deltaBias: bias, deltaSoftplus: true, chunkSize }),
      inputs: [randLeaf(g, [B, L, D]), randLeaf(g, [B, L, D], -1.5, 1), randLeaf(g, [D, N], -2, -0.3), randLeaf(g, [B, L, N]),
        randLeaf(g, [B, L, N]), randLeaf(g, [D]), randLeaf(g, [D], -0.5, 0.5)],
      opts: slow ? { maxElements: 120 } : undefined,
    }),
  };
}

function plain(scan: Scan, name: string, chunkSize?: number): GradcheckCase {
  return {
    op: name, shapes: `Δ given, no D u [2,5,3] N 2${chunkSize ? ` chunk ${chunkSize}` : ''}`,
    build: (g: Generator) => ({
      fn: (u: Tensor, dl: Tensor, A: Tensor, Bm: Tensor, Cm: Tensor) => scan(u, dl, A, Bm, Cm, null, { chunkSize }),
      inputs: [randLeaf(g, [2, 5, 3]), randLeaf(g, [2, 5, 3], 0.1, 1.5), randLeaf(g, [3, 2], -2, -0.3), randLeaf(g, [2, 5, 2]), randLeaf(g, [2, 5, 2])],
    }),
  };
}

export const cases: GradcheckCase[] = [
  full(F.selectiveScanSequential, 'selectiveScanSequential', 2, 7, 3, 4),
  plain(F.selectiveScanSequential, 'selectiveScanSequential'),
  full(F.selectiveScanChunked, 'selectiveScanChunked', 2, 7, 3, 4, 4),
  full(F.selectiveScanChunked, 'selectiveScanChunked', 1, 9, 2, 3, 2),
  plain(F.selectiveScanChunked, 'selectiveScanChunked', 2),
  full(F.selectiveScanChunked, 'selectiveScanChunked', 2, 40, 6, 16, 16, true),
];
