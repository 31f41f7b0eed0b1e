/**
 * The kernel registry: (device, kernel name) → function (tfjs's kernel_registry, without its
 * separate gradient registry: gradients live beside their forward in src/ops/).
 *
 * One calling convention for every device, the same one the native addon uses across N-API:
 * output storages, input storages, integer parameters, float parameters. Kernels write their
 * outputs (which the op allocated) and return nothing.
 */
import type { Storage } from '../storage.js';

export interface KernelArgs {
  outs: Storage[];
  ins: Storage[];
  ints: number[];
  floats: number[];
}
export type KernelFn = (args: KernelArgs) => void;

const kernels = new Map<string, KernelFn>();
const key = (device: string, name: string) => `${device}:${name}`;

export function registerKernel(device: string, name: string, fn: KernelFn): void {
  kernels.set(key(device, name), fn);
}

export function getKernel(device: string, name: string): KernelFn | undefined {
  return kernels.get(key(device, name));
}

/** Devices that have a kernel of this name. */
export function devicesWithKernel(name: string): string[] {
  const out: string[] = [];
  for (const k of kernels.keys()) {
    const i = k.indexOf(':');
    if (k.slice(i + 1) === name) out.push(k.slice(0, i));
  }
  return out;
}

/** Kernel names registered for a device, sorted. */
export function kernelsOf(device: string): string[] {
  const p = `${device}:`;
  return [...kernels.keys()].filter((k) => k.startsWith(p)).map((k) => k.slice(p.length)).sort();
}
