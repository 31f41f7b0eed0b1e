/**
 * The native addon: its typed surface and the loader.
 *
 * Two libraries are built from one source set by `npm run build:native` (CMakeLists.txt):
 *   build/Release/pixelbytes_cuda.node  — nvcc; the device 'cuda' (needs an NVIDIA driver and GPU)
 *   build/Release/pixelbytes_emu.node   — g++ + the SIMT emulator (native/emu); the device 'cuda-emu'
 * Each is tried once, synchronously, inside try/catch; a failure never throws at import and leaves
 * a reason in words ("not built: run npm run build:native", "no NVIDIA driver (…)", "no CUDA device").
 *
 * Environment:
 *   PIXELBYTES_NO_NATIVE=1       load neither library (CPU only)
 *   PIXELBYTES_NATIVE_DIR=dir    where the .node files are (default <package root>/build/Release)
 *   PIXELBYTES_CUDA_SYNC=1       (native) synchronise after every launch: errors name their kernel
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An opaque device-buffer handle (a Napi::External; its finalizer frees the buffer). */
export type NativeHandle = { readonly __pixelbytesNativeHandle: never };
export type NativeDType = 'float32' | 'int32';
export type NativeKind = 'cuda' | 'cuda-emu';

export interface NativeInitInfo {
  compiled: boolean;
  emulator: boolean;
  deviceCount: number;
  /** 'ok' or the CUDA error name (cudaErrorInsufficientDriver, cudaErrorNoDevice, …). */
  status: string;
  statusText: string;
  name: string;
  computeCapability: string;
  smCount: number;
  /** CUDA versions as integers (13000 = 13.0); the driver's is 0 without a driver. */
  driverVersion: number;
  runtimeVersion: number;
  totalMemory: number;
  /** CUDA architectures the library was compiled for (nvcc build). */
  archs: string;
}

export interface NativeMemStats {
  /** Bytes in blocks handed out (allocator block sizes). */
  allocated: number;
  /** Bytes in the allocator's free lists. */
  cached: number;
  peak: number;
  /** Bytes asked for by live buffers. */
  requested: number;
  /** Raw device allocations (cudaMalloc) so far. */
  mallocCount: number;
  /** Raw device frees (emptyCache, out-of-memory retry). */
  freeCount: number;
  cacheHits: number;
  liveBlocks: number;
}

export interface NativeKernelInfo { name: string; nOut: number; nIn: number; file: string }

/** Errors thrown by the addon carry the CUDA error name and, for launches, the kernel. */
export interface NativeError extends Error { code?: string; kernel?: string; device?: string }

export interface NativeAddon {
  readonly device: NativeKind;
  init(): NativeInitInfo;
  /** Free/total device memory; creates the CUDA context. */
  memInfo(): { free: number; total: number };
  /** A device buffer of `length` elements; zero-filled unless zero = false. */
  alloc(dtype: NativeDType, length: number, zero?: boolean): NativeHandle;
  /** Returns the buffer to the caching allocator. Idempotent. */
  free(h: NativeHandle): void;
  copyIn(h: NativeHandle, src: Float32Array | Int32Array): void;
  /** Waits for queued work, then copies (surfaces any pending kernel error). */
  copyOut(h: NativeHandle, dst: Float32Array | Int32Array): void;
  /** Enqueues a registered kernel: the engine's calling convention (outs, ins, ints, floats). */
  launch(name: string, outs: NativeHandle[], ins: NativeHandle[], ints: Int32Array | number[], floats: Float64Array | Float32Array | number[]): void;
  synchronize(): void;
  memStats(): NativeMemStats;
  resetPeak(): void;
  emptyCache(): void;
  kernelInfo(): NativeKernelInfo[];
  /** Emulator only: a device-memory capacity in bytes (0 = unlimited), to exercise out-of-memory. */
  setMemoryLimit?(bytes: number): void;
}

export interface NativeBuildInfo { nvcc: boolean; emulator: boolean; cpu?: boolean; cudaArchitectures: string; cudaCompiler: string; cudaCompilerVersion: string }

export interface NativeLoad {
  device: NativeKind;
  /** The library file tried. */
  path: string;
  /** The loaded library (also when the device is unavailable: its kernel list is still known). */
  addon: NativeAddon | null;
  info: NativeInitInfo | null;
  /** null when the device is usable; otherwise why not, in words. */
  reason: string | null;
}

const FILES: Record<NativeKind, string> = { 'cuda': 'pixelbytes_cuda.node', 'cuda-emu': 'pixelbytes_emu.node' };

/** The package root: the nearest ancestor of this module with the project's package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try { if (JSON.parse(readFileSync(pj, 'utf8')).name === 'pixelbytes') return dir; } catch { /* keep looking */ }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
}

/** Where the .node files are looked for. */
export function nativeDir(): string {
  return process.env.PIXELBYTES_NATIVE_DIR ? resolve(process.env.PIXELBYTES_NATIVE_DIR) : join(packageRoot(), 'build', 'Release');
}

/** What the last `npm run build:native` found (build/native-build.json), or null. */
export function nativeBuildInfo(): NativeBuildInfo | null {
  for (const p of [join(nativeDir(), '..', 'native-build.json'), join(nativeDir(), 'native-build.json')]) {
    try { return JSON.parse(readFileSync(p, 'utf8')) as NativeBuildInfo; } catch { /* try the next */ }
  }
  return null;
}

export const DRIVER_HINT = 'CUDA 13 needs an NVIDIA driver of the R580 series or newer';

/** The reason in words for an init() that found no usable device. */
export function describeInitFailure(info: NativeInitInfo): string | null {
  if (info.status === 'ok' && info.deviceCount > 0) return null;
  const detail = info.statusText ? `${info.status}: ${info.statusText}` : info.status;
  switch (info.status) {
    case 'cudaErrorInsufficientDriver':
      return `no NVIDIA driver (${detail}; ${DRIVER_HINT})`;
    case 'cudaErrorNoDevice':
    case 'ok':
      return `no CUDA device (${info.status === 'ok' ? 'the driver reports 0 devices' : detail})`;
    case 'cudaErrorInitializationError':
    case 'cudaErrorSystemDriverMismatch':
    case 'cudaErrorCompatNotSupportedOnDevice':
      return `the NVIDIA driver did not initialise (${detail})`;
    default:
      return `CUDA unavailable (${detail})`;
  }
}

const loaded = new Map<NativeKind, NativeLoad>();

/** Loads one library (once per process; later calls return the same answer). Never throws. */
export function loadNative(device: NativeKind): NativeLoad {
  const hit = loaded.get(device);
  if (hit) return hit;
  const result = tryLoad(device);
  loaded.set(device, result);
  return result;
}

function tryLoad(device: NativeKind): NativeLoad {
  const path = join(nativeDir(), FILES[device]);
  const res: NativeLoad = { device, path, addon: null, info: null, reason: null };
  if (process.env.PIXELBYTES_NO_NATIVE && process.env.PIXELBYTES_NO_NATIVE !== '0') {
    res.reason = 'disabled by PIXELBYTES_NO_NATIVE=1';
    return res;
  }
  if (!existsSync(path)) {
    const build = nativeBuildInfo();
    res.reason = device === 'cuda' && build && !build.nvcc
      ? 'not built: nvcc was not found when `npm run build:native` ran (only the g++ libraries, cpu-native and cuda-emu, were built); install the CUDA toolkit, delete build/ and run npm run build:native'
      : 'not built: run npm run build:native';
    return res;
  }
  try {
    const req = createRequire(import.meta.url);
    const addon = req(path) as NativeAddon;
    const info = addon.init();
    res.addon = addon;
    res.info = info;
    res.reason = describeInitFailure(info);
  } catch (e) {
    res.reason = `failed to load ${path}: ${(e as Error).message}`;
  }
  return res;
}
