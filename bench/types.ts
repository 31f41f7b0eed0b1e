/**
 * The bench registry's types. A suite (bench/suites/<area>.ts) exports a BenchSuite: a name and
 * a function returning its cases. A case is one op at one shape, with an implementation per
 * engine family: 'ours' (PixelBytes, run at 1 thread and at N threads) and 'tfjs' (the same
 * code runs on tfjs's pure-JS 'cpu' backend and on its 'wasm' backend).
 */
import type * as TF from '@tensorflow/tfjs';

export type Tfjs = typeof TF;
/** 'ours' runs on the TypeScript kernels ('cpu') and, moved there, on 'cpu-native'; 'numpy' is an external process. */
export type EngineFamily = 'ours' | 'tfjs' | 'numpy';
export type EngineId = 'ours' | 'cpu-native' | 'tfjs-cpu' | 'tfjs-wasm' | 'openblas';

/** What an implementation's setup gets: the engine, its thread count, and tfjs where loaded. */
export interface EngineContext {
  engine: EngineId;
  threads: number;
  /** The tfjs module (backend already selected); only for the 'tfjs' family. */
  tf: Tfjs;
}

/**
 * One engine's version of a case. `setup` builds inputs (untimed), `run` is the timed body
 * (synchronous; must include whatever makes the result available on the host, e.g. tfjs
 * dataSync(), and free what it allocates), `teardown` frees the inputs.
 */
export interface Impl<S = any> {  // eslint-disable-line @typescript-eslint/no-explicit-any
  setup(ctx: EngineContext): S | Promise<S>;
  run(state: S): void;
  teardown?(state: S): void;
  /**
   * A peer outside this process (numpy/OpenBLAS): times itself and returns the run times in ms
   * (setup/run are then unused), or throws why it is unavailable.
   */
  external?(ctx: EngineContext): number[];
}

/** Sampling bounds for one benchmark (benchmark.js minSamples / maxTime in seconds). */
export interface Bounds { minSamples?: number; maxTime?: number }

export interface BenchCase {
  /** The op or workload, e.g. 'matmul', 'conv2d', 'lstm train step'. */
  op: string;
  /** Human-readable shape, e.g. '256x256x256' or '(8192x64)·(64x256)'. */
  shape: string;
  /** Floating-point operations per run (for GFLOP/s; 0 = not meaningful). */
  flops: number;
  /** Included in `--quick` runs. */
  quick?: boolean;
  /** Runs per training epoch: the report adds the epoch time (runs × median) of each engine. */
  epochSteps?: number;
  /** Per-engine overrides of the adaptive sampling bounds (e.g. cap a slow peer). */
  bounds?: Partial<Record<EngineId, Bounds>>;
  impls: Partial<Record<EngineFamily, Impl>>;
}

export interface BenchSuite {
  name: string;
  cases(): BenchCase[];
}

export interface BenchResult {
  suite: string;
  op: string;
  shape: string;
  engine: EngineId;
  threads: number;
  flops: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  gflops: number | null;
  samples: number;
  /** How it was timed: benchmark.js, or a plain loop for runs over a second (benchmark.js re-runs each cycle once as a pretest). */
  method: 'benchmark.js' | 'loop' | 'external';
  /** Speed-up over each peer on the same case: peer median / this median (> 1 = faster than the peer);
   *  `ts` on cpu-native rows: the TypeScript kernels at the same thread count. */
  vs: Partial<Record<EngineId | 'ts', number>>;
  error?: string;
}
