// The CPU thread pool must not keep the tensors it has worked on alive: a training loop is one
// synchronous job, so anything the pool held (WeakRef targets, buffers posted to workers) used to
// accumulate — ≈ 2 MB per 1024×256 matmul, until the OOM killer stopped a 10-minute run.
import { describe, it, expect, afterAll } from 'vitest';
import { randn, matmul, tidy, setNumThreads, getNumThreads } from '../../src/index.js';
import { threadStats, whenThreadsReady } from '../../src/backend/cpu/threads.js';

const gc = (globalThis as { gc?: () => void }).gc;   // vitest runs with --expose-gc (vitest.config.ts)

describe('CPU thread pool memory', () => {
  const before = getNumThreads();
  afterAll(() => setNumThreads(before));

  it('array-buffer memory stays flat over hundreds of threaded matmuls on fresh tensors', async () => {
    expect(gc, 'vitest must run with --expose-gc').toBeTypeOf('function');
    setNumThreads(2);
    expect(await whenThreadsReady()).toBe(true);
    const w = randn([256, 64]);
    const step = () => tidy(() => { matmul(randn([1024, 256]), w); });   // 1 MB in, 1 MB out, fresh each time
    for (let i = 0; i < 20; i++) step();
    gc!();
    const base = process.memoryUsage().arrayBuffers;
    const chunks = threadStats().workerChunks;
    for (let i = 0; i < 200; i++) step();
    gc!();
    await new Promise((r) => setTimeout(r, 50));
    gc!();
    const grown = process.memoryUsage().arrayBuffers - base;
    expect(threadStats().workerChunks).toBeGreaterThan(chunks);            // the workers did take part
    // 200 steps used to pin ≈ 250 MB; the pool's own scratch is a few MB and allocated before `base`
    expect(grown, `array buffers grew by ${(grown / 1e6).toFixed(1)} MB`).toBeLessThan(32e6);
  });
});
