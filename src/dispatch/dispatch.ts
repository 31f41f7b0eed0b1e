/**
 * runKernel: the one door from an op to a kernel. It checks that every tensor is on one device
 * (no implicit transfers: a mismatch names the op and the devices), finds the kernel for that
 * device or says which devices have it, runs it, and in anomaly mode scans its outputs.
 */
import type { Tensor } from '../tensor.js';
import { getKernel, devicesWithKernel } from './registry.js';
import { fallbackOf } from '../device.js';
import { isAnomalyEnabled, AnomalyError, opContext } from '../autograd/grad_mode.js';
import { shapeStr } from '../util/shape.js';

export function runKernel(name: string, outs: Tensor[], ins: Tensor[], ints: number[] = [], floats: number[] = []): void {
  const device = (outs[0] ?? ins[0]).device;
  for (const t of ins) if (t.device !== device) throw deviceMismatch(name, outs, ins);
  for (const t of outs) if (t.device !== device) throw deviceMismatch(name, outs, ins);
  // a host-memory device without this kernel runs its fallback's (cpu-native → the TypeScript kernel)
  const fallback = fallbackOf(device);
  const kernel = getKernel(device, name) ?? (fallback === null ? undefined : getKernel(fallback, name));
  if (!kernel) {
    const have = devicesWithKernel(name);
    throw new Error(`kernel '${name}' has no ${device} implementation (available: ${have.join(', ') || 'none'}); move the tensors with .to('${have[0] ?? 'cpu'}')`);
  }
  const outStorages = outs.map((t) => t.storage);
  for (const s of outStorages) s.hostMirror = null;   // written on the device: the host copy is stale
  kernel({ outs: outStorages, ins: ins.map((t) => t.storage), ints, floats });
  if (isAnomalyEnabled()) for (const o of outs) checkFinite(name, o);
}

function deviceMismatch(name: string, outs: Tensor[], ins: Tensor[]): Error {
  const where = [...ins, ...outs].map((t) => `${shapeStr(t.shape)}@${t.device}`).join(', ');
  return new Error(`${name}: tensors are on different devices (${where}); move them explicitly with .to(device)`);
}

function checkFinite(kernel: string, t: Tensor): void {
  if (t.dtype === 'int32') return;
  const xs = t.toTyped();
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i])) {
      const ctx = opContext[opContext.length - 1];
      const op = ctx?.op ?? kernel;
      const phase = ctx?.phase ?? 'forward';
      throw new AnomalyError(`anomaly: ${phase === 'backward' ? `the backward of '${op}'` : `op '${op}'`} (kernel '${kernel}') produced ${xs[i]} at flat index ${i} of an output of shape ${shapeStr(t.shape)}`, op, phase);
    }
  }
}
