/**
 * matmul: square 128³–1024³ and the Linear-layer shape (B·L = 8192)×64 · 64×256 (PEERS-CPU.md,
 * benchmark 1), plus the LSTM's recurrent product 32×64 · 64×256. Peers: tfjs, and numpy's
 * OpenBLAS sgemm (the reference a native GEMM is judged by), timed in a python3 subprocess with
 * OPENBLAS_NUM_THREADS set to the engine's thread count: the same protocol (median of timed runs
 * after a warm-up, the output allocated per call as ours is).
 */
import { spawnSync } from 'node:child_process';
import type { BenchCase, BenchSuite, EngineContext, Tfjs } from '../types.js';
import { randn, matmul, type Tensor } from '../../src/index.js';
import type { Tensor as TfTensor } from '@tensorflow/tfjs';

const NUMPY_TIMER = `
import sys, json, time
import numpy as np
M, K, N, min_samples, max_time = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
rng = np.random.default_rng(0)
a = rng.standard_normal((M, K), dtype=np.float32); b = rng.standard_normal((K, N), dtype=np.float32)
for _ in range(3): a @ b
reps = 1
while True:  # batch tiny products so a sample is >= 1 ms (timer resolution)
    t0 = time.perf_counter()
    for _ in range(reps): a @ b
    if time.perf_counter() - t0 >= 1e-3 or reps >= 1 << 16: break
    reps *= 2
out, t_end = [], time.perf_counter() + max_time
while len(out) < min_samples or time.perf_counter() < t_end:
    t0 = time.perf_counter()
    for _ in range(reps): a @ b
    out.append((time.perf_counter() - t0) * 1e3 / reps)
    if len(out) >= 2000: break
print(json.dumps({"ms": out, "numpy": np.__version__, "blas": str(np.show_config(mode="dicts")["Build Dependencies"]["blas"].get("version", "?"))}))
`;

/** numpy's `a @ b` (OpenBLAS sgemm) at `threads` threads: run times in ms, or an error saying why not. */
export function numpyMatmul(M: number, K: number, N: number, ctx: EngineContext, maxTime: number): number[] {
  const r = spawnSync(process.env.PIXELBYTES_PYTHON ?? 'python3', ['-c', NUMPY_TIMER, String(M), String(K), String(N), '10', String(maxTime)], {
    encoding: 'utf8', timeout: 120_000,
    env: { ...process.env, OPENBLAS_NUM_THREADS: String(ctx.threads), OMP_NUM_THREADS: String(ctx.threads), MKL_NUM_THREADS: String(ctx.threads) },
  });
  if (r.error) throw new Error(`python3 not runnable (${r.error.message})`);
  if (r.status !== 0) throw new Error(`python3 + numpy failed: ${(r.stderr || '').trim().split('\n').pop()}`);
  return (JSON.parse(r.stdout) as { ms: number[] }).ms;
}

function matmulCase(M: number, K: number, N: number, shape: string, quick: boolean): BenchCase {
  const QUICK = process.argv.includes('--quick');
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
      numpy: {
        setup: () => null,
        run: () => undefined,
        external: (ctx) => numpyMatmul(M, K, N, ctx, QUICK ? 0.25 : 1),
      },
    },
  };
}

export const suite: BenchSuite = {
  name: 'matmul',
  cases: () => [
    ...[128, 256, 512, 1024].map((n) => matmulCase(n, n, n, `${n}x${n}x${n}`, n <= 256)),
    matmulCase(8192, 64, 256, '(8192x64)·(64x256)', true),
    matmulCase(32, 64, 256, '(32x64)·(64x256)', true),
  ],
};
