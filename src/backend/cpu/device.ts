/** The built-in 'cpu' device: storage is a TypedArray (plain ArrayBuffer; the thread pool copies through its own shared scratch). */
import { registerDevice } from '../../device.js';
import { CpuStorage, type Storage } from '../../storage.js';
import { allocTyped, type TypedArray } from '../../dtype.js';
import { registerKernel } from '../../dispatch/registry.js';

registerDevice({
  name: 'cpu',
  dtypes: ['float32', 'float64', 'int32'],
  alloc: (dtype, length) => new CpuStorage(allocTyped(dtype, length)),
  fromHost: (data) => {
    const copy = allocTyped(data instanceof Float32Array ? 'float32' : data instanceof Float64Array ? 'float64' : 'int32', data.length);
    copy.set(data);
    return new CpuStorage(copy);
  },
  toHost: (s) => (s as CpuStorage).data.slice(),
});

/**
 * CPU kernels are written against typed arrays; this adapter unwraps the storages so each kernel
 * file registers a readable positional function.
 */
export type CpuKernel = (outs: TypedArray[], ins: TypedArray[], ints: number[], floats: number[]) => void;
export function registerCpuKernel(name: string, fn: CpuKernel): void {
  registerKernel('cpu', name, ({ outs, ins, ints, floats }) => fn(outs.map(data), ins.map(data), ints, floats));
}
const data = (s: Storage) => (s as CpuStorage).data;
