/**
 * Device-vs-CPU parity, written once and run for every native device that is available here
 * ('cpu-native' and 'cuda-emu' on every CI run, 'cuda' on a GPU machine); a device that is not
 * available shows up as a skipped suite whose title says why. On 'cpu-native' only its native
 * kernels are compared (getKernel: the TypeScript fallbacks are the oracle itself).
 *
 * Two levels:
 *  - kernel cases (parity-cases.ts: `kernelCases`): one kernel with exact ints/floats, inputs drawn
 *    from a seeded generator, every output poisoned (NaN / −777) on both sides before the launch
 *    — an element the device kernel fails to write shows up as a mismatch;
 *  - op cases (`opCases`): the public op forward, then backward of Σ out·R (R fixed random), on
 *    'cpu' (float32) and on the device, comparing the output and every input gradient.
 * Each comparison is |device − cpu| ≤ atol + rtol·|cpu| with the tolerance written beside the
 * case, and a failure prints the first mismatches. A case whose kernels the device lacks is
 * skipped (with the missing kernel named), so new kernels are picked up without touching this file;
 * the coverage test below fails when a native kernel has no case at all.
 */
import { describe, it, expect } from 'vitest';
import { loadNative } from '../../src/backend/native/addon.js';
import { loadCpuNative } from '../../src/backend/native/cpu_native.js';
import { kernelsOf } from '../../src/dispatch/registry.js';
import { NATIVE_DEVICES, deviceStatus, suiteTitle, closeReport } from './helpers.js';
import { kernelCases, opCases, runKernelCase, runOpCase, missingKernel } from './parity-cases.js';

for (const device of NATIVE_DEVICES) {
  const status = deviceStatus(device);
  describe.skipIf(!status.available)(suiteTitle('kernel parity', device), () => {
    for (const c of kernelCases) {
      it(c.name, (ctx) => {
        const missing = missingKernel(device, [c.kernel]);
        if (missing) { ctx.skip(`no ${device} kernel '${missing}'`); return; }
        const ref = runKernelCase(c, 'cpu');
        const got = runKernelCase(c, device);
        const reports = got.map((g, i) => closeReport(g, ref[i], c.tol, `${c.name} output ${i} (tolerance: ${c.tol.why})`)).filter((r) => r !== null);
        expect(reports.join('\n'), reports.join('\n')).toBe('');
      });
    }
  });

  describe.skipIf(!status.available)(suiteTitle('op parity (forward + backward)', device), () => {
    for (const c of opCases) {
      it(c.name, (ctx) => {
        const missing = missingKernel(device, c.kernels);
        if (missing) { ctx.skip(`no ${device} kernel '${missing}'`); return; }
        const ref = runOpCase(c, 'cpu');
        let got: ReturnType<typeof runOpCase>;
        try {
          got = runOpCase(c, device);
        } catch (e) {
          // a kernel the case did not list (the op changed): skip with its name, the coverage test catches the list
          const m = /kernel '([^']+)' has no \S+ implementation/.exec((e as Error).message);
          if (m) { ctx.skip(`no ${device} kernel '${m[1]}' (add it to the case's kernels)`); return; }
          throw e;
        }
        const reports: string[] = [];
        for (const key of Object.keys(ref)) {
          const tol = key === 'out' ? c.tol : c.gradTol ?? c.tol;
          const r = closeReport(got[key], ref[key], tol, `${c.name} ${key} (tolerance: ${tol.why})`);
          if (r) reports.push(r);
        }
        expect(reports.join('\n'), reports.join('\n')).toBe('');
      });
    }
  });
}

describe('parity coverage', () => {
  it('every native kernel has at least one parity case', (ctx) => {
    const lib = loadNative('cuda-emu').addon ?? loadNative('cuda').addon;
    if (!lib) { ctx.skip(`no native library: ${deviceStatus('cuda-emu').reason}`); return; }
    const covered = new Set<string>([...kernelCases.map((c) => c.kernel), ...opCases.flatMap((c) => c.kernels)]);
    const native = lib.kernelInfo().map((k) => k.name).filter((n) => !n.startsWith('selftest_'));
    expect(native.filter((n) => !covered.has(n))).toEqual([]);
    // and every native kernel has a CPU twin of the same name (the oracle)
    const cpu = new Set(kernelsOf('cpu'));
    expect(native.filter((n) => !cpu.has(n))).toEqual([]);
  });

  it('every cpu-native kernel has a parity case and a TypeScript twin', (ctx) => {
    const lib = loadCpuNative().addon;
    if (!lib) { ctx.skip(`no cpu-native library: ${loadCpuNative().reason}`); return; }
    const covered = new Set<string>([...kernelCases.map((c) => c.kernel), ...opCases.flatMap((c) => c.kernels)]);
    const native = lib.kernelInfo().map((k) => k.name);
    expect(native.length).toBeGreaterThan(0);
    expect(native.filter((n) => !covered.has(n))).toEqual([]);
    const cpu = new Set(kernelsOf('cpu'));
    expect(native.filter((n) => !cpu.has(n))).toEqual([]);
  });
});
