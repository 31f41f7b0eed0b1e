/**
 * Native benchmark (off unless PIXELBYTES_NATIVE_BENCH=1; it is a measurement, not a test):
 *
 *   PIXELBYTES_NATIVE_BENCH=1 npx vitest run test/native/bench.test.ts
 *     PIXELBYTES_BENCH_DEVICE=cuda|cuda-emu  (default: cuda when available)
 *     PIXELBYTES_BENCH_WINDOWS=N             training windows per epoch for the epoch estimate (default 10000)
 *     PIXELBYTES_BENCH_BATCH / _SEQ           training batch and positions (default: the trainer's 32 × 256)
 *
 * Per kernel: device and CPU time (median of timed runs, host clock around launch + synchronize —
 * so launch overhead is included, as an op pays it), their ratio, and GFLOP/s or GB/s. Then the
 * ms per training step (forward + loss + backward + AdamW, data upload included, loss read back)
 * of the paper's reference configurations, and the epoch time that implies. The device is named.
 */
import { describe, it } from 'vitest';
import { fromArray, full, tidy, crossEntropy, manualSeed, getDevice, hasDevice, type Tensor } from '../../src/index.js';
import { runKernel } from '../../src/dispatch/dispatch.js';
import { loadNative } from '../../src/backend/native/addon.js';
import { createModel } from '../../models/common/factory.js';
import { makeOptimizer } from '../../models/common/optimizer.js';
import { DEFAULT_TRAIN } from '../../models/common/config.js';
import { findPreset } from '../../models/common/presets.js';
import { Generator } from '../../src/util/rng.js';
import { uniform, ints } from './helpers.js';

const ENABLED = process.env.PIXELBYTES_NATIVE_BENCH === '1';
const DEVICE = process.env.PIXELBYTES_BENCH_DEVICE ?? (hasDevice('cuda') ? 'cuda' : 'cuda-emu');
const WINDOWS = Number(process.env.PIXELBYTES_BENCH_WINDOWS ?? 10000);
const BATCH = Number(process.env.PIXELBYTES_BENCH_BATCH ?? DEFAULT_TRAIN.batchSize);
const SEQ = Number(process.env.PIXELBYTES_BENCH_SEQ ?? DEFAULT_TRAIN.seqLen);

interface Case { name: string; kernel: string; outs: { n: number; dtype?: 'float32' | 'int32' }[]; ins: (Float32Array | Int32Array)[]; ints?: number[]; floats?: number[]; flops?: number; bytes?: number }

const g = new Generator(1);
function cases(): Case[] {
  const cs: Case[] = [];
  const mm = (M: number, K: number, N: number): Case => ({ name: `matmul ${M}×${K}×${N}`, kernel: 'matmul', outs: [{ n: M * N }], ins: [uniform(g, M * K), uniform(g, K * N)], ints: [1, M, K, N, 0, 0, 0, 0, 0], flops: 2 * M * K * N });
  cs.push(mm(1024, 1024, 1024), mm(8192, 128, 512), mm(8192, 512, 128));
  const n = 1 << 24;
  cs.push({ name: 'add 16M', kernel: 'add', outs: [{ n }], ins: [uniform(g, n), uniform(g, n)], ints: [1, n, 1, 1], bytes: 12 * n });
  cs.push({ name: 'gelu 16M', kernel: 'gelu', outs: [{ n }], ins: [uniform(g, n)], bytes: 8 * n });
  cs.push({ name: 'softmax 8192×256', kernel: 'softmax', outs: [{ n: 8192 * 256 }], ins: [uniform(g, 8192 * 256)], ints: [8192, 256], bytes: 8 * 8192 * 256 });
  cs.push({ name: 'cross_entropy 8192×113', kernel: 'cross_entropy', outs: [{ n: 8192 }, { n: 8192 }], ins: [uniform(g, 8192 * 113), ints(g, 8192, 0, 113)], ints: [8192, 113, -100], bytes: 4 * 8192 * 113 });
  cs.push({ name: 'layernorm 8192×128', kernel: 'layernorm', outs: [{ n: 8192 * 128 }, { n: 8192 }, { n: 8192 }], ins: [uniform(g, 8192 * 128), uniform(g, 128), uniform(g, 128)], ints: [8192, 128, 1, 1], floats: [1e-5], bytes: 8 * 8192 * 128 });
  cs.push({ name: 'embedding 8192 ids, V113 D128', kernel: 'embedding', outs: [{ n: 8192 * 128 }], ins: [uniform(g, 113 * 128), ints(g, 8192, 0, 113)], ints: [8192, 113, 128], bytes: 8 * 8192 * 128 });
  cs.push({ name: 'embedding_backward 8192 ids, V113 D128', kernel: 'embedding_backward', outs: [{ n: 113 * 128 }], ins: [uniform(g, 8192 * 128), ints(g, 8192, 0, 113)], ints: [8192, 113, 128], bytes: 4 * 8192 * 128 });
  const BH = 32, L = 256, Dh = 32;
  cs.push({ name: `attention_forward BH${BH} L${L} Dh${Dh} causal`, kernel: 'attention_forward', outs: [{ n: BH * L * Dh }, { n: BH * L * L }], ins: [uniform(g, BH * L * Dh), uniform(g, BH * L * Dh), uniform(g, BH * L * Dh)], ints: [BH, L, L, Dh, 1, 0], floats: [1 / Math.sqrt(Dh), 0], flops: 4 * BH * L * L * Dh });
  cs.push({ name: 'conv2d 256×9×3×3 → 64, 3×3 pad 1', kernel: 'conv2d', outs: [{ n: 256 * 64 * 9 }], ins: [uniform(g, 256 * 9 * 9), uniform(g, 64 * 9 * 9), uniform(g, 64)], ints: [256, 9, 3, 3, 64, 3, 3, 3, 3, 1, 1, 1, 1, 1], flops: 2 * 256 * 64 * 9 * 9 * 9 });
  const B = 32, T = 256, H = 64;
  cs.push({ name: `lstm_seq_forward B${B} T${T} H${H}`, kernel: 'lstm_seq_forward', outs: [{ n: B * T * H }, { n: B * H }, { n: B * H }, { n: B * T * 6 * H }], ins: [uniform(g, B * T * 4 * H), uniform(g, 4 * H * H, -0.2, 0.2), uniform(g, B * H), uniform(g, B * H)], ints: [B, T, H, 0], flops: 2 * B * T * 4 * H * H });
  const SB = 8, SL = 256, SD = 256, SN = 16;
  const ss = [uniform(g, SB * SL * SD), uniform(g, SB * SL * SD, 0, 0.5), uniform(g, SD * SN, -1, -0.1), uniform(g, SB * SL * SN), uniform(g, SB * SL * SN), uniform(g, SD), uniform(g, SD)];
  cs.push({ name: `selective_scan_forward B${SB} L${SL} D${SD} N${SN}`, kernel: 'selective_scan_forward', outs: [{ n: SB * SL * SD }], ins: ss, ints: [SB, SL, SD, SN, 1], bytes: 4 * (3 * SB * SL * SD + 2 * SB * SL * SN) });
  cs.push({ name: `selective_scan_backward B${SB} L${SL} D${SD} N${SN}`, kernel: 'selective_scan_backward', outs: [{ n: SB * SL * SD }, { n: SB * SL * SD }, { n: SD * SN }, { n: SB * SL * SN }, { n: SB * SL * SN }, { n: SD }, { n: SD }], ins: [uniform(g, SB * SL * SD), ...ss], ints: [SB, SL, SD, SN, 1] });
  const P = 1 << 20;
  cs.push({ name: 'adamw 1M params', kernel: 'adamw', outs: [{ n: P }, { n: P }, { n: P }], ins: [uniform(g, P)], floats: [1e-3, 0.9, 0.999, 1e-8, 0.01, 0.1, 0.001], bytes: 28 * P });
  return cs;
}

function timeKernel(c: Case, device: string, budgetMs: number): number {
  return tidy(() => {
    const ins = c.ins.map((x) => fromArray(x, [x.length], { device }));
    const outs = c.outs.map((o) => full([o.n], 0, { device, dtype: o.dtype ?? 'float32' }));
    const dev = getDevice(device);
    const run = () => runKernel(c.kernel, outs, ins, c.ints ?? [], c.floats ?? []);
    run(); dev.synchronize?.();   // warm-up (first launch, JIT, allocator)
    const times: number[] = [];
    const start = performance.now();
    while (times.length < 3 || (performance.now() - start < budgetMs && times.length < 50)) {
      const t0 = performance.now();
      run();
      dev.synchronize?.();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[times.length >> 1];
  });
}

function stepTime(device: string, preset: string, steps: number): number {
  manualSeed(0);
  const p = findPreset(preset);
  const model = createModel(p.model).to(device);
  const opt = makeOptimizer(model, DEFAULT_TRAIN);
  const B = BATCH, T = SEQ, V = p.model.vocabSize;
  const gw = new Generator(3);
  const windows = Int32Array.from({ length: B * T * 9 }, () => gw.int(V)), targets = Int32Array.from({ length: B }, () => gw.int(V));
  const step = () => tidy(() => {
    const x = fromArray(windows, [B, T, 3, 3], { dtype: 'int32', device });
    const l: Tensor = crossEntropy(model.forward(x, false), fromArray(targets, [B], { dtype: 'int32', device }));
    const v = l.item();
    l.backward(); opt.step(); opt.zeroGrad();
    return v;
  });
  step();
  const times: number[] = [];
  for (let i = 0; i < steps; i++) { const t0 = performance.now(); step(); getDevice(device).synchronize?.(); times.push(performance.now() - t0); }
  for (const q of model.parameters()) q.dispose();
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

describe.skipIf(!ENABLED || !hasDevice(DEVICE))(`native benchmark on ${DEVICE}${ENABLED ? '' : ' — skipped: set PIXELBYTES_NATIVE_BENCH=1'}`, () => {
  it('kernels: device vs CPU', () => {
    const info = loadNative(DEVICE === 'cuda' ? 'cuda' : 'cuda-emu').info;
    console.log(`\ndevice ${DEVICE}: ${info?.name} (cc ${info?.computeCapability}, ${info?.smCount} SMs); CPU: this host, TypeScript kernels\n`);
    console.log(`${'kernel'.padEnd(46)}${'device ms'.padStart(11)}${'cpu ms'.padStart(11)}${'cpu/dev'.padStart(9)}   throughput (device)`);
    for (const c of cases()) {
      const dev = timeKernel(c, DEVICE, 1500);
      const cpu = timeKernel(c, 'cpu', 3000);
      const rate = c.flops ? `${(c.flops / dev / 1e6).toFixed(1)} GFLOP/s` : c.bytes ? `${(c.bytes / dev / 1e6).toFixed(1)} GB/s` : '';
      console.log(`${c.name.padEnd(46)}${dev.toFixed(3).padStart(11)}${cpu.toFixed(2).padStart(11)}${(cpu / dev).toFixed(1).padStart(9)}   ${rate}`);
    }
  }, 1_800_000);

  it('training steps of the reference configurations', () => {
    const B = BATCH, T = SEQ, stepsPerEpoch = Math.ceil(WINDOWS / B);
    console.log(`\nms per training step (batch ${B}, ${T} positions; median), epoch = ${stepsPerEpoch} steps (${WINDOWS} windows)`);
    for (const preset of ['rnn_bi_pxby_conv_81_dim_64_state_2_layer', 'attention_bi_pxby_conv_81_dim_64_state_2_layer', 'ssm_bi_pxby_conv_81_dim_64_state_2_layer']) {
      try {
        const dev = stepTime(DEVICE, preset, 10);
        const cpu = stepTime('cpu', preset, 2);
        console.log(`${preset.padEnd(50)} ${DEVICE} ${dev.toFixed(1)} ms (epoch ${(dev * stepsPerEpoch / 1000).toFixed(1)} s)   cpu ${cpu.toFixed(0)} ms (epoch ${(cpu * stepsPerEpoch / 1000).toFixed(0)} s)   ×${(cpu / dev).toFixed(1)}`);
      } catch (e) {
        console.log(`${preset}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  }, 1_800_000);
});
