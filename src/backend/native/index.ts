/**
 * Loads the native devices ('cuda', 'cuda-emu', 'cpu-native') at import: synchronous, cheap, never throws.
 * Unavailable devices are marked with the reason (see `pixelbytes doctor`).
 */
import { initNativeDevices } from './device.js';
import { initCpuNative } from './cpu_native.js';

export const nativeLoads = initNativeDevices();
export const cpuNativeLoad = initCpuNative();
