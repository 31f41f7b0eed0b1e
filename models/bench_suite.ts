/**
 * Bench suite 'training': one optimizer step of the paper's reference LSTM
 * (rnn_bi_pxby_conv_81_dim_64_state_2_layer) and of the 2-layer Transformer
 * (attention_bi_pxby_conv_81_dim_64_state_2_layer), `last` objective, batch 32 × 256 windows,
 * on our engine and on tfjs (the same model written with tfjs ops; its 'wasm' backend is the
 * fastest JS peer measured in PEERS-CPU.md).
 *
 * tfjs differences, forced by the wasm backend: the embedding lookup is a one-hot matmul (no
 * gradient for gather) and the 3×3 conv an im2col matmul (no Conv2DBackpropFilter); Adam
 * instead of AdamW (tfjs has no decoupled weight decay). FLOPs are the model's matmul FLOPs
 * (forward ×3 for a training step). Steps per epoch on the built dataset ≈ 28k samples / 32.
 *
 * Registered by one line in bench/suites/index.ts: `import { suite as training } from '../../models/bench_suite.js';`.
 */
import type { BenchCase, BenchSuite, Tfjs } from '../bench/types.js';
import { crossEntropy, fromArray, manualSeed, tidy, type Tensor } from '../src/index.js';
import type { Tensor as TfTensor, Variable, Optimizer as TfOptimizer } from '@tensorflow/tfjs';
import { findPreset } from './common/presets.js';
import { createModel } from './common/factory.js';
import { makeOptimizer, type Optimizer } from './common/optimizer.js';
import { DEFAULT_TRAIN, embedChannels, transformerWidth, type ModelConfig } from './common/config.js';
import type { PixelBytesModel } from './common/model.js';

const B = 32, T = 256, V = 113;
/** Optimizer steps in one epoch of the built dataset (data/pixelbytes-en) with the `last` objective,
 *  batch 32: measured by `pixelbytes train --epochs 1` (models/README.md). */
const STEPS_PER_EPOCH = 887;

function batch(): { windows: Int32Array; targets: Int32Array } {
  // a deterministic pseudo-batch with the structure of real windows (4 zero cells)
  const windows = new Int32Array(B * T * 9);
  for (let i = 0; i < windows.length; i++) windows[i] = i % 9 < 5 ? (i * 7919 + 13) % V : 0;
  const targets = Int32Array.from({ length: B }, (_, i) => (i * 31 + 7) % V);
  return { windows, targets };
}

/** Matmul FLOPs of one forward (embedding projection + conv + backbone + head). */
function forwardFlops(cfg: ModelConfig): number {
  const D = cfg.family === 'attention' ? transformerWidth(cfg) : cfg.dim, E = embedChannels(D), N = B * T;
  let f = 2 * N * 9 * E * D + 2 * N * 9 * (9 * E) * E; // projection, conv as im2col
  if (cfg.family === 'rnn') {
    const H1 = cfg.bidirectional ? cfg.dState / 2 : cfg.dState, dirs = cfg.bidirectional ? 2 : 1;
    f += dirs * 2 * N * (D + H1) * 4 * H1;
    for (let l = 1; l < cfg.depth; l++) f += 2 * N * (2 * cfg.dState) * 4 * cfg.dState;
    f += 2 * B * cfg.dState * V;
  } else {
    f += cfg.depth * (2 * N * D * 3 * D + 2 * 2 * B * T * T * D + 2 * N * D * D + 2 * 2 * N * D * cfg.ffn);
    f += 2 * B * D * V;
  }
  return f;
}

// ---- our engine --------------------------------------------------------------------------------

interface OursState { model: PixelBytesModel; opt: Optimizer; x: Tensor; t: Tensor }
function oursImpl(preset: string) {
  return {
    setup: (): OursState => {
      manualSeed(0);
      const model = createModel(findPreset(preset).model);
      const { windows, targets } = batch();
      return { model, opt: makeOptimizer(model, DEFAULT_TRAIN), x: fromArray(windows, [B, T, 3, 3], { dtype: 'int32' }), t: fromArray(targets, [B], { dtype: 'int32' }) };
    },
    run: ({ model, opt, x, t }: OursState) => {
      tidy(() => {
        const loss = crossEntropy(model.forward(x, false), t);
        loss.backward();
        opt.step();
        opt.zeroGrad();
        loss.item();
      });
    },
    teardown: ({ x, t }: OursState) => { x.dispose(); t.dispose(); },
  };
}

// ---- the same models in tfjs -------------------------------------------------------------------

type P = Record<string, Variable>;
const uni = (tf: Tfjs, shape: number[], bound: number, name: string): Variable => tf.variable(tf.randomUniform(shape, -bound, bound, 'float32', 7), true, name);

function tfEmbedParams(tf: Tfjs, D: number, prefix: string): P {
  const E = embedChannels(D);
  return {
    [`${prefix}table`]: tf.variable(tf.randomNormal([V, E], 0, 1, 'float32', 1), true, `${prefix}table`),
    [`${prefix}alpha`]: tf.variable(tf.randomUniform([1, 3, 3, 1], 0, 1, 'float32', 2), true, `${prefix}alpha`),
    [`${prefix}convW`]: uni(tf, [9 * E, E], 1 / Math.sqrt(9 * E), `${prefix}convW`),
    [`${prefix}convB`]: uni(tf, [E], 1 / Math.sqrt(9 * E), `${prefix}convB`),
    [`${prefix}projW`]: uni(tf, [9 * E, D], 1 / Math.sqrt(9 * E), `${prefix}projW`),
    [`${prefix}projB`]: uni(tf, [D], 1 / Math.sqrt(9 * E), `${prefix}projB`),
    [`${prefix}lnG`]: tf.variable(tf.ones([D]), true, `${prefix}lnG`),
    [`${prefix}lnB`]: tf.variable(tf.zeros([D]), true, `${prefix}lnB`),
  };
}

function tfLayerNorm(tf: Tfjs, x: TfTensor, g: TfTensor, b: TfTensor): TfTensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
}

/** PxByEmbed in tfjs (NHWC inside, channel-major flatten as the original). ids [B·T·9] int32 → [B·T, D]. */
function tfEmbed(tf: Tfjs, p: P, ids: TfTensor, D: number): TfTensor {
  const E = embedChannels(D), N = B * T;
  const X = tf.reshape(tf.matMul(tf.cast(tf.oneHot(ids as never, V), 'float32'), p.table), [N, 3, 3, E]);
  const Xp = tf.pad(X, [[0, 0], [1, 1], [1, 1], [0, 0]]);
  const cols: TfTensor[] = [];
  for (let di = 0; di < 3; di++) for (let dj = 0; dj < 3; dj++) cols.push(tf.slice(Xp, [0, di, dj, 0], [N, 3, 3, E]));
  const C = tf.reshape(tf.add(tf.matMul(tf.reshape(tf.concat(cols, 3), [N * 9, 9 * E]), p.convW), p.convB), [N, 3, 3, E]);
  const s = tf.sigmoid(p.alpha);
  const M = tf.add(tf.mul(X, s), tf.mul(C, tf.sub(1, s)));
  const flat = tf.reshape(tf.transpose(M, [0, 3, 1, 2]), [N, 9 * E]);
  return tfLayerNorm(tf, tf.add(tf.matMul(flat, p.projW), p.projB), p.lnG, p.lnB);
}

/** One LSTM direction as tf.layers.lstm runs it (a JS loop over time). x [B, T, I] → [B, T, H]. */
function tfLstm(tf: Tfjs, x: TfTensor, W: TfTensor, U: TfTensor, b: TfTensor, H: number, reverse: boolean): TfTensor {
  const I = x.shape[2]!;
  const xs = tf.unstack(tf.reshape(tf.add(tf.matMul(tf.reshape(x, [B * T, I]), W), b), [B, T, 4 * H]), 1);
  let h: TfTensor = tf.zeros([B, H]), c: TfTensor = tf.zeros([B, H]);
  const outs: TfTensor[] = new Array(T);
  for (let k = 0; k < T; k++) {
    const t = reverse ? T - 1 - k : k;
    const [i, f, g, o] = tf.split(tf.add(xs[t], tf.matMul(h, U)), 4, 1);
    c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    h = tf.mul(tf.sigmoid(o), tf.tanh(c));
    outs[t] = h;
  }
  return tf.stack(outs, 1);
}

function tfModel(tf: Tfjs, cfg: ModelConfig): { params: P; forward: (ids: TfTensor) => TfTensor } {
  if (cfg.family === 'rnn') {
    const D = cfg.dim, S = cfg.dState, H1 = S / 2;
    const params: P = { ...tfEmbedParams(tf, D, 'e_') };
    const k1 = 1 / Math.sqrt(H1), k2 = 1 / Math.sqrt(S);
    for (const d of ['f', 'r']) Object.assign(params, { [`W1${d}`]: uni(tf, [D, 4 * H1], k1, `W1${d}`), [`U1${d}`]: uni(tf, [H1, 4 * H1], k1, `U1${d}`), [`b1${d}`]: uni(tf, [4 * H1], k1, `b1${d}`) });
    Object.assign(params, { W2: uni(tf, [S, 4 * S], k2, 'W2'), U2: uni(tf, [S, 4 * S], k2, 'U2'), b2: uni(tf, [4 * S], k2, 'b2'), fcW: uni(tf, [S, V], k2, 'fcW'), fcB: uni(tf, [V], k2, 'fcB') });
    return {
      params,
      forward: (ids) => {
        const x = tf.reshape(tfEmbed(tf, pick(params, 'e_'), ids, D), [B, T, D]);
        const l1 = tf.concat([tfLstm(tf, x, params.W1f, params.U1f, params.b1f, H1, false), tfLstm(tf, x, params.W1r, params.U1r, params.b1r, H1, true)], 2);
        const l2 = tfLstm(tf, l1, params.W2, params.U2, params.b2, S, false);
        const last = tf.reshape(tf.slice(l2, [0, T - 1, 0], [B, 1, S]), [B, S]);
        return tf.add(tf.matMul(last, params.fcW), params.fcB);
      },
    };
  }
  const D = transformerWidth(cfg), Hn = cfg.heads, Dh = D / Hn, F = cfg.ffn;
  const params: P = { ...tfEmbedParams(tf, D, 'e_') };
  for (let l = 0; l < cfg.depth; l++) {
    Object.assign(params, {
      [`inW${l}`]: uni(tf, [D, 3 * D], Math.sqrt(6 / (4 * D)), `inW${l}`), [`inB${l}`]: tf.variable(tf.zeros([3 * D]), true, `inB${l}`),
      [`outW${l}`]: uni(tf, [D, D], 1 / Math.sqrt(D), `outW${l}`), [`outB${l}`]: tf.variable(tf.zeros([D]), true, `outB${l}`),
      [`w1${l}`]: uni(tf, [D, F], 1 / Math.sqrt(D), `w1${l}`), [`b1${l}`]: uni(tf, [F], 1 / Math.sqrt(D), `b1${l}`),
      [`w2${l}`]: uni(tf, [F, D], 1 / Math.sqrt(F), `w2${l}`), [`b2${l}`]: uni(tf, [D], 1 / Math.sqrt(F), `b2${l}`),
      [`g1${l}`]: tf.variable(tf.ones([D]), true, `g1${l}`), [`n1${l}`]: tf.variable(tf.zeros([D]), true, `n1${l}`),
      [`g2${l}`]: tf.variable(tf.ones([D]), true, `g2${l}`), [`n2${l}`]: tf.variable(tf.zeros([D]), true, `n2${l}`),
    });
  }
  Object.assign(params, { fcW: uni(tf, [D, V], 1 / Math.sqrt(D), 'fcW'), fcB: uni(tf, [V], 1 / Math.sqrt(D), 'fcB') });
  const p = cfg.dropout;
  return {
    params,
    forward: (ids) => {
      let x = tfEmbed(tf, pick(params, 'e_'), ids, D); // [B·T, D]
      for (let l = 0; l < cfg.depth; l++) {
        const qkv = tf.transpose(tf.reshape(tf.add(tf.matMul(x, params[`inW${l}`]), params[`inB${l}`]), [B, T, 3, Hn, Dh]), [2, 0, 3, 1, 4]);
        const [q, k, v] = tf.unstack(qkv, 0);
        const att = tf.dropout(tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(Dh))), p);
        const merged = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [B * T, D]);
        const a = tf.dropout(tf.add(tf.matMul(merged, params[`outW${l}`]), params[`outB${l}`]), p);
        x = tfLayerNorm(tf, tf.add(x, a), params[`g1${l}`], params[`n1${l}`]);
        const h = tf.dropout(tf.relu(tf.add(tf.matMul(x, params[`w1${l}`]), params[`b1${l}`])), p);
        const ff = tf.dropout(tf.add(tf.matMul(h, params[`w2${l}`]), params[`b2${l}`]), p);
        x = tfLayerNorm(tf, tf.add(x, ff), params[`g2${l}`], params[`n2${l}`]);
      }
      const last = tf.reshape(tf.slice(tf.reshape(x, [B, T, D]), [0, T - 1, 0], [B, 1, D]), [B, D]);
      return tf.add(tf.matMul(last, params.fcW), params.fcB);
    },
  };
}

function pick(p: P, prefix: string): P {
  return Object.fromEntries(Object.entries(p).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

interface TfState { tf: Tfjs; params: P; forward: (ids: TfTensor) => TfTensor; opt: TfOptimizer; ids: TfTensor; onehot: TfTensor }
function tfImpl(preset: string) {
  return {
    setup: ({ tf }: { tf: Tfjs }): TfState => {
      const { windows, targets } = batch();
      const m = tfModel(tf, findPreset(preset).model);
      return { tf, ...m, opt: tf.train.adam(1e-3, 0.9, 0.999, 1e-8), ids: tf.tensor1d(windows, 'int32'), onehot: tf.oneHot(tf.tensor1d(targets, 'int32'), V) };
    },
    run: ({ tf, params, forward, opt, ids, onehot }: TfState) => {
      const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(onehot, forward(ids)) as never, true, Object.values(params));
      loss!.dataSync();
      loss!.dispose();
    },
    teardown: ({ tf, params, ids, onehot, opt }: TfState) => { tf.dispose([ids, onehot, ...Object.values(params)]); opt.dispose(); },
  };
}

function trainCase(preset: string, label: string): BenchCase {
  const cfg = findPreset(preset).model;
  return {
    op: 'train step',
    shape: `${label} B${B}×T${T} last`,
    flops: 3 * forwardFlops(cfg),
    bounds: { ours: { minSamples: 3, maxTime: 20 }, 'cpu-native': { minSamples: 5, maxTime: 5 }, 'tfjs-wasm': { minSamples: 3, maxTime: 20 }, 'tfjs-cpu': { minSamples: 1, maxTime: 1 } },
    epochSteps: STEPS_PER_EPOCH,
    impls: { ours: oursImpl(preset), tfjs: tfImpl(preset) },
  };
}

export const suite: BenchSuite = {
  name: 'training',
  cases: () => [
    trainCase('rnn_bi_pxby_conv_81_dim_64_state_2_layer', 'rnn_bi_pxby_conv_81/64/2'),
    trainCase('attention_bi_pxby_conv_81_dim_64_state_2_layer', 'attention 2-layer (D 80)'),
  ],
};
