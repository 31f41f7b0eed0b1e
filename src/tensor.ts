/**
 * Tensor: a shape, an element type, a device and a reference to storage, plus the autograd fields.
 * Always contiguous and row-major: reshape shares storage, every other layout change is a kernel
 * that copies (so every kernel takes plain buffers and integer sizes, like llm.c's).
 */
import type { DType, TypedArray } from './dtype.js';
import type { Storage } from './storage.js';
import { CpuStorage } from './storage.js';
import { getDevice } from './device.js';
import { trackTensor, untrackTensor, keep } from './memory.js';
import type { GradNode } from './autograd/node.js';
import { numel, shapeStr, type Shape } from './util/shape.js';

let nextId = 1;

export class Tensor {
  readonly isTensor = true;
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  private _dtype: DType;
  private _device: string;
  /** Leaves with requiresGrad get `.grad` filled by backward(). */
  requiresGrad = false;
  grad: Tensor | null = null;
  /** The op that produced this tensor (null for leaves and for results computed without grad). */
  node: GradNode | null = null;
  /** Which output of `node` this tensor is. */
  outputIndex = 0;
  /** Non-leaf tensors keep their gradient only when asked (retainGrad). */
  retainsGrad = false;
  private _storage: Storage | null;

  constructor(storage: Storage, shape: Shape) {
    const n = numel(shape);
    if (n !== storage.length) throw new Error(`Tensor: shape ${shapeStr(shape)} needs ${n} elements, storage has ${storage.length}`);
    this._storage = storage;
    this.shape = Object.freeze([...shape]);
    this.size = n;
    this._dtype = storage.dtype;
    this._device = storage.device;
    trackTensor(this);
  }

  get dtype(): DType { return this._dtype; }
  get device(): string { return this._device; }
  get ndim(): number { return this.shape.length; }
  get isDisposed(): boolean { return this._storage === null; }

  get storage(): Storage {
    if (this._storage === null) throw new Error(`tensor #${this.id} ${shapeStr(this.shape)} was used after dispose()`);
    return this._storage;
  }

  /**
   * The host elements, without a copy ('cpu' and 'cpu-native'). Throws on other devices: use
   * toArray() or to('cpu'). The view is valid until the tensor is disposed ('cpu-native' reuses
   * released buffers); keep a copy (toTyped()) to use the values afterwards.
   */
  get data(): TypedArray {
    const s = this.storage;
    if (!(s instanceof CpuStorage)) throw new Error(`tensor #${this.id} lives on '${s.device}': call toArray() or to('cpu') to read it`);
    return s.data;
  }

  /** A host copy of the elements, row-major. */
  toTyped(): TypedArray {
    const s = this.storage;
    return s instanceof CpuStorage ? s.data.slice() : getDevice(s.device).toHost(s);
  }
  toArray(): number[] { return Array.from(this.toTyped()); }

  /** The single element of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item(): tensor has shape ${shapeStr(this.shape)}, not one element`);
    const s = this.storage;
    return s instanceof CpuStorage ? s.data[0] : getDevice(s.device).toHost(s)[0];
  }

  /** A new handle on the same storage (shares bytes; used by reshape and saved-for-backward). */
  view(shape: Shape = this.shape): Tensor {
    return new Tensor(this.storage.retain(), shape);
  }

  /** Copy to another device ('cpu', 'cuda', …). Same device: a new handle on the same storage. */
  to(device: string): Tensor {
    if (device === this.device) return this.view();
    const host = this.toTyped();
    const target = getDevice(device);
    if (!target.dtypes.includes(this.dtype)) throw new Error(`to('${device}'): device '${device}' holds ${target.dtypes.join('/')}, not ${this.dtype}`);
    return new Tensor(target.fromHost(host), this.shape);
  }

  /** Marks a leaf as a trainable input (its `.grad` is filled by backward()). */
  requiresGrad_(flag = true): this {
    if (flag && this.dtype === 'int32') throw new Error(`requiresGrad_: tensor #${this.id} is int32; only float tensors have gradients`);
    this.requiresGrad = flag;
    return this;
  }

  retainGrad(): this { this.retainsGrad = true; return this; }

  /** Reverse-mode autodiff from this tensor (a scalar unless `grad` is given). */
  backward(grad?: Tensor, opts?: { retainGraph?: boolean }): void {
    runBackward(this, grad, opts);
  }

  /** Clears `.grad` (disposing it). */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  /** Frees this handle's reference to its storage. Idempotent. */
  dispose(): void {
    if (this._storage === null) return;
    this._storage.release();
    this._storage = null;
    untrackTensor(this);
    if (this.grad) { this.grad.dispose(); this.grad = null; }
  }

  /** Replaces the storage of this tensor in place (optimizers, loadStateDict). */
  assign(src: Tensor): void {
    if (src.device !== this.device || src.dtype !== this.dtype || src.size !== this.size) {
      throw new Error(`assign: target ${this.dtype}${shapeStr(this.shape)} on ${this.device}, source ${src.dtype}${shapeStr(src.shape)} on ${src.device}`);
    }
    if (src.storage === this._storage) return;
    const s = src.storage.retain();
    this.storage.release();
    this._storage = s;
  }

  /**
   * In place: this handle now holds `src`'s elements, possibly on another device, and `src` is
   * disposed. Module.to() and loadStateDict() use it so parameter objects keep their identity
   * (an optimizer holding them stays valid).
   */
  adopt(src: Tensor): void {
    if (src.size !== this.size) throw new Error(`adopt: ${shapeStr(src.shape)} cannot replace ${shapeStr(this.shape)}`);
    const s = src.storage.retain();
    this.storage.release();
    this._storage = s;
    this._dtype = s.dtype;
    this._device = s.device;
    src.dispose();
    this.zeroGrad();
  }

  toString(): string {
    const head = `Tensor#${this.id}(${shapeStr(this.shape)}, ${this.dtype}, ${this.device}${this.requiresGrad ? ', requiresGrad' : ''})`;
    if (this.isDisposed) return `${head} <disposed>`;
    const xs = this.size <= 8 ? this.toArray() : [...this.toTyped().subarray(0, 8)];
    return `${head} [${xs.map((v) => +v.toPrecision(5)).join(', ')}${this.size > 8 ? ', …' : ''}]`;
  }
}

/** Keeps the tensor out of tidy scopes and marks it trainable: what a parameter is. */
export function parameter(t: Tensor): Tensor {
  keep(t);
  t.requiresGrad_(true);
  return t;
}

// Set by autograd/backward.ts (which imports this file) to avoid an import cycle at load time.
let runBackward: (t: Tensor, grad?: Tensor, opts?: { retainGraph?: boolean }) => void = () => {
  throw new Error('autograd is not loaded: import from src/index.ts');
};
export function setBackwardImpl(fn: typeof runBackward): void { runBackward = fn; }
