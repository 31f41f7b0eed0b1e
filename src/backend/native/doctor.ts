/**
 * `pixelbytes doctor`: which devices work (and why not), the GPU, its driver and memory, what the
 * native build found, and which kernels each device has.
 *
 *   pixelbytes doctor          human-readable report
 *   pixelbytes doctor --json   the same as JSON
 */
import { readFileSync } from 'node:fs';
import { hasDevice, unavailableDevices } from '../../device.js';
import { kernelsOf } from '../../dispatch/registry.js';
import { loadNative, nativeBuildInfo, nativeDir, type NativeLoad } from './addon.js';
import { loadCpuNative, CPU_NATIVE, type CpuNativeLoad } from './cpu_native.js';
import { defaultDevice } from './select.js';

const DEVICES = ['cpu', 'cpu-native', 'cuda', 'cuda-emu'] as const;

function cudaVersion(v: number): string {
  return v > 0 ? `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}` : 'none';
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

/** The kernel driver's own version line (Linux), e.g. "580.159". */
function nvidiaDriverVersion(): string | null {
  try {
    const text = readFileSync('/proc/driver/nvidia/version', 'utf8');
    const m = /Kernel Module\s+(?:for\s+\S+\s+)?([0-9]+(?:\.[0-9]+)+)/.exec(text);
    return m ? m[1] : text.split('\n')[0].trim();
  } catch {
    return null;
  }
}

export interface DoctorReport {
  node: string;
  devices: { name: string; available: boolean; reason: string | null; kernels: number; library?: string; detail?: string; note?: string }[];
  /** The device training and generation use when none is named, and why. */
  defaultDevice: { device: string; why: string };
  gpu: null | {
    name: string; computeCapability: string; smCount: number; driver: string | null; driverCudaVersion: string; runtimeVersion: string;
    totalMemory: number; freeMemory: number | null; archs: string;
  };
  build: ReturnType<typeof nativeBuildInfo>;
  nativeDir: string;
  /** kernel name → devices that have it ('cuda' counts when the library has it, even without a GPU). */
  coverage: Record<string, string[]>;
}

function nativeKernelNames(load: NativeLoad | CpuNativeLoad): string[] {
  if (!load.addon) return [];
  try {
    return load.addon.kernelInfo().map((k) => k.name).filter((n) => !n.startsWith('selftest_'));
  } catch {
    return [];
  }
}

export function doctorReport(): DoctorReport {
  const loads = { 'cuda': loadNative('cuda'), 'cuda-emu': loadNative('cuda-emu'), [CPU_NATIVE]: loadCpuNative() } as Record<Exclude<(typeof DEVICES)[number], 'cpu'>, NativeLoad | CpuNativeLoad>;
  const reasons = new Map(unavailableDevices());
  const devices: DoctorReport['devices'] = [];
  const names = new Map<string, string[]>();
  for (const d of DEVICES) {
    const list = d === 'cpu' ? kernelsOf('cpu') : nativeKernelNames(loads[d]);
    names.set(d, list);
    const entry: DoctorReport['devices'][number] = {
      name: d,
      available: hasDevice(d),
      reason: hasDevice(d) ? null : reasons.get(d) ?? (d === 'cpu' ? 'not loaded' : loads[d].reason),
      kernels: list.length,
    };
    if (d === 'cpu') entry.detail = 'TypeScript reference kernels';
    else if (d === CPU_NATIVE) {
      const l = loads[d] as CpuNativeLoad;
      entry.library = l.path;
      if (l.info) {
        entry.detail = `C++ kernels — SGEMM ${l.info.isa}, ${l.info.threads} of ${l.info.hardwareThreads} threads, ${l.info.compiler}, ${l.info.arch}`;
        const others = kernelsOf('cpu').length - list.length;
        if (others > 0) entry.note = `the other ${others} kernels run the TypeScript ones on the same memory`;
      }
    } else {
      const l = loads[d] as NativeLoad;
      entry.library = l.path;
      if (l.info?.name) entry.detail = l.info.name;
    }
    devices.push(entry);
  }
  let gpu: DoctorReport['gpu'] = null;
  const cuda = loads.cuda as NativeLoad;
  if (cuda.info && cuda.info.status === 'ok' && cuda.addon) {
    let free: number | null = null;
    try { free = cuda.addon.memInfo().free; } catch { /* context creation failed: leave it unknown */ }
    gpu = {
      name: cuda.info.name,
      computeCapability: cuda.info.computeCapability,
      smCount: cuda.info.smCount,
      driver: nvidiaDriverVersion(),
      driverCudaVersion: cudaVersion(cuda.info.driverVersion),
      runtimeVersion: cudaVersion(cuda.info.runtimeVersion),
      totalMemory: cuda.info.totalMemory,
      freeMemory: free,
      archs: cuda.info.archs,
    };
  }
  const coverage: Record<string, string[]> = {};
  for (const [d, list] of names) for (const k of list) (coverage[k] ??= []).push(d);
  return { node: process.version, devices, defaultDevice: defaultDevice(), gpu, build: nativeBuildInfo(), nativeDir: nativeDir(), coverage };
}

export function formatDoctor(r: DoctorReport): string {
  const out: string[] = [];
  out.push(`PixelBytes.ts doctor — Node ${r.node}, ${process.platform} ${process.arch}`, '', 'Devices');
  for (const d of r.devices) {
    const mark = d.available ? '✓' : '✗';
    const what = d.available ? `${d.detail ?? ''} (${d.kernels} kernels)` : d.reason ?? '';
    out.push(`  ${mark} ${d.name.padEnd(10)} ${what}`);
    if (d.available && d.note) out.push(`  ${''.padEnd(12)} ${d.note}`);
    if (d.library && !d.available && d.kernels > 0) out.push(`  ${''.padEnd(12)} library loaded (${d.kernels} kernels built): ${d.library}`);
  }
  out.push('', `Default device (train, generate, eval, npm start): ${r.defaultDevice.device} — ${r.defaultDevice.why}`);
  out.push('', 'GPU');
  if (r.gpu) {
    const g = r.gpu;
    out.push(`  ${g.name} (compute capability ${g.computeCapability}, ${g.smCount} SMs)`);
    out.push(`  driver ${g.driver ?? '(version file not readable)'} — supports CUDA ${g.driverCudaVersion}; CUDA runtime ${g.runtimeVersion} (static)`);
    out.push(`  memory ${gib(g.totalMemory)} total${g.freeMemory !== null ? `, ${gib(g.freeMemory)} free` : ''}`);
    out.push(`  library built for ${g.archs || '?'}`);
  } else {
    const cuda = r.devices.find((d) => d.name === 'cuda');
    out.push(`  none usable: ${cuda?.reason ?? 'unknown'}`);
  }
  out.push('', 'Native build');
  if (r.build) {
    out.push(`  nvcc: ${r.build.nvcc ? `yes (${r.build.cudaCompilerVersion}), architectures ${r.build.cudaArchitectures}` : 'not found — the CUDA library was not built (cpu-native and cuda-emu need only g++)'}`);
    out.push(`  emulator: ${r.build.emulator ? 'yes' : 'no'}`);
    out.push(`  native CPU library: ${r.build.cpu ? 'yes' : 'no'}`);
  } else {
    out.push('  not built (run npm run build:native)');
  }
  out.push(`  libraries looked for in ${r.nativeDir}`);

  const names = Object.keys(r.coverage).sort();
  out.push('', `Kernel coverage (${names.length} kernels; ✓ = has a kernel, · = none)`);
  const w = Math.max(24, ...names.map((n) => n.length + 2));
  out.push(`  ${'kernel'.padEnd(w)}${DEVICES.map((d) => d.padEnd(12)).join('')}`);
  for (const n of names) out.push(`  ${n.padEnd(w)}${DEVICES.map((d) => (r.coverage[n].includes(d) ? '✓' : '·').padEnd(12)).join('')}`);
  const cpu = names.filter((n) => r.coverage[n].includes('cpu'));
  for (const dev of ['cuda', CPU_NATIVE]) {
    const missing = cpu.filter((n) => !r.coverage[n].includes(dev) && !(dev === 'cuda' && r.coverage[n].includes('cuda-emu')));
    const note = dev === CPU_NATIVE ? ' (they run the TypeScript kernel on the same memory)' : '';
    out.push(`  ${dev}: ${cpu.length - missing.length} of ${cpu.length} CPU kernels native.${missing.length ? ` Not native${note}: ${missing.join(', ')}` : ''}`);
  }
  out.push('');
  return out.join('\n');
}

export async function doctorCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log('usage: pixelbytes doctor [--json]\n\nDevices (cpu, cpu-native, cuda, cuda-emu) and why one is unavailable, the default device, the GPU, driver and memory, the native build, and kernel coverage.');
    return 0;
  }
  const r = doctorReport();
  console.log(args.includes('--json') ? JSON.stringify(r, null, 2) : formatDoctor(r));
  return 0;
}
