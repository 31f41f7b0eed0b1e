/**
 * Device memory: dispose/tidy hand bytes back to the caching allocator (memStats), the cache is
 * reused (no raw allocation per op), out-of-memory is an exception with the numbers after one
 * emptyCache retry, and the GC finalizer is the backstop for handles never released.
 */
import { describe, it, expect } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fromArray, zeros, tidy, add, mul, sum, memory, getDevice } from '../../src/index.js';
import { hasDevice } from '../../src/device.js';
import { emuAddon, suiteTitle } from './helpers.js';

const { addon } = emuAddon();
const stats = () => getDevice('cuda-emu').memStats!() as Record<string, number>;

/** A real collector where V8 lets us switch it on at run time (skip, don't fake, otherwise). */
function getGc(): (() => void) | null {
  if (typeof (globalThis as { gc?: () => void }).gc === 'function') return (globalThis as { gc: () => void }).gc;
  try {
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}

describe.skipIf(!hasDevice('cuda-emu') || !addon)(suiteTitle('device memory', 'cuda-emu'), () => {
  const dev = { device: 'cuda-emu' };

  it('dispose returns the bytes to the allocator; a second step reuses the cache', () => {
    const before = stats();
    const x = fromArray(new Float32Array(1000).fill(1), [1000], dev);
    const afterAlloc = stats();
    expect(afterAlloc.allocated - before.allocated).toBe(4096);   // 4000 B rounded to 512
    expect(memory().bytes['cuda-emu']).toBeGreaterThanOrEqual(4000);
    x.dispose();
    x.dispose();   // idempotent
    const afterFree = stats();
    expect(afterFree.allocated).toBe(before.allocated);
    expect(afterFree.cached).toBeGreaterThanOrEqual(4096);
    const y = zeros([1000], dev);
    expect(stats().mallocCount).toBe(afterFree.mallocCount);   // served from the cache
    y.dispose();
    expect(() => x.toArray()).toThrow(/used after dispose/);
  });

  it('tidy frees every intermediate; repeated steps make no new raw allocations', () => {
    const a = fromArray(new Float32Array(300).fill(2), [300], dev);
    const step = () => tidy(() => sum(mul(add(a, a), a)).item());
    expect(step()).toBe(2400);
    const s1 = stats();
    for (let i = 0; i < 5; i++) step();
    const s2 = stats();
    expect(s2.allocated).toBe(s1.allocated);
    expect(s2.mallocCount).toBe(s1.mallocCount);
    expect(s2.cacheHits).toBeGreaterThan(s1.cacheHits);
    a.dispose();
  });

  it('out of memory: one emptyCache retry, then an error with the numbers', () => {
    addon!.emptyCache();
    const base = stats();
    try {
      addon!.setMemoryLimit!(base.allocated + (1 << 20));   // 1 MiB above what is live now
      const big = zeros([200_000], dev);                  // 800 000 B → a 800 256 B block
      big.dispose();                                       // … now cached
      const freesBefore = stats().freeCount;
      const other = zeros([230_000], dev);                 // another size: fits only after the cache is emptied
      expect(stats().freeCount).toBe(freesBefore + 1);
      let err: (Error & { code?: string }) | undefined;
      try { zeros([250_000], dev); } catch (e) { err = e as Error; }
      expect(err?.message).toMatch(/^cuda-emu: out of memory allocating 1000000 bytes \(allocated \d+, cached \d+\)$/);
      expect(err?.code).toBe('cudaErrorMemoryAllocation');
      other.dispose();
    } finally {
      addon!.setMemoryLimit!(0);
    }
  });

  it('the finalizer frees a handle that was never released', async () => {
    const gc = getGc();
    expect(gc, 'global gc (vitest.config.ts passes --expose-gc)').toBeTypeOf('function');
    if (!gc) return;
    addon!.emptyCache();
    const before = addon!.memStats();
    (() => { for (let i = 0; i < 20; i++) addon!.alloc('float32', 10_000); })();   // dropped on the floor
    expect(addon!.memStats().allocated).toBeGreaterThan(before.allocated);
    for (let i = 0; i < 10 && addon!.memStats().allocated > before.allocated; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(addon!.memStats().allocated).toBe(before.allocated);
  });
});
