/**
 * Devices. A device knows how to allocate storage and move bytes to and from the host; kernels
 * are registered separately per (device, kernel name) in dispatch/registry.ts. 'cpu' is built in
 * (backend/cpu); the native addon registers its devices when it loads ('cuda', 'cuda-emu', …).
 * Ops never name a device: they allocate on their inputs' device and dispatch there.
 */
import type { DType, TypedArray } from './dtype.js';
import type { Storage } from './storage.js';

export interface DeviceBackend {
  readonly name: string;
  /** Element types this device can hold. */
  readonly dtypes: readonly DType[];
  /** New storage of `length` elements, zero-filled. */
  alloc(dtype: DType, length: number): Storage;
  /** New storage holding a copy of host data. */
  fromHost(data: TypedArray): Storage;
  /** A host copy of the storage's elements (waits for pending work on the device). */
  toHost(storage: Storage): TypedArray;
  /** Waits until all queued work on the device has finished (benchmarks). */
  synchronize?(): void;
  /** Device-specific memory statistics (allocator cache etc.). */
  memStats?(): Record<string, number>;
  /**
   * A device whose storage is host memory (CpuStorage) may name the device whose kernels run
   * when it has none of its own: 'cpu-native' → 'cpu' (the TypeScript kernels, same arrays, no
   * copy). Not a transfer: both read the same memory.
   */
  readonly hostFallback?: string;
}

const devices = new Map<string, DeviceBackend>();
/** Devices that failed to come up, with the reason in words (shown by doctor and in errors). */
const unavailable = new Map<string, string>();

export function registerDevice(backend: DeviceBackend): void {
  devices.set(backend.name, backend);
  unavailable.delete(backend.name);
}

export function markUnavailable(name: string, reason: string): void {
  if (!devices.has(name)) unavailable.set(name, reason);
}

export function getDevice(name: string): DeviceBackend {
  const d = devices.get(name);
  if (d) return d;
  const why = unavailable.get(name);
  throw new Error(why ? `device '${name}' is unavailable: ${why}` : `unknown device '${name}' (available: ${[...devices.keys()].join(', ')})`);
}

export function hasDevice(name: string): boolean { return devices.has(name); }
/** The device whose kernels stand in for this one's missing kernels (see hostFallback), or null. */
export function fallbackOf(name: string): string | null { return devices.get(name)?.hostFallback ?? null; }
export function listDevices(): string[] { return [...devices.keys()]; }
export function unavailableDevices(): [string, string][] { return [...unavailable.entries()]; }
