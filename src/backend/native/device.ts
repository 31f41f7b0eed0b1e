/**
 * The native devices: 'cuda' (pixelbytes_cuda.node) and 'cuda-emu' (pixelbytes_emu.node, the
 * same kernels on the SIMT emulator). Each is a DeviceBackend whose storage is a device buffer
 * handle, plus one registered kernel per name the library reports (kernelInfo()): the engine's
 * calling convention goes across N-API unchanged, so a new .cu kernel needs no TypeScript.
 *
 * Memory: NativeStorage.free() hands the buffer back to the library's caching allocator at once
 * (dispose/tidy); a handle that is garbage-collected without being released is freed by its
 * native finalizer (the backstop).
 */
import { registerDevice, markUnavailable, type DeviceBackend } from '../../device.js';
import { Storage } from '../../storage.js';
import type { DType, TypedArray } from '../../dtype.js';
import { registerKernel, type KernelArgs } from '../../dispatch/registry.js';
import { loadNative, type NativeAddon, type NativeHandle, type NativeKind, type NativeLoad } from './addon.js';

export class NativeStorage extends Storage {
  constructor(device: string, dtype: DType, length: number, readonly handle: NativeHandle, private readonly addon: NativeAddon) {
    super(device, dtype, length);
  }
  protected free(): void { this.addon.free(this.handle); }
}

const NATIVE_DTYPES: readonly DType[] = ['float32', 'int32'];

function checkDtype(device: string, dtype: DType): asserts dtype is 'float32' | 'int32' {
  if (dtype !== 'float32' && dtype !== 'int32') {
    throw new TypeError(`device '${device}' holds float32 and int32 tensors, not ${dtype} (float64 exists on the CPU only, for gradcheck)`);
  }
}

function handleOf(device: string, kernel: string, s: Storage): NativeHandle {
  if (!(s instanceof NativeStorage) || s.device !== device) throw new Error(`${kernel}: a storage on '${s.device}' was passed to a '${device}' kernel`);
  if (s.freed) throw new Error(`${kernel}: a ${device} tensor was used after it was disposed`);
  return s.handle;
}

/** The engine's ints are JS numbers; the native side takes int32 and must not see them wrap. */
export function int32s(kernel: string, ints: number[]): Int32Array {
  const out = new Int32Array(ints.length);
  for (let i = 0; i < ints.length; i++) {
    const v = ints[i];
    if (!Number.isInteger(v) || v > 2147483647 || v < -2147483648) throw new RangeError(`${kernel}: int argument ${i} (${v}) is not an int32`);
    out[i] = v;
  }
  return out;
}

export function makeNativeBackend(name: NativeKind, addon: NativeAddon): DeviceBackend {
  return {
    name,
    dtypes: NATIVE_DTYPES,
    alloc(dtype, length) {
      checkDtype(name, dtype);
      return new NativeStorage(name, dtype, length, addon.alloc(dtype, length, true), addon);
    },
    fromHost(data: TypedArray) {
      if (!(data instanceof Float32Array) && !(data instanceof Int32Array)) checkDtype(name, 'float64');
      const dtype: 'float32' | 'int32' = data instanceof Float32Array ? 'float32' : 'int32';
      const h = addon.alloc(dtype, data.length, false);
      const s = new NativeStorage(name, dtype, data.length, h, addon);
      try {
        addon.copyIn(h, data as Float32Array | Int32Array);
        if (dtype === 'int32') s.hostMirror = data.slice();   // indices: validated on the host without a copy back
      } catch (e) {
        s.release();
        throw e;
      }
      return s;
    },
    toHost(s: Storage) {
      const h = handleOf(name, 'toHost', s);
      const out = s.dtype === 'int32' ? new Int32Array(s.length) : new Float32Array(s.length);
      addon.copyOut(h, out);
      return out;
    },
    synchronize() { addon.synchronize(); },
    memStats() { return { ...addon.memStats() }; },
  };
}

/** Registers the device and one kernel per native kernel name (self-test kernels excepted). */
export function registerNativeDevice(load: NativeLoad): void {
  const addon = load.addon!;
  const name = load.device;
  registerDevice(makeNativeBackend(name, addon));
  for (const k of addon.kernelInfo()) {
    if (k.name.startsWith('selftest_')) continue;  // the emulator's own tests: raw launches only
    const kernel = k.name;
    registerKernel(name, kernel, ({ outs, ins, ints, floats }: KernelArgs) => {
      addon.launch(kernel, outs.map((s) => handleOf(name, kernel, s)), ins.map((s) => handleOf(name, kernel, s)), int32s(kernel, ints), Float64Array.from(floats));
    });
  }
}

/** Tries both libraries once; registers what works, marks the rest unavailable with the reason. */
export function initNativeDevices(): NativeLoad[] {
  const loads: NativeLoad[] = [];
  for (const kind of ['cuda', 'cuda-emu'] as const) {
    const load = loadNative(kind);
    loads.push(load);
    try {
      if (load.reason === null && load.addon) registerNativeDevice(load);
      else markUnavailable(kind, load.reason ?? 'unknown');
    } catch (e) {
      load.reason = `failed to initialise: ${(e as Error).message}`;
      markUnavailable(kind, load.reason);
    }
  }
  return loads;
}
