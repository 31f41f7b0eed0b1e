/**
 * Loading the native devices: the reason in words when one is unavailable, the environment
 * switches, the device-mismatch error, and `pixelbytes doctor`.
 */
import { describe, it, expect, vi } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromArray, add, matmul, hasDevice } from '../../src/index.js';
import { describeInitFailure, loadNative, type NativeInitInfo } from '../../src/backend/native/addon.js';
import { doctorReport, formatDoctor } from '../../src/backend/native/doctor.js';
import { deviceStatus, suiteTitle } from './helpers.js';

const base: NativeInitInfo = {
  compiled: true, emulator: false, deviceCount: 0, status: 'ok', statusText: '', name: '', computeCapability: '',
  smCount: 0, driverVersion: 0, runtimeVersion: 13000, totalMemory: 0, archs: '',
};

describe('native loader', () => {
  // CI runs `npm run build:native` before the tests: there the emulator must load, or every
  // cuda-emu suite below (skipIf(!available)) would skip and check nothing.
  it.runIf(process.env.CI === 'true')('on CI the cuda-emu library is built and loads', () => {
    expect(deviceStatus('cuda-emu').reason).toBe('');
    expect(hasDevice('cuda-emu')).toBe(true);
  });

  it('says in words why CUDA is unavailable', () => {
    expect(describeInitFailure({ ...base, status: 'cudaErrorInsufficientDriver', statusText: 'CUDA driver version is insufficient for CUDA runtime version' }))
      .toMatch(/^no NVIDIA driver \(cudaErrorInsufficientDriver: CUDA driver version is insufficient/);
    expect(describeInitFailure({ ...base, status: 'cudaErrorNoDevice', statusText: 'no CUDA-capable device is detected' })).toMatch(/^no CUDA device \(cudaErrorNoDevice/);
    expect(describeInitFailure({ ...base, status: 'ok', deviceCount: 0 })).toMatch(/^no CUDA device/);
    expect(describeInitFailure({ ...base, status: 'cudaErrorUnknown', statusText: 'unknown error' })).toBe('CUDA unavailable (cudaErrorUnknown: unknown error)');
    expect(describeInitFailure({ ...base, status: 'ok', deviceCount: 1, name: 'NVIDIA H100' })).toBeNull();
  });

  it('the cuda device is either usable or marked unavailable with that reason', () => {
    const load = loadNative('cuda');
    const st = deviceStatus('cuda');
    if (st.available) {
      expect(load.reason).toBeNull();
      expect(load.info?.deviceCount).toBeGreaterThan(0);
      return;
    }
    expect(st.reason).toBe(load.reason);
    // the three situations of this project's machines: not built, built without a driver, no device
    expect(st.reason).toMatch(/^(not built|no NVIDIA driver \(cudaErrorInsufficientDriver|no CUDA device|disabled by PIXELBYTES_NO_NATIVE)/);
    if (load.addon) {
      // the library loaded without a GPU: its kernel list is still known (doctor shows it)
      expect(load.addon.kernelInfo().map((k) => k.name)).toContain('matmul');
      expect(load.info?.status).not.toBe('ok');
    }
    expect(() => fromArray([1, 2], [2], { device: 'cuda' })).toThrow(`device 'cuda' is unavailable: ${st.reason}`);
  });

  it('reports "not built" for a directory without the libraries, and honours PIXELBYTES_NO_NATIVE', async () => {
    const saved = { dir: process.env.PIXELBYTES_NATIVE_DIR, no: process.env.PIXELBYTES_NO_NATIVE };
    try {
      process.env.PIXELBYTES_NATIVE_DIR = mkdtempSync(join(tmpdir(), 'pb-native-'));
      delete process.env.PIXELBYTES_NO_NATIVE;
      vi.resetModules();
      const fresh = await import('../../src/backend/native/addon.js');
      expect(fresh.loadNative('cuda').reason).toBe('not built: run npm run build:native');
      expect(fresh.loadNative('cuda-emu').reason).toBe('not built: run npm run build:native');
      process.env.PIXELBYTES_NO_NATIVE = '1';
      vi.resetModules();
      const off = await import('../../src/backend/native/addon.js');
      expect(off.loadNative('cuda-emu').reason).toBe('disabled by PIXELBYTES_NO_NATIVE=1');
    } finally {
      if (saved.dir === undefined) delete process.env.PIXELBYTES_NATIVE_DIR; else process.env.PIXELBYTES_NATIVE_DIR = saved.dir;
      if (saved.no === undefined) delete process.env.PIXELBYTES_NO_NATIVE; else process.env.PIXELBYTES_NO_NATIVE = saved.no;
      vi.resetModules();
    }
  });

  it('doctor lists every device, the GPU (or why none), and kernel coverage', () => {
    const r = doctorReport();
    expect(r.devices.map((d) => d.name)).toEqual(['cpu', 'cpu-native', 'cuda', 'cuda-emu']);
    expect(r.devices[0].available).toBe(true);
    for (const d of r.devices) expect(d.available || (d.reason ?? '').length > 0).toBe(true);
    expect(r.coverage.matmul).toContain('cpu');
    const text = formatDoctor(r);
    expect(text).toMatch(/Devices\n {2}✓ cpu/);
    expect(text).toMatch(/Kernel coverage/);
    if (!hasDevice('cuda')) expect(text).toContain(`none usable: ${deviceStatus('cuda').reason}`);
    if (hasDevice('cuda-emu')) expect(r.coverage.matmul).toContain('cuda-emu');
  });
});

describe.skipIf(!hasDevice('cuda-emu'))(suiteTitle('no implicit transfers', 'cuda-emu'), () => {
  it('a device mismatch names the op and both devices', () => {
    const a = fromArray([1, 2, 3], [3]);
    const b = fromArray([1, 2, 3], [3], { device: 'cuda-emu' });
    expect(() => add(a, b)).toThrow(/^add: tensors are on different devices \(\[3\]@cpu, \[3\]@cuda-emu\)/);
    expect(() => matmul(fromArray([1, 2], [1, 2]), fromArray([1, 2], [2, 1], { device: 'cuda-emu' }))).toThrow(/^matmul: tensors are on different devices/);
  });

  it('t.to(device) copies both ways; float64 is refused on the device', () => {
    const x = fromArray([1.5, -2, 3.25], [3]);
    const d = x.to('cuda-emu');
    expect(d.device).toBe('cuda-emu');
    expect(d.toArray()).toEqual([1.5, -2, 3.25]);
    expect(d.to('cpu').toArray()).toEqual([1.5, -2, 3.25]);
    const i = fromArray(Int32Array.of(1, -7), [2]).to('cuda-emu');
    expect(i.dtype).toBe('int32');
    expect(i.toArray()).toEqual([1, -7]);
    expect(() => fromArray(Float64Array.of(1, 2), [2]).to('cuda-emu')).toThrow(/cuda-emu.*float64/);
  });
});
