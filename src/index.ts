/**
 * PixelBytes.ts engine: the public surface.
 *
 *   import { Tensor, F, tidy, noGrad, gradcheck, nn, optim } from 'pixelbytes';
 */
import './backend/cpu/index.js';          // the 'cpu' device and its reference kernels
import './backend/native/index.js';       // 'cuda' / 'cuda-emu' when built (never throws)
import './autograd/backward.js';          // installs Tensor.backward

export { Tensor, parameter } from './tensor.js';
export type { DType, TypedArray } from './dtype.js';
export * from './creation.js';
export * as F from './ops/index.js';
export * from './ops/index.js';
export { tidy, keep, dispose, memory, type MemoryInfo } from './memory.js';
export { noGrad, enableGrad, isGradEnabled, detectAnomaly, setAnomalyDetection, AnomalyError } from './autograd/grad_mode.js';
export { gradcheck, describeFailures, type GradcheckOptions, type GradcheckReport } from './autograd/gradcheck.js';
export { Generator, manualSeed, defaultGenerator } from './util/rng.js';
export { registerDevice, getDevice, listDevices, hasDevice, unavailableDevices, type DeviceBackend } from './device.js';
export { record, record1, type BackwardFn } from './autograd/node.js';
export { runKernel } from './dispatch/dispatch.js';
export { registerKernel, getKernel, kernelsOf, devicesWithKernel, type KernelArgs, type KernelFn } from './dispatch/registry.js';
export { setNumThreads, getNumThreads } from './backend/cpu/threads.js';
export { setCpuNativeThreads, getCpuNativeThreads, nativeCpuKernels } from './backend/native/cpu_native.js';
export { defaultDevice, resolveDevice } from './backend/native/select.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export { saveSafetensors, loadSafetensors, serializeSafetensors, parseSafetensors, SafetensorsError, type SafetensorsContents } from './io/safetensors.js';
