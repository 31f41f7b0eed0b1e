/**
 * Every native failure is a JS exception that names the kernel (or the call) and the CUDA error.
 */
import { describe, it, expect } from 'vitest';
import { fromArray, zeros } from '../../src/index.js';
import { runKernel } from '../../src/dispatch/dispatch.js';
import { emuAddon, suiteTitle } from './helpers.js';
import { hasDevice } from '../../src/device.js';

const { addon } = emuAddon();

describe.skipIf(!hasDevice('cuda-emu') || !addon)(suiteTitle('native errors', 'cuda-emu'), () => {
  const dev = { device: 'cuda-emu' };

  it('an arity mismatch names the kernel', () => {
    const h = addon!.alloc('float32', 4);
    expect(() => addon!.launch('add', [h], [h], [1, 4, 1, 1], [])).toThrow("cuda-emu kernel 'add': arity mismatch: expects 1 outputs and 2 inputs, got 1 and 1");
  });

  it('wrong ints name the kernel', () => {
    const a = zeros([2, 2], dev), b = zeros([2, 2], dev), c = zeros([2, 2], dev);
    expect(() => runKernel('matmul', [c], [a, b], [1, 2, 2])).toThrow(/cuda-emu kernel 'matmul'.*expects 9 ints, got 3/);
    expect(() => runKernel('matmul', [c], [a, b], [1, 3, 2, 2, 0, 0, 0, 0, 0])).toThrow(/cuda-emu kernel 'matmul'.*output 0 has 4 elements, expected 6/);
  });

  it('a dtype mismatch names the kernel', () => {
    const x = fromArray(Int32Array.of(1, 2), [2], dev);
    const y = zeros([2], dev);
    expect(() => runKernel('exp', [y], [x])).toThrow(/cuda-emu kernel 'exp'.*input 0 is int32, expected float32/);
  });

  it('an unknown kernel, a foreign handle and a freed buffer are refused', () => {
    expect(() => addon!.launch('no_such_kernel', [], [], [], [])).toThrow(/no kernel named 'no_such_kernel'/);
    expect(() => addon!.launch('exp', [{} as never], [addon!.alloc('float32', 1)], [], [])).toThrow(/cuda-emu kernel 'exp': outs\[0\] is not a cuda-emu buffer/);
    const h = addon!.alloc('float32', 2);
    addon!.free(h);
    addon!.free(h);   // idempotent
    expect(() => addon!.launch('exp', [h], [addon!.alloc('float32', 2)], [], [])).toThrow(/outs\[0\] was freed/);
    expect(() => addon!.copyOut(h, new Float32Array(2))).toThrow(/was freed/);
  });

  it('an invalid launch configuration is an exception with the CUDA error name and the kernel', () => {
    let err: (Error & { code?: string; kernel?: string }) | undefined;
    try { addon!.launch('selftest_invalid_launch', [addon!.alloc('float32', 1)], [], [], []); } catch (e) { err = e as Error; }
    expect(err).toBeInstanceOf(Error);
    expect(err!.code).toBe('cudaErrorInvalidConfiguration');
    expect(err!.kernel).toBe('selftest_invalid_launch');
  });

  it('copies check dtype and length', () => {
    const h = addon!.alloc('float32', 3);
    expect(() => addon!.copyIn(h, new Float32Array(2))).toThrow(/copyIn: the buffer holds 3 float32, the array 2 float32/);
    expect(() => addon!.copyIn(h, new Int32Array(3))).toThrow(/copyIn: the buffer holds 3 float32, the array 3 int32/);
    expect(() => addon!.copyIn(h, new Float64Array(3) as never)).toThrow(/float64 is not supported/);
  });

  it('ints that do not fit int32 are refused before they wrap', () => {
    const y = zeros([2], dev);
    expect(() => runKernel('sum_axis', [y], [y], [2 ** 31, 1, 1])).toThrow(/sum_axis: int argument 0 \(2147483648\) is not an int32/);
  });
});
