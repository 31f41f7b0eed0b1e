/** matmul: square 128³–1024³ and the Linear-layer shape (B·L = 8192)×64 · 64×256 (PEERS-CPU.md, benchmark 1). */
import type { BenchCase, BenchSuite, Tfjs } from '../types.js';
import { randn, matmul, type Tensor } from '../../src/index.js';
import type { Tensor as TfTensor } from '@tensorflow/tfjs';

function matmulCase(M: number, K: number, N: number, shape: string, quick: boolean): BenchCase {
  return {
    op: 'matmul',
    shape,
    flops: 2 * M * K * N,
    quick,
    // tfjs-cpu needs ~2.5 s per 1024³ product: time it 3 times, not benchmark.js's 5+ cycles
    bounds: M * K * N >= 1 << 30 ? { 'tfjs-cpu': { minSamples: 3 } } : undefined,
    impls: {
      ours: {
        setup: () => ({ a: randn([M, K]), b: randn([K, N]) }),
        run: ({ a, b }: { a: Tensor; b: Tensor }) => { matmul(a, b).dispose(); },
        teardown: ({ a, b }: { a: Tensor; b: Tensor }) => { a.dispose(); b.dispose(); },
      },
      tfjs: {
        // timed as in PEERS-CPU.md: the op plus reading the result back (dataSync)
        setup: ({ tf }) => ({ tf, a: tf.randomNormal([M, K]), b: tf.randomNormal([K, N]) }),
        run: ({ tf, a, b }: { tf: Tfjs; a: TfTensor; b: TfTensor }) => { const c = tf.matMul(a, b); c.dataSync(); c.dispose(); },
        teardown: ({ a, b }: { a: TfTensor; b: TfTensor }) => { a.dispose(); b.dispose(); },
      },
    },
  };
}

export const suite: BenchSuite = {
  name: 'matmul',
  cases: () => [
    ...[128, 256, 512, 1024].map((n) => matmulCase(n, n, n, `${n}x${n}x${n}`, n <= 256)),
    matmulCase(8192, 64, 256, '(8192x64)·(64x256)', true),
  ],
};
