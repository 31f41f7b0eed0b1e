/**
 * The engines a case can run on: ours at 1 thread and at N threads, tfjs's pure-JS 'cpu' backend
 * and its 'wasm' backend (XNNPACK, SIMD; single-threaded in Node). tfjs is imported only when a
 * selected case has a tfjs implementation.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setNumThreads, setCpuNativeThreads, hasDevice, unavailableDevices } from '../src/index.js';
import { whenThreadsReady } from '../src/backend/cpu/threads.js';
import type { EngineContext, EngineFamily, EngineId, Tfjs } from './types.js';

export interface Engine {
  id: EngineId;
  family: EngineFamily;
  threads: number;
  /** Selects the engine (thread count, tfjs backend); returns its context or throws why it is unavailable. */
  prepare(): Promise<EngineContext>;
}

let tfLoaded: Promise<Tfjs> | null = null;
let wasmReady: Promise<void> | null = null;

/** tfjs prints a "use tfjs-node" banner through console.warn; keep it out of the report. */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => { if (!String(args[0]).includes('tfjs-node') && !String(args[0]).includes('=====')) warn(...args); };
  try { return await fn(); } finally { console.warn = warn; }
}

export function loadTfjs(): Promise<Tfjs> {
  tfLoaded ??= quietly(async () => (await import('@tensorflow/tfjs')) as unknown as Tfjs);
  return tfLoaded;
}

async function useBackend(tf: Tfjs, name: 'cpu' | 'wasm'): Promise<void> {
  if (name === 'wasm') {
    wasmReady ??= (async () => {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // In Node the .wasm files are read from the package's dist/ folder (threads: unavailable in Node).
      const require = createRequire(import.meta.url);
      wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
    })();
    await wasmReady;
  }
  const ok = await quietly(async () => {
    const set = await tf.setBackend(name);
    await tf.ready();
    tf.tensor1d([0]).dispose();   // the cpu backend's banner comes with its first tensor
    return set;
  });
  if (!ok || tf.getBackend() !== name) throw new Error(`tfjs backend '${name}' failed to initialise`);
}

export function makeEngines(threads: number): Engine[] {
  const ours = (n: number): Engine => ({
    id: 'ours', family: 'ours', threads: n,
    prepare: async () => {
      setNumThreads(n);
      if (n > 1 && !(await whenThreadsReady())) throw new Error(`worker threads did not start`);
      return { engine: 'ours', threads: n, tf: null as unknown as Tfjs };
    },
  });
  const tfjs = (backend: 'cpu' | 'wasm'): Engine => ({
    id: `tfjs-${backend}`, family: 'tfjs', threads: 1,
    prepare: async () => {
      const tf = await loadTfjs();
      await useBackend(tf, backend);
      return { engine: `tfjs-${backend}`, threads: 1, tf };
    },
  });
  // our cases moved to the native CPU device (bench/cli.ts wraps their impls with onDevice)
  const native = (n: number): Engine => ({
    id: 'cpu-native', family: 'ours', threads: n,
    prepare: async () => {
      if (!hasDevice('cpu-native')) throw new Error(new Map(unavailableDevices()).get('cpu-native') ?? 'cpu-native is not registered');
      setCpuNativeThreads(n);
      setNumThreads(1);   // fallback TypeScript kernels (if any) on the main thread only
      return { engine: 'cpu-native', threads: n, tf: null as unknown as Tfjs };
    },
  });
  const numpy = (n: number): Engine => ({
    id: 'openblas', family: 'numpy', threads: n,
    prepare: async () => ({ engine: 'openblas', threads: n, tf: null as unknown as Tfjs }),
  });
  const counts = threads > 1 ? [1, threads] : [1];
  return [...counts.map(ours), ...(hasDevice('cpu-native') ? counts.map(native) : []), tfjs('cpu'), tfjs('wasm'), ...counts.map(numpy)];
}
