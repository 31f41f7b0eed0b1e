/**
 * Explicit memory management (tfjs's model): tensors are freed by `dispose()` or by `tidy(fn)`,
 * which disposes every tensor created inside `fn` except what `fn` returns or `keep()`s.
 * Parameters, optimizer state and the `.grad` of leaves are kept automatically.
 *
 * `memory()` counts live tensor handles and live storage bytes per device, so a leak is a number
 * that grows; test/memory proves that a whole training step inside tidy leaves it unchanged.
 */
import type { Tensor } from './tensor.js';
import { liveStorageBytes } from './storage.js';
import { getDevice, listDevices } from './device.js';

const scopes: Set<Tensor>[] = [];
let liveTensors = 0;

/** Called by the Tensor constructor. */
export function trackTensor(t: Tensor): void {
  liveTensors++;
  scopes[scopes.length - 1]?.add(t);
}
/** Called by Tensor.dispose(). */
export function untrackTensor(t: Tensor): void {
  liveTensors--;
  for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i].delete(t)) break;
}

/** Removes a tensor from every open tidy scope: it survives them (until disposed by hand). */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}


/**
 * Runs fn; disposes the tensors it created and did not return. Returned tensors (directly, in an
 * array, or as values of a plain object) move to the enclosing scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();      // an exception frees the scope too (as tfjs)
    throw e;
  }
  scopes.pop();
  const survivors = new Set<Tensor>();
  collectTensors(result, survivors);
  for (const t of scope) {
    if (survivors.has(t)) scopes[scopes.length - 1]?.add(t);
    else t.dispose();
  }
  return result;
}

function collectTensors(x: unknown, into: Set<Tensor>): void {
  if (x === null || typeof x !== 'object') return;
  if (isTensor(x)) { into.add(x); return; }
  if (Array.isArray(x)) { for (const v of x) collectTensors(v, into); return; }
  if (Object.getPrototypeOf(x) === Object.prototype) for (const v of Object.values(x)) collectTensors(v, into);
}

function isTensor(x: object): x is Tensor {
  return (x as { isTensor?: boolean }).isTensor === true;
}

/** Disposes a tensor, or every tensor in an array / plain object. */
export function dispose(x: unknown): void {
  const set = new Set<Tensor>();
  collectTensors(x, set);
  for (const t of set) t.dispose();
}

export interface MemoryInfo {
  /** Live tensor handles (views and saved-for-backward handles included). */
  numTensors: number;
  /** Live bytes per device. */
  bytes: Record<string, number>;
  /** Device-specific statistics, e.g. the CUDA allocator's cache. */
  devices: Record<string, Record<string, number>>;
}

export function memory(): MemoryInfo {
  const bytes: Record<string, number> = {};
  for (const name of listDevices()) bytes[name] = 0;
  for (const [d, b] of liveStorageBytes) bytes[d] = b;
  const devices: Record<string, Record<string, number>> = {};
  for (const name of listDevices()) {
    const stats = getDevice(name).memStats?.();
    if (stats) devices[name] = stats;
  }
  return { numTensors: liveTensors, bytes, devices };
}
