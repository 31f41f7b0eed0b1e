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
 * Environment: PIXELBYTES_NO_NATIVE=1 (no native library at all), PIXELBYTES_NATIVE_DIR (where the
 * .node files are), PIXELBYTES_THREADS (pool size; default: every core).
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
        return new CpuStorage(allocTyped(dtype, length), CPU_NATIVE);
      },
      fromHost(data: TypedArray) {
        checkDtype(data instanceof Float32Array ? 'float32' : data instanceof Int32Array ? 'int32' : 'float64');
        return new CpuStorage(data.slice(), CPU_NATIVE);
      },
      toHost: (s) => (s as CpuStorage).data.slice(),
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
