/**
 * Loads the native devices ('cuda', 'cuda-emu') at import: synchronous, cheap, never throws.
 * Unavailable devices are marked with the reason (see `pixelbytes doctor`).
 */
import { initNativeDevices } from './device.js';

export const nativeLoads = initNativeDevices();
