/**
 * The native CPU device 'cpu-native' as a device: loading (and why not), host-memory storage,
 * the TypeScript fallback for kernels it lacks, explicit moves, dtypes, errors that name the
 * kernel, thread-count independence of results, the default-device choice, doctor.
 * (Kernel-by-kernel comparisons with the TypeScript oracles: parity.test.ts and cpu-*.test.ts.)
 */
import { describe, it, expect, vi } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pb from '../../src/index.js';
import { getDevice, hasDevice } from '../../src/device.js';
import { getKernel } from '../../src/dispatch/registry.js';
import { runKernel } from '../../src/dispatch/dispatch.js';
import { CpuStorage } from '../../src/storage.js';
import { loadCpuNative, nativeCpuKernels, setCpuNativeThreads, getCpuNativeThreads, cpuNativePoolStats } from '../../src/backend/native/cpu_native.js';
import { defaultDevice, resolveDevice } from '../../src/backend/native/select.js';
import { doctorReport, formatDoctor } from '../../src/backend/native/doctor.js';
import { deviceStatus, suiteTitle } from './helpers.js';

const DEV = 'cpu-native';

describe('cpu-native loader', () => {
  // CI runs `npm run build:native` (g++ is enough): there the library must load, or every
  // cpu-native suite (skipIf(!available)) would skip and check nothing.
  it.runIf(process.env.CI === 'true')('on CI the native CPU library is built and loads', () => {
    expect(deviceStatus(DEV).reason).toBe('');
    expect(hasDevice(DEV)).toBe(true);
    expect(nativeCpuKernels().length).toBeGreaterThan(0);
  });

  it('says "not built" for a directory without the library, and honours PIXELBYTES_NO_NATIVE', async () => {
    const saved = { dir: process.env.PIXELBYTES_NATIVE_DIR, no: process.env.PIXELBYTES_NO_NATIVE };
    try {
      process.env.PIXELBYTES_NATIVE_DIR = mkdtempSync(join(tmpdir(), 'pb-native-'));
      delete process.env.PIXELBYTES_NO_NATIVE;
      vi.resetModules();
      const fresh = await import('../../src/backend/native/cpu_native.js');
      expect(fresh.loadCpuNative().reason).toMatch(/^not built: run npm run build:native .*the TypeScript kernels are used/);
      process.env.PIXELBYTES_NO_NATIVE = '1';
      vi.resetModules();
      const off = await import('../../src/backend/native/cpu_native.js');
      expect(off.loadCpuNative().reason).toBe('disabled by PIXELBYTES_NO_NATIVE=1');
    } finally {
      if (saved.dir === undefined) delete process.env.PIXELBYTES_NATIVE_DIR; else process.env.PIXELBYTES_NATIVE_DIR = saved.dir;
      if (saved.no === undefined) delete process.env.PIXELBYTES_NO_NATIVE; else process.env.PIXELBYTES_NO_NATIVE = saved.no;
      vi.resetModules();
    }
  });

  it('the default device is the fastest available one, with the reason', () => {
    const d = defaultDevice();
    const expected = hasDevice('cuda') ? 'cuda' : hasDevice(DEV) ? DEV : 'cpu';
    expect(d.device).toBe(expected);
    expect(d.why.length).toBeGreaterThan(10);
    expect(resolveDevice('cpu')).toEqual({ device: 'cpu', why: 'named with --device' });
    expect(resolveDevice(undefined).device).toBe(expected);
  });

  it('doctor lists cpu-native with its instruction set and threads, or why it is missing', () => {
    const r = doctorReport();
    const e = r.devices.find((d) => d.name === DEV)!;
    expect(e).toBeDefined();
    const text = formatDoctor(r);
    if (hasDevice(DEV)) {
      expect(e.detail).toMatch(/SGEMM (avx512|avx2\+fma|generic), \d+ of \d+ threads/);
      expect(e.kernels).toBe(nativeCpuKernels().length);
      expect(text).toMatch(new RegExp(`cpu-native: ${e.kernels} of \\d+ CPU kernels native`));
    } else {
      expect(e.reason).toBe(loadCpuNative().reason);
    }
    expect(text).toContain(`Default device (train, generate, eval, npm start): ${r.defaultDevice.device}`);
  });
});

describe.skipIf(!hasDevice(DEV))(suiteTitle('cpu-native device', DEV), () => {
  it('tensors are host memory; to() copies both ways; float64 is refused', () => {
    const a = pb.fromArray(new Float32Array([1, 2, 3, 4]), [2, 2]);
    const b = a.to(DEV);
    expect(b.device).toBe(DEV);
    expect(b.storage).toBeInstanceOf(CpuStorage);
    expect(b.storage).not.toBe(a.storage);           // a copy, not an alias
    expect(Array.from(b.data)).toEqual([1, 2, 3, 4]);  // readable in place (no device transfer)
    const back = b.to('cpu');
    expect(back.device).toBe('cpu');
    expect(back.toArray()).toEqual([1, 2, 3, 4]);
    expect(() => pb.zeros([2], { device: DEV, dtype: 'float64' })).toThrow(/cpu-native' holds float32 and int32 tensors, not float64/);
    for (const t of [a, b, back]) t.dispose();
  });

  it('a device mismatch still names the op and both devices (no implicit moves between cpu and cpu-native)', () => {
    const x = pb.ones([2, 3]), y = pb.ones([2, 3], { device: DEV });
    expect(() => pb.add(x, y)).toThrow(/add: tensors are on different devices \(\[2, 3\]@cpu, \[2, 3\]@cpu-native/);
    x.dispose(); y.dispose();
  });

  it('a kernel without a native version runs the TypeScript kernel on the same memory; results stay on cpu-native', () => {
    const ts = pb.kernelsOf('cpu').find((k) => !getKernel(DEV, k));
    // every kernel may be native one day; then the fallback path is exercised by a fake device kernel name
    const x = pb.fromArray(new Float32Array([-1, 0.5, 2]), [3], { device: DEV });
    const y = pb.exp(x);
    expect(y.device).toBe(DEV);
    expect(Array.from(y.data).map((v) => +v.toFixed(5))).toEqual([Math.exp(-1), Math.exp(0.5), Math.exp(2)].map((v) => +Math.fround(v).toFixed(5)));
    if (ts) {
      expect(getKernel('cpu', ts)).toBeDefined();
      expect(getKernel(DEV, ts)).toBeUndefined();
    }
    x.dispose(); y.dispose();
    expect(getDevice(DEV).hostFallback).toBe('cpu');
  });

  it('a native kernel given bad arguments throws a JS error naming the kernel and the values', () => {
    expect(nativeCpuKernels()).toContain('matmul');
    const A = pb.zeros([4], { device: DEV }), B = pb.zeros([4], { device: DEV }), C = pb.zeros([4], { device: DEV });
    // [M, K] = [2, 3] needs 6 elements of A; it has 4
    expect(() => runKernel('matmul', [C], [A, B], [1, 2, 3, 2, 0, 0, 0, 0, 0])).toThrow(/cpu-native kernel 'matmul': .*A has 4 elements, needs at least 6/);
    expect(() => runKernel('matmul', [C], [A, B], [1, 2, 2])).toThrow(/cpu-native kernel 'matmul': .*expects 9 ints, got 3/);
    for (const t of [A, B, C]) t.dispose();
  });

  it('results do not depend on the thread count (same bits with 1 and 2 threads)', () => {
    const before = getCpuNativeThreads()!;
    const g = new pb.Generator(7);
    const a = pb.randn([301, 257], { generator: g }), b = pb.randn([257, 263], { generator: g });
    const run = (n: number) => {
      setCpuNativeThreads(n);
      return pb.tidy(() => pb.matmul(a.to(DEV), b.to(DEV)).toTyped());
    };
    try {
      const one = run(1), two = run(2);
      expect(Buffer.compare(Buffer.from(one.buffer), Buffer.from(two.buffer))).toBe(0);
    } finally {
      setCpuNativeThreads(before);
      a.dispose(); b.dispose();
    }
  });

  it('released buffers are reused, zero-filled (the host pool); small ones are not pooled', () => {
    const n = 64 * 1024;   // 256 KiB: pooled
    const a = pb.full([n], 7, { device: DEV });
    const buf = a.data;
    a.dispose();
    const before = cpuNativePoolStats().poolHits;
    const b = pb.zeros([n], { device: DEV });
    expect(cpuNativePoolStats().poolHits).toBe(before + 1);
    expect(b.data).toBe(buf);                          // the same memory, handed out again …
    expect(b.data.every((v) => v === 0)).toBe(true);   // … zero-filled
    const c = pb.fromArray(new Float32Array(n).fill(3), [n], { device: DEV });   // fromHost: a fresh or pooled buffer, filled with the data
    expect(c.data[n - 1]).toBe(3);
    const small = pb.full([4], 1, { device: DEV });
    const smallBuf = small.data;
    small.dispose();
    const again = pb.zeros([4], { device: DEV });
    expect(again.data).not.toBe(smallBuf);
    again.dispose();
    expect(getDevice(DEV).memStats?.()).toMatchObject({ poolCapBytes: expect.any(Number), pooledBytes: expect.any(Number) });
    b.dispose(); c.dispose();
  });

  it('setCpuNativeThreads validates its argument', () => {
    expect(() => setCpuNativeThreads(0)).toThrow(/not a positive integer/);
    expect(() => setCpuNativeThreads(1.5)).toThrow(/not a positive integer/);
  });
});
