/**
 * Storage: the bytes behind one or more tensors, on one device, reference-counted.
 *
 * A tensor handle owns one reference. Views (reshape) and the copies an op saves for its backward
 * take another (retain). `release()` gives one back; at zero the device gets the bytes back at once
 * (the CPU lets the GC have them; CUDA returns them to its caching allocator). Counting is what
 * makes `memory()` exact and `tidy()` testable.
 */
import type { DType, TypedArray } from './dtype.js';
import { BYTES_PER_ELEMENT } from './dtype.js';

export abstract class Storage {
  refs = 1;
  /**
   * For int32 storage on a device, the host values it was uploaded from, while no kernel has
   * written it since (runKernel clears it on outputs). Ops that must validate indices on the host
   * (embedding ids, cross-entropy targets, gather indices) read them here instead of copying
   * back from the device, so a training step's only device → host copy is its loss.
   */
  hostMirror: TypedArray | null = null;
  constructor(readonly device: string, readonly dtype: DType, readonly length: number) {
    liveStorageBytes.set(device, (liveStorageBytes.get(device) ?? 0) + this.byteLength);
  }
  get byteLength(): number { return this.length * BYTES_PER_ELEMENT[this.dtype]; }
  retain(): this {
    if (this.refs <= 0) throw new Error(`storage on ${this.device} used after it was freed`);
    this.refs++;
    return this;
  }
  release(): void {
    if (this.refs <= 0) return; // idempotent: a finalizer after an explicit release does nothing
    if (--this.refs === 0) {
      liveStorageBytes.set(this.device, (liveStorageBytes.get(this.device) ?? 0) - this.byteLength);
      this.free();
    }
  }
  get freed(): boolean { return this.refs <= 0; }
  /** Gives the bytes back to the device. Called once, when the last reference goes. */
  protected abstract free(): void;
}

/**
 * Host memory: a TypedArray. The 'cpu' device's storage, and that of 'cpu-native' (the native CPU
 * library reads and writes the same arrays in place, so a kernel it lacks runs the TypeScript
 * one on the same memory — see DeviceBackend.hostFallback).
 */
export class CpuStorage extends Storage {
  constructor(public data: TypedArray, device = 'cpu') {
    super(device, data instanceof Float32Array ? 'float32' : data instanceof Float64Array ? 'float64' : 'int32', data.length);
  }
  protected free(): void { this.data = EMPTY; }
}
const EMPTY = new Float32Array(0);

/** Live bytes per device, for memory(). */
export const liveStorageBytes = new Map<string, number>();
