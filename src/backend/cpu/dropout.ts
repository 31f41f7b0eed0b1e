/**
 * CPU reference kernel for inverted dropout. The mask is a pure function of (seed, element index),
 * hashUniform from util/rng.ts written out inline, so every device draws the same mask for the
 * same seed and the backward re-runs this kernel on g instead of storing a mask.
 */
import { registerCpuKernel } from './device.js';
import { splitmix32 } from '../../util/rng.js';

// out[i] = x[i] · scale  if hashUniform(seed, i) ≥ p,  else 0,   scale = 1/(1 − p)   (p = 1: all zeros)
// hashUniform(seed, i) = splitmix32((i · 0x27d4eb2d) ^ splitmix32(seed)) / 2³²   (uint32 arithmetic)
// The backward is this kernel applied to g with the same seed and p.
// ints = [seed] (a uint32 passed as its signed int32 bit pattern), floats = [p]
registerCpuKernel('dropout', ([out], [x], [seed], [p]) => {
  const scale = p < 1 ? 1 / (1 - p) : 0;
  const hs = splitmix32(seed >>> 0);
  for (let i = 0; i < out.length; i++) {
    const u = splitmix32((Math.imul(i, 0x27d4eb2d) ^ hs) >>> 0) / 4294967296;
    out[i] = u >= p ? x[i] * scale : 0;
  }
});
