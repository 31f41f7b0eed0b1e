/**
 * Runs (case, engine) pairs: setup, one warm-up run (which also picks the sampling bounds), the
 * timed runs, teardown. Timing: benchmark.js; the median is taken over `bench.stats.sample`
 * (seconds per run of each cycle). Runs over a second are timed with a plain loop instead,
 * because benchmark.js executes every cycle once more as an untimed pretest.
 */
import Benchmark from 'benchmark';
import type { BenchCase, BenchResult, Bounds, EngineId } from './types.js';
import type { Engine } from './engines.js';

export interface Selected { suite: string; c: BenchCase }
export interface RunOptions { quick: boolean; log: (line: string) => void }

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Sampling bounds from the warm-up time, then the case's overrides. */
function boundsFor(warmMs: number, quick: boolean, override: Bounds | undefined): Required<Bounds> {
  let b: Required<Bounds>;
  if (warmMs > 200) b = { minSamples: quick ? 2 : 4, maxTime: quick ? 0.3 : 1 };
  else if (warmMs > 20) b = { minSamples: quick ? 3 : 6, maxTime: quick ? 0.3 : 1 };
  else b = { minSamples: quick ? 5 : 10, maxTime: quick ? 0.25 : 1 };
  if (override?.minSamples !== undefined) b.minSamples = quick ? Math.min(override.minSamples, b.minSamples) : override.minSamples;
  if (override?.maxTime !== undefined) b.maxTime = quick ? Math.min(override.maxTime, b.maxTime) : override.maxTime;
  return b;
}

function timeOne(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

export async function runAll(selected: Selected[], engines: Engine[], opts: RunOptions): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const engine of engines) {
    const mine = selected.filter(({ c }) => c.impls[engine.family]);
    if (mine.length === 0) continue;
    let ctx;
    try {
      ctx = await engine.prepare();
    } catch (e) {
      for (const { suite, c } of mine) results.push(errorResult(suite, c, engine, e));
      opts.log(`${engine.id}: unavailable (${(e as Error).message})`);
      continue;
    }
    for (const { suite, c } of mine) {
      const impl = c.impls[engine.family]!;
      let state: unknown;
      try {
        let samplesMs: number[];
        let method: BenchResult['method'];
        if (impl.external) {
          method = 'external';
          samplesMs = impl.external(ctx);
        } else {
          state = await impl.setup(ctx);
          const run = () => impl.run(state);
          const warmMs = Math.min(timeOne(run), timeOne(run));
          const bounds = boundsFor(warmMs, opts.quick, c.bounds?.[engine.id]);
          if (warmMs > 1000) {
            method = 'loop';
            samplesMs = [];
            for (let i = 0; i < bounds.minSamples; i++) samplesMs.push(timeOne(run));
          } else {
            method = 'benchmark.js';
            const bench = new Benchmark(`${c.op} ${c.shape} ${engine.id}`, run, { minSamples: bounds.minSamples, maxTime: bounds.maxTime, initCount: 1 });
            bench.run({ async: false });
            if (bench.error) throw bench.error;
            samplesMs = bench.stats.sample.map((s) => s * 1e3);
          }
        }
        const med = median(samplesMs);
        const r: BenchResult = {
          suite, op: c.op, shape: c.shape, engine: engine.id, threads: engine.threads, flops: c.flops,
          medianMs: med, minMs: Math.min(...samplesMs), maxMs: Math.max(...samplesMs),
          gflops: c.flops > 0 ? c.flops / (med * 1e6) : null, samples: samplesMs.length, method, vs: {},
        };
        results.push(r);
        opts.log(`${c.op} ${c.shape} ${engine.id}×${engine.threads}: ${fmt(med)} ms${r.gflops !== null ? `, ${r.gflops.toFixed(2)} GFLOP/s` : ''} (${r.samples} samples, ${method})`);
      } catch (e) {
        results.push(errorResult(suite, c, engine, e));
        opts.log(`${c.op} ${c.shape} ${engine.id}×${engine.threads}: FAILED ${(e as Error).message}`);
      } finally {
        try { if (state !== undefined) impl.teardown?.(state); } catch { /* teardown errors do not hide results */ }
      }
    }
  }
  return results;
}

function errorResult(suite: string, c: BenchCase, engine: Engine, e: unknown): BenchResult {
  return {
    suite, op: c.op, shape: c.shape, engine: engine.id, threads: engine.threads, flops: c.flops,
    medianMs: NaN, minMs: NaN, maxMs: NaN, gflops: null, samples: 0, method: 'benchmark.js', vs: {}, error: (e as Error)?.message ?? String(e),
  };
}

export const PEERS: EngineId[] = ['tfjs-cpu', 'tfjs-wasm', 'openblas'];

/**
 * vs[peer] = peer median / this median, per case (a multi-threaded peer row is matched by thread
 * count when there is one); vs.ts on cpu-native rows = the TypeScript kernels' median at the same
 * thread count / this median.
 */
export function addRatios(results: BenchResult[]): void {
  const same = (q: BenchResult, r: BenchResult) => q.suite === r.suite && q.op === r.op && q.shape === r.shape && !q.error;
  for (const r of results) {
    r.vs = {};
    if (r.error) continue;
    for (const peer of PEERS) {
      if (r.engine === peer) continue;
      const rows = results.filter((q) => same(q, r) && q.engine === peer);
      const p = rows.find((q) => q.threads === r.threads) ?? rows.find((q) => q.threads === 1);
      if (p) r.vs[peer] = p.medianMs / r.medianMs;
    }
    if (r.engine === 'cpu-native') {
      const ts = results.find((q) => same(q, r) && q.engine === 'ours' && q.threads === r.threads);
      if (ts) r.vs.ts = ts.medianMs / r.medianMs;
    }
  }
}

export function fmt(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
}
