/** Small helpers shared by the op front-ends: argument checks that name the op and the shapes. */
import type { Tensor } from '../tensor.js';
import { isFloat, type TypedArray } from '../dtype.js';
import { CpuStorage } from '../storage.js';
import { shapeStr } from '../util/shape.js';

export function assertFloat(op: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (!isFloat(t.dtype)) throw new TypeError(`${op}: expected a float tensor, got ${t.dtype}${shapeStr(t.shape)}`);
  }
}

export function assertSameDtype(op: string, ...ts: Tensor[]): void {
  const d = ts[0].dtype;
  if (ts.some((t) => t.dtype !== d)) {
    throw new TypeError(`${op}: dtypes differ (${ts.map((t) => `${t.dtype}${shapeStr(t.shape)}`).join(', ')})`);
  }
}

export function assertSameDevice(op: string, ...ts: Tensor[]): void {
  const d = ts[0].device;
  if (ts.some((t) => t.device !== d)) {
    throw new Error(`${op}: tensors are on different devices (${ts.map((t) => `${shapeStr(t.shape)}@${t.device}`).join(', ')}); move them explicitly with .to(device)`);
  }
}

export function assertRank(op: string, t: Tensor, rank: number, name = 'input'): void {
  if (t.ndim !== rank) throw new RangeError(`${op}: ${name} must have rank ${rank}, got shape ${shapeStr(t.shape)}`);
}

/**
 * The values of an index tensor on the host, for validation: no copy on the CPU, the upload-time
 * mirror for int32 data sent to a device (Storage.hostMirror), a device → host copy otherwise.
 */
export function hostValues(t: Tensor): TypedArray {
  const s = t.storage;
  if (s instanceof CpuStorage) return s.data;
  return s.hostMirror ?? t.toTyped();
}
