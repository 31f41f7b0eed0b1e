/**
 * The SIMT emulator (native/emu) on kernels with known results: a shared-memory block reduction,
 * a warp-shuffle reduction + ballot, an inclusive block scan (warp scans with __shfl_up_sync),
 * a shared-memory tiled transpose with 2-D blocks, atomics, and the bugs it must expose: a
 * missing barrier (deterministically wrong), an early return before a barrier, divergent
 * barriers, a shuffle/barrier deadlock, an invalid launch configuration.
 */
import { describe, it, expect } from 'vitest';
import { Generator } from '../../src/util/rng.js';
import { emuAddon, uniform, ints, expectClose } from './helpers.js';
import type { NativeAddon, NativeHandle } from '../../src/backend/native/addon.js';

const { addon, reason } = emuAddon();

describe.skipIf(!addon)(`SIMT emulator${addon ? '' : ` — skipped: ${reason}`}`, () => {
  const a = addon as NativeAddon;
  const up = (x: Float32Array | Int32Array): NativeHandle => {
    const h = a.alloc(x instanceof Float32Array ? 'float32' : 'int32', x.length, false);
    a.copyIn(h, x);
    return h;
  };
  const down = (h: NativeHandle, n: number, dtype: 'float32' | 'int32' = 'float32') => {
    const out = dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
    a.copyOut(h, out);
    return out;
  };
  const g = new Generator(7);

  it('block reduction through shared memory and __syncthreads', () => {
    for (const n of [1, 7, 256, 1000]) {
      const x = uniform(g, n);
      const blocks = Math.ceil(n / 256);
      const out = a.alloc('float32', blocks);
      a.launch('selftest_block_reduce', [out], [up(x)], [n], []);
      const ref = Array.from({ length: blocks }, (_, b) => x.slice(b * 256, (b + 1) * 256).reduce((s, v) => s + v, 0));
      // float32 tree vs float64 sequential sum of ≤ 256 values in [−1, 1]: a few ulps of ~16
      expectClose(down(out, blocks), ref, { atol: 1e-5, rtol: 1e-5 }, `block reduce n=${n}`);
    }
  });

  it('warp reduction with __shfl_down_sync and __ballot_sync', () => {
    const n = 200;   // the last warp is partly past the end (those lanes add 0)
    const x = uniform(g, n);
    const warps = Math.ceil(n / 32);
    const sums = a.alloc('float32', warps), ballots = a.alloc('int32', warps);
    a.launch('selftest_warp_reduce', [sums, ballots], [up(x)], [n], []);
    const refSum: number[] = [], refBallot: number[] = [];
    for (let w = 0; w < warps; w++) {
      let s = 0, b = 0;
      for (let l = 0; l < 32 && w * 32 + l < n; l++) { s += x[w * 32 + l]; if (x[w * 32 + l] > 0) b |= 1 << l; }
      refSum.push(s); refBallot.push(b | 0);
    }
    expectClose(down(sums, warps), refSum, { atol: 1e-5, rtol: 1e-5 }, 'warp sums');   // 32 terms, tree vs sequential
    expect(Array.from(down(ballots, warps, 'int32'))).toEqual(refBallot);
  });

  it('inclusive block scan (warp scans with __shfl_up_sync, then the warp totals)', () => {
    for (const n of [1, 33, 256, 700]) {
      const x = uniform(g, n, 0, 1);
      const out = a.alloc('float32', n);
      a.launch('selftest_block_scan', [out], [up(x)], [n], []);
      const ref = new Float64Array(n);
      for (let i = 0; i < n; i++) ref[i] = (i % 256 === 0 ? 0 : ref[i - 1]) + x[i];
      expectClose(down(out, n), ref, { atol: 1e-4, rtol: 1e-5 }, `scan n=${n}`);   // prefix sums up to ~128
    }
  });

  it('shared-memory tiled transpose with 2-D blocks (exact)', () => {
    for (const [rows, cols] of [[1, 1], [7, 33], [64, 32], [129, 70]]) {
      const x = uniform(g, rows * cols);
      const out = a.alloc('float32', rows * cols);
      a.launch('selftest_transpose', [out], [up(x)], [rows, cols], []);
      const ref = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) ref[c * rows + r] = x[r * cols + c];
      expect(Array.from(down(out, rows * cols))).toEqual(Array.from(ref));
    }
  });

  it('atomicAdd histogram', () => {
    const n = 1000, bins = 13;
    const x = ints(g, n, 0, bins);
    const hist = a.alloc('int32', bins);
    a.launch('selftest_histogram', [hist], [up(x)], [n, bins], []);
    const ref = new Array<number>(bins).fill(0);
    for (const v of x) ref[v]++;
    expect(Array.from(down(hist, bins, 'int32'))).toEqual(ref);
  });

  it('a missing __syncthreads gives a wrong answer (deterministically); with the barrier it is right', () => {
    const n = 512;
    const x = Float32Array.from({ length: n }, (_, i) => i);
    const ref = Array.from({ length: n }, (_, i) => Math.floor(i / 256) * 256 + 255 - (i % 256));
    const fixed = a.alloc('float32', n), broken = a.alloc('float32', n);
    a.launch('selftest_reverse', [fixed], [up(x)], [n, 1], []);
    a.launch('selftest_reverse', [broken], [up(x)], [n, 0], []);
    expect(Array.from(down(fixed, n))).toEqual(ref);
    const got = down(broken, n);
    // threads run in order until a barrier: thread t < 128 reads s[255 − t] before it was written
    // (the poison, NaN); threads ≥ 128 read values written earlier in the same block
    let wrong = 0;
    for (let i = 0; i < n; i++) if (!(got[i] === ref[i])) wrong++;
    expect(wrong).toBe(256);
    expect(Number.isNaN(got[0]) && Number.isNaN(got[127]) && got[128] === ref[128]).toBe(true);
  });

  it('reports a thread that returns before a barrier the others wait at', () => {
    const out = a.alloc('float32', 128);
    expect(() => a.launch('selftest_early_return', [out], [up(uniform(g, 128))], [100], []))
      .toThrow(/selftest_early_return.*thread \(100,0,0\) returned while other threads wait at __syncthreads\(\).*selftest\.cu:\d+/);
    // with every thread present the same kernel is fine
    a.launch('selftest_early_return', [out], [up(uniform(g, 128))], [128], []);
  });

  it('reports divergent __syncthreads() call sites', () => {
    expect(() => a.launch('selftest_divergent_barrier', [a.alloc('float32', 64)], [], [], [])).toThrow(/divergent __syncthreads\(\): thread \(0,0,0\) waits at selftest\.cu:\d+, thread \(1,0,0\) at selftest\.cu:\d+/);
  });

  it('reports a deadlock between a warp shuffle and a block barrier', () => {
    expect(() => a.launch('selftest_shuffle_deadlock', [a.alloc('float32', 32)], [], [], [])).toThrow(/deadlock: threads \(0,0,0\)-\(15,0,0\) wait at __shfl_xor_sync.*threads \(16,0,0\)-\(31,0,0\) wait at __syncthreads\(\)/);
  });

  it('refuses an invalid launch configuration with the CUDA error name', () => {
    let err: (Error & { code?: string; kernel?: string }) | null = null;
    try { a.launch('selftest_invalid_launch', [a.alloc('float32', 1)], [], [], []); } catch (e) { err = e as Error; }
    expect(err?.message).toMatch(/cuda-emu kernel 'selftest_invalid_launch'.*invalid configuration argument/);
    expect(err?.code).toBe('cudaErrorInvalidConfiguration');
    expect(err?.kernel).toBe('selftest_invalid_launch');
  });

  it('keeps working after an error (the scheduler resets between launches)', () => {
    try { a.launch('selftest_shuffle_deadlock', [a.alloc('float32', 32)], [], [], []); } catch { /* expected */ }
    const x = uniform(g, 300);
    const out = a.alloc('float32', 2);
    a.launch('selftest_block_reduce', [out], [up(x)], [300], []);
    const r = down(out, 2);
    expect(r[1]).toBeCloseTo(x.slice(256).reduce((s, v) => s + v, 0), 4);
  });
});
