#!/usr/bin/env node
// Where one training step's time goes: the median wall time of a step of a preset (`last`
// objective, batch 32 × 256 windows, the bench suite's pseudo-batch) and the time and call count
// of every kernel in it. Needs dist/ (npm run build).
//
//   node scripts/profile-step.mjs [device=cpu-native] [preset=rnn_bi_pxby_conv_81_dim_64_state_2_layer] [steps=10]
//   PIXELBYTES_HOST_POOL_MB=0 node scripts/profile-step.mjs    # the same without cpu-native's buffer pool
import * as pb from '../dist/src/index.js';
import { createModel } from '../dist/models/common/factory.js';
import { makeOptimizer } from '../dist/models/common/optimizer.js';
import { findPreset } from '../dist/models/common/presets.js';
import { DEFAULT_TRAIN } from '../dist/models/common/config.js';

const [device = 'cpu-native', preset = 'rnn_bi_pxby_conv_81_dim_64_state_2_layer', stepsArg = '10'] = process.argv.slice(2);
const steps = Number(stepsArg);
const times = new Map();
for (const name of pb.kernelsOf(device)) {   // wrap every kernel of the device with a timer
  const fn = pb.getKernel(device, name);
  pb.registerKernel(device, name, (args) => {
    const t0 = performance.now();
    fn(args);
    const e = times.get(name) ?? [0, 0];
    e[0] += performance.now() - t0;
    e[1]++;
    times.set(name, e);
  });
}
const B = 32, T = 256, V = 113;
pb.manualSeed(0);
const model = createModel(findPreset(preset).model).to(device);
const opt = makeOptimizer(model, DEFAULT_TRAIN);
const windows = new Int32Array(B * T * 9);
for (let i = 0; i < windows.length; i++) windows[i] = i % 9 < 5 ? (i * 7919 + 13) % V : 0;
const x = pb.fromArray(windows, [B, T, 3, 3], { dtype: 'int32', device });
const t = pb.fromArray(Int32Array.from({ length: B }, (_, i) => (i * 31 + 7) % V), [B], { dtype: 'int32', device });
const step = () => pb.tidy(() => {
  const loss = pb.crossEntropy(model.forward(x, false), t);
  loss.backward();
  opt.step();
  opt.zeroGrad();
  return loss.item();
});
for (let i = 0; i < 3; i++) step();   // warm-up
times.clear();
const walls = [];
for (let i = 0; i < steps; i++) { const t0 = performance.now(); step(); walls.push(performance.now() - t0); }
walls.sort((a, b) => a - b);
const kernelMs = [...times.values()].reduce((s, e) => s + e[0], 0) / steps;
console.log(`${preset} on ${device}: median step ${walls[steps >> 1].toFixed(1)} ms, kernels ${kernelMs.toFixed(1)} ms/step (${steps} steps)`);
for (const [k, [ms, n]] of [...times.entries()].sort((a, b) => b[1][0] - a[1][0]).slice(0, 15)) {
  console.log(`  ${k.padEnd(32)} ${(ms / steps).toFixed(2).padStart(8)} ms  ${(n / steps).toFixed(0).padStart(4)} calls`);
}
