/**
 * The native CPU device 'cpu-native': build/Release/pixelbytes_cpu.node (native/cpu/*.cc, g++ only,
 * no CUDA), hand-written C++ kernels with SIMD (AVX-512 / AVX2+FMA / portable, picked at load
 * time) and a thread pool over the cores.
 *
 * Its storage is host memory — the same CpuStorage (a TypedArray) as 'cpu' — and the library
 * reads and writes the arrays in place, so:
 *  - moving a tensor between 'cpu' and 'cpu-native' is a plain copy, never a device transfer;
 *  - a kernel the library does not have runs the TypeScript kernel of 'cpu' on the same memory
 *    (DeviceBackend.hostFallback): the device is complete from its first native kernel on, and
 *    `nativeCpuKernels()` says which kernels are native (doctor, the parity tests).
 * float32 and int32 only (float64 is the TypeScript device's, for gradcheck).
 *
 * Memory: released buffers of 64 KiB and more go to a small host pool and are reused (zero-filled)
 * by the next allocation of the same size. A training step allocates ~120 MiB of intermediates;
 * fresh ArrayBuffers of that size cost page faults on first touch (3.4 ms per 8 MiB measured, vs
 * 0.23 ms to re-zero a reused one) — a quarter of a step. So, as with any caching allocator, a
 * `t.data` view is valid only until the tensor is disposed.
 *
 * Environment: PIXELBYTES_NO_NATIVE=1 (no native library at all), PIXELBYTES_NATIVE_DIR (where the
 * .node files are), PIXELBYTES_THREADS (pool size; default: every core), PIXELBYTES_HOST_POOL_MB
 * (the buffer pool's cap, default 512; 0 turns it off).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { registerDevice, markUnavailable } from '../../device.js';
import { CpuStorage, type Storage } from '../../storage.js';
import { allocTyped, type DType, type TypedArray } from '../../dtype.js';
import { registerKernel, type KernelArgs } from '../../dispatch/registry.js';
import { nativeDir, nativeBuildInfo, type NativeKernelInfo } from './addon.js';
import { int32s } from './device.js';

export const CPU_NATIVE = 'cpu-native';

export interface CpuNativeInfo {
  /** The SGEMM micro-kernel's instruction set: 'avx512', 'avx2+fma' or 'generic'. */
  isa: string;
  threads: number;
  hardwareThreads: number;
  compiler: string;
  arch: string;
}

export interface CpuNativeAddon {
  info(): CpuNativeInfo;
  setThreads(n: number): number;
  getThreads(): number;
  /** Forces the SGEMM instruction set (tests, benchmarks); false when the CPU lacks it. */
  gemmSetIsa(isa: string): boolean;
  launch(name: string, outs: (Float32Array | Int32Array)[], ins: (Float32Array | Int32Array)[], ints: Int32Array, floats: Float64Array): void;
  kernelInfo(): NativeKernelInfo[];
}

export interface CpuNativeLoad {
  path: string;
  addon: CpuNativeAddon | null;
  info: CpuNativeInfo | null;
  /** null when the device is usable; otherwise why not, in words. */
  reason: string | null;
}

let loaded: CpuNativeLoad | null = null;

/** Loads pixelbytes_cpu.node once per process; never throws. */
export function loadCpuNative(): CpuNativeLoad {
  if (loaded) return loaded;
  const path = join(nativeDir(), 'pixelbytes_cpu.node');
  const res: CpuNativeLoad = { path, addon: null, info: null, reason: null };
  loaded = res;
  if (process.env.PIXELBYTES_NO_NATIVE && process.env.PIXELBYTES_NO_NATIVE !== '0') {
    res.reason = 'disabled by PIXELBYTES_NO_NATIVE=1';
    return res;
  }
  if (!existsSync(path)) {
    const build = nativeBuildInfo();
    res.reason = build && build.cpu === false
      ? 'not built: npm run build:native ran with PIXELBYTES_CPU=OFF; the TypeScript kernels are used'
      : 'not built: run npm run build:native (needs cmake and g++); the TypeScript kernels are used';
    return res;
  }
  try {
    const addon = createRequire(import.meta.url)(path) as CpuNativeAddon;
    const env = process.env.PIXELBYTES_THREADS;
    if (env !== undefined && env !== '') {
      const n = Number(env);
      if (Number.isInteger(n) && n >= 1) addon.setThreads(n);
    }
    res.addon = addon;
    res.info = addon.info();
  } catch (e) {
    res.reason = `failed to load ${path}: ${(e as Error).message}`;
  }
  return res;
}

const NATIVE_CPU_DTYPES: readonly DType[] = ['float32', 'int32'];

/** Released host buffers by (dtype, length), for reuse; bounded by `capBytes`. */
class HostBufferPool {
  private readonly lists = new Map<number, (Float32Array | Int32Array)[]>();
  private pooled = 0;
  hits = 0;
  misses = 0;
  constructor(readonly capBytes: number, readonly minBytes = 64 * 1024) {}
  private static key(dtype: DType, length: number): number { return length * 2 + (dtype === 'int32' ? 1 : 0); }
  /** A zero-filled buffer from the pool, or a new one. */
  alloc(dtype: 'float32' | 'int32', length: number, zero = true): Float32Array | Int32Array {
    if (length * 4 >= this.minBytes) {
      const a = this.lists.get(HostBufferPool.key(dtype, length))?.pop();
      if (a) {
        this.pooled -= a.byteLength;
        this.hits++;
        if (zero) a.fill(0);
        return a;
      }
      this.misses++;
    }
    return allocTyped(dtype, length) as Float32Array | Int32Array;
  }
  /** Takes a released buffer back (dropped when small or over the cap). */
  give(a: TypedArray): void {
    if (a.byteLength < this.minBytes || this.pooled + a.byteLength > this.capBytes || a instanceof Float64Array) return;
    const k = HostBufferPool.key(a instanceof Int32Array ? 'int32' : 'float32', a.length);
    let l = this.lists.get(k);
    if (!l) this.lists.set(k, (l = []));
    l.push(a);
    this.pooled += a.byteLength;
  }
  clear(): void { this.lists.clear(); this.pooled = 0; }
  stats(): Record<string, number> { return { pooledBytes: this.pooled, poolHits: this.hits, poolMisses: this.misses, poolCapBytes: this.capBytes }; }
}

function poolCapBytes(): number {
  const v = process.env.PIXELBYTES_HOST_POOL_MB;
  const mb = v === undefined || v === '' ? 512 : Number(v);
  return Number.isFinite(mb) && mb >= 0 ? mb * 2 ** 20 : 512 * 2 ** 20;
}

const hostPool = new HostBufferPool(poolCapBytes());

/** cpu-native storage: host memory that goes back to the buffer pool when released. */
class NativeCpuStorage extends CpuStorage {
  protected override free(): void {
    hostPool.give(this.data);
    super.free();
  }
}

/** The host buffer pool's counters (also in getDevice('cpu-native').memStats()). */
export function cpuNativePoolStats(): Record<string, number> { return hostPool.stats(); }
/** Drops every pooled buffer (the GC takes them). */
export function emptyCpuNativePool(): void { hostPool.clear(); }

function checkDtype(dtype: DType): void {
  if (dtype !== 'float32' && dtype !== 'int32') {
    throw new TypeError(`device '${CPU_NATIVE}' holds float32 and int32 tensors, not ${dtype} (float64 is the TypeScript 'cpu' device's, for gradcheck)`);
  }
}

function arrayOf(kernel: string, s: Storage): Float32Array | Int32Array {
  if (!(s instanceof CpuStorage) || s.device !== CPU_NATIVE) throw new Error(`${kernel}: a storage on '${s.device}' was passed to a '${CPU_NATIVE}' kernel`);
  if (s.freed) throw new Error(`${kernel}: a ${CPU_NATIVE} tensor was used after it was disposed`);
  return s.data as Float32Array | Int32Array;
}

const nativeNames = new Set<string>();

/** The kernels 'cpu-native' runs natively (the rest run the TypeScript kernels on its memory). */
export function nativeCpuKernels(): string[] { return [...nativeNames].sort(); }

/** The pool size of the native CPU device (null when it is not loaded). */
export function getCpuNativeThreads(): number | null { return loaded?.addon ? loaded.addon.getThreads() : null; }
/** Sets the pool size of the native CPU device (a no-op when it is not loaded). */
export function setCpuNativeThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setCpuNativeThreads: ${n} is not a positive integer`);
  if (loaded?.addon) loaded.addon.setThreads(n);
}

/** Loads the library and registers the device and its kernels; marks it unavailable with the reason otherwise. */
export function initCpuNative(): CpuNativeLoad {
  const load = loadCpuNative();
  const addon = load.addon;
  if (!addon) {
    markUnavailable(CPU_NATIVE, load.reason ?? 'unknown');
    return load;
  }
  try {
    registerDevice({
      name: CPU_NATIVE,
      dtypes: NATIVE_CPU_DTYPES,
      hostFallback: 'cpu',
      alloc(dtype, length) {
        checkDtype(dtype);
        return new NativeCpuStorage(hostPool.alloc(dtype as 'float32' | 'int32', length), CPU_NATIVE);
      },
      fromHost(data: TypedArray) {
        const dtype = data instanceof Float32Array ? 'float32' : data instanceof Int32Array ? 'int32' : 'float64';
        checkDtype(dtype);
        const a = hostPool.alloc(dtype as 'float32' | 'int32', data.length, false);
        a.set(data as Float32Array & Int32Array);
        return new NativeCpuStorage(a, CPU_NATIVE);
      },
      toHost: (s) => (s as CpuStorage).data.slice(),
      memStats: () => hostPool.stats(),
    });
    for (const k of addon.kernelInfo()) {
      const kernel = k.name;
      nativeNames.add(kernel);
      registerKernel(CPU_NATIVE, kernel, ({ outs, ins, ints, floats }: KernelArgs) => {
        addon.launch(kernel, outs.map((s) => arrayOf(kernel, s)), ins.map((s) => arrayOf(kernel, s)), int32s(kernel, ints), Float64Array.from(floats));
      });
    }
  } catch (e) {
    load.reason = `failed to initialise: ${(e as Error).message}`;
    markUnavailable(CPU_NATIVE, load.reason);
  }
  return load;
}
