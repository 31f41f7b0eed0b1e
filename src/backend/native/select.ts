/**
 * The device a command uses when none is named: the fastest one that works here.
 *   'cuda'        an NVIDIA GPU with the CUDA library built
 *   'cpu-native'  the native CPU library (SIMD + threads; ~25–50× the TypeScript kernels)
 *   'cpu'         the TypeScript kernels (always there)
 * 'cuda-emu' is never chosen: it is the SIMT emulator, a correctness tool, slower than 'cpu'.
 */
import { hasDevice, unavailableDevices } from '../../device.js';

export function defaultDevice(): { device: string; why: string } {
  const reasons = new Map(unavailableDevices());
  if (hasDevice('cuda')) return { device: 'cuda', why: 'an NVIDIA GPU is available' };
  const noCuda = `no cuda (${reasons.get('cuda') ?? 'not registered'})`;
  if (hasDevice('cpu-native')) return { device: 'cpu-native', why: `${noCuda}; the native CPU kernels are the fastest device here` };
  return { device: 'cpu', why: `${noCuda}; no cpu-native (${reasons.get('cpu-native') ?? 'not registered'}): the TypeScript kernels` };
}

/** The named device, or the default with a sentence saying which and why. */
export function resolveDevice(named: string | undefined): { device: string; why: string } {
  if (named !== undefined && named !== '' && named !== 'auto') return { device: named, why: 'named with --device' };
  return defaultDevice();
}
