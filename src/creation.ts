/**
 * Creating tensors. Random ones draw from a seeded Generator (util/rng.ts), by default the
 * process-wide one that `manualSeed` resets, so runs are reproducible.
 */
import { Tensor } from './tensor.js';
import type { DType, TypedArray } from './dtype.js';
import { dtypeOf, allocTyped } from './dtype.js';
import { getDevice } from './device.js';
import { CpuStorage } from './storage.js';
import { runKernel } from './dispatch/dispatch.js';
import { Generator, defaultGenerator } from './util/rng.js';
import { numel, shapeStr, type Shape } from './util/shape.js';

export interface CreateOptions {
  dtype?: DType;
  device?: string;
}

function checkShape(op: string, shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`${op}: invalid shape ${shapeStr(shape)}`);
  }
}

/** Zero-filled tensor (every device's alloc zero-fills). */
export function zeros(shape: Shape, opts: CreateOptions = {}): Tensor {
  checkShape('zeros', shape);
  const storage = getDevice(opts.device ?? 'cpu').alloc(opts.dtype ?? 'float32', numel(shape));
  return new Tensor(storage, shape);
}

/** Tensor filled with `value`, on any device (a fill kernel: no host transfer). */
export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  const t = zeros(shape, opts);
  if (value !== 0) runKernel('fill', [t], [], [], [value]);
  return t;
}

export function ones(shape: Shape, opts: CreateOptions = {}): Tensor { return full(shape, 1, opts); }
export function zerosLike(t: Tensor): Tensor { return zeros(t.shape, { dtype: t.dtype, device: t.device }); }
export function onesLike(t: Tensor): Tensor { return full(t.shape, 1, { dtype: t.dtype, device: t.device }); }
export function fullLike(t: Tensor, v: number): Tensor { return full(t.shape, v, { dtype: t.dtype, device: t.device }); }
export function scalar(v: number, opts: CreateOptions = {}): Tensor { return full([], v, opts); }

/** From a flat typed array or number array (copied) and a shape (default: 1-D). */
export function fromArray(data: TypedArray | ArrayLike<number>, shape?: Shape, opts: CreateOptions = {}): Tensor {
  const dtype = opts.dtype ?? (ArrayBuffer.isView(data) ? dtypeOf(data as TypedArray) : 'float32');
  const sh = shape ?? [data.length];
  checkShape('fromArray', sh);
  if (numel(sh) !== data.length) throw new RangeError(`fromArray: ${data.length} values cannot have shape ${shapeStr(sh)} (${numel(sh)} elements)`);
  const host = allocTyped(dtype, data.length);
  host.set(data as ArrayLike<number>);
  if (dtype === 'int32') {
    for (let i = 0; i < data.length; i++) {
      if (host[i] !== data[i]) throw new RangeError(`fromArray: value ${data[i]} at index ${i} is not an int32`);
    }
  }
  const device = opts.device ?? 'cpu';
  const storage = device === 'cpu' ? new CpuStorage(host) : getDevice(device).fromHost(host);
  return new Tensor(storage, sh);
}

type Nested = number | Nested[];
/** From nested arrays: tensor([[1, 2], [3, 4]]). */
export function tensor(values: Nested, opts: CreateOptions = {}): Tensor {
  const shape: number[] = [];
  let v: Nested = values;
  while (Array.isArray(v)) { shape.push(v.length); v = v[0]; }
  const flat: number[] = [];
  const walk = (x: Nested): void => { if (Array.isArray(x)) x.forEach(walk); else flat.push(x); };
  walk(values);
  if (flat.length !== numel(shape)) throw new RangeError(`tensor: ragged nested array (shape ${shapeStr(shape)} expects ${numel(shape)} values, got ${flat.length})`);
  return fromArray(flat, shape, opts);
}

/** [start, start+step, …) below end. */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (end === undefined) { end = start; start = 0; }
  if (step === 0) throw new RangeError('arange: step must not be 0');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const xs = new Array<number>(n);
  for (let i = 0; i < n; i++) xs[i] = start + i * step;
  return fromArray(xs, [n], opts);
}

export interface RandomOptions extends CreateOptions { generator?: Generator }

/** Uniform in [lo, hi). */
export function rand(shape: Shape, opts: RandomOptions & { lo?: number; hi?: number } = {}): Tensor {
  checkShape('rand', shape);
  const g = opts.generator ?? defaultGenerator;
  const lo = opts.lo ?? 0, hi = opts.hi ?? 1;
  const xs = allocTyped(opts.dtype ?? 'float32', numel(shape));
  for (let i = 0; i < xs.length; i++) xs[i] = g.uniform(lo, hi);
  return fromArray(xs, shape, opts);
}

/** Normal with the given mean and standard deviation. */
export function randn(shape: Shape, opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  checkShape('randn', shape);
  const g = opts.generator ?? defaultGenerator;
  const mean = opts.mean ?? 0, std = opts.std ?? 1;
  const xs = allocTyped(opts.dtype ?? 'float32', numel(shape));
  for (let i = 0; i < xs.length; i++) xs[i] = mean + std * g.normal();
  return fromArray(xs, shape, opts);
}

/** Integers uniform in [lo, hi). */
export function randint(lo: number, hi: number, shape: Shape, opts: RandomOptions = {}): Tensor {
  const g = opts.generator ?? defaultGenerator;
  const xs = new Int32Array(numel(shape));
  for (let i = 0; i < xs.length; i++) xs[i] = lo + g.int(hi - lo);
  return fromArray(xs, shape, { ...opts, dtype: 'int32' });
}

/** An uninitialised-by-contract (zero-filled in practice) tensor for an op's output. */
export function empty(shape: Shape, dtype: DType, device: string): Tensor {
  return new Tensor(getDevice(device).alloc(dtype, numel(shape)), shape);
}
