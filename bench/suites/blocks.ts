/**
 * blocks: every building-block op of the PixelBytes models at the paper's shapes (batch 32,
 * sequence 256 → B·L = 8192 rows; D = 81, vocabulary V = 113, PxByEmbed E = 9 (and 64), Mamba
 * d_inner = 2·81 = 162, d_state 64, d_conv 4; Transformer width ⌊81/4⌋·4 = 80 → 4 heads of 20;
 * LSTM 2 layers 64→64 as PEERS-CPU.md Benchmark 3).
 *
 * Each op has a 'fwd' case and a 'fwd+bwd' case (forward, then the backward from a fixed upstream
 * gradient dy); backward alone ≈ (fwd+bwd) − fwd. tfjs runs the same shapes on its cpu and wasm
 * backends where it has the op (its fwd+bwd = tf.grads(f)(inputs, dy), results read back with
 * dataSync). Where the wasm backend lacks a backward kernel (Conv2DBackpropFilter,
 * DepthwiseConv2dNativeBackprop*) its row shows the error. tfjs-cpu is skipped (an error row
 * saying so) where one run takes seconds (conv2d fwd+bwd, conv2d E = 64, attention and conv1d
 * fwd+bwd; in --quick also attention fwd and the LSTM rows): the runner always does 2 warm-ups.
 *
 * FLOP formulas (nominal, multiply-add = 2):
 *   conv2d fwd      2·N·OC·C·KH·KW·OH·OW (padded taps counted); fwd+bwd = 3× (dx and dW each = fwd)
 *   attention fwd   4·BH·L²·Dh (Q·Kᵀ and P·V, full L², non-causal); fwd+bwd = 3× (dV, dP, dQ, dK)
 *   lstm            gate GEMMs only: layers·2·B·T·(I+H)·4H forward; a training step = 3× (PEERS-CPU.md)
 *   conv1d dw fwd   2·B·D·L·K; fwd+bwd = 3×
 * The others (embedding, layerNorm, softmax, cross-entropy, selective scan, AdamW) are
 * memory-bound: flops 0, no GFLOP/s.
 */
import type { BenchCase, BenchSuite, EngineContext, Impl, Tfjs } from '../types.js';
import {
  randn, randint, rand, tidy, noGrad, conv2d, conv1dDepthwiseCausal, embedding, layerNorm, softmax, crossEntropy,
  scaledDotProductAttention, selectiveScan, sub, mul, mean, nn, optim, type Tensor,
} from '../../src/index.js';
import type { Tensor as TfTensor, Rank } from '@tensorflow/tfjs';

/** `--quick` on the command line: tfjs-cpu rows that take seconds per run are skipped then. */
const QUICK = process.argv.includes('--quick');

const B = 32, L = 256, BL = B * L, D = 81, V = 113;
const SD = 162, SN = 64, K = 4;          // Mamba: d_inner, d_state, d_conv
const H = 4, Dh = 20;                    // Transformer: heads × head dim (width 80)

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Sampling caps that keep the default run (all suites) near 5 min on 2 cores; a case can override one engine's. */
const BOUNDS: BenchCase['bounds'] = { 'ours': { minSamples: 3, maxTime: 0.5 }, 'tfjs-wasm': { minSamples: 3, maxTime: 0.5 }, 'tfjs-cpu': { minSamples: 1, maxTime: 0.5 } };

/** Throws in setup for tfjs-cpu: an error row that says why it was not run. */
function skipTfjsCpu(ctx: EngineContext, why: string): void {
  if (ctx.engine === 'tfjs-cpu') throw new Error(`skipped: ${why}`);
}

/** Our engine: `make` builds the inputs (leaves needing grad already marked), `fwd` the op. */
function ours<S extends Record<string, Any>>(make: () => S, fwd: (s: S) => Tensor, backward: boolean): Impl<S & { dy?: Tensor }> {
  return {
    setup: () => {
      const s = make() as S & { dy?: Tensor };
      if (backward) {
        const y = noGrad(() => fwd(s));
        s.dy = randn(y.shape);
        y.dispose();
      } else {
        for (const v of Object.values(s)) if (v && typeof v === 'object' && 'requiresGrad' in v) (v as Tensor).requiresGrad = false;
      }
      return s;
    },
    run: (s) => {
      if (!backward) { tidy(() => { fwd(s); }); return; }
      tidy(() => { fwd(s).backward(s.dy); });
      for (const v of Object.values(s)) if (v && typeof v === 'object' && 'requiresGrad' in v) (v as Tensor).zeroGrad();
    },
    teardown: (s) => { for (const v of Object.values(s)) if (v && typeof v === 'object' && 'dispose' in v) (v as Tensor).dispose(); },
  };
}

/** tfjs: `make` builds [inputs to differentiate, constants]; `f` the op. fwd+bwd = tf.grads(f)(xs, dy). */
function tfjs(make: (tf: Tfjs, ctx: EngineContext) => { xs: TfTensor[]; consts?: TfTensor[] }, f: (tf: Tfjs, xs: TfTensor[], consts: TfTensor[]) => TfTensor, backward: boolean): Impl {
  return {
    setup: (ctx) => {
      const { tf } = ctx;
      const { xs, consts = [] } = make(tf, ctx);
      const dy = backward ? tf.tidy(() => tf.randomNormal(f(tf, xs, consts).shape)) : null;
      return { tf, xs, consts, dy };
    },
    run: ({ tf, xs, consts, dy }: { tf: Tfjs; xs: TfTensor[]; consts: TfTensor[]; dy: TfTensor | null }) => {
      if (!backward) { const y = tf.tidy(() => f(tf, xs, consts)); y.dataSync(); y.dispose(); return; }
      const gs = tf.tidy(() => tf.grads((...a: TfTensor[]) => f(tf, a, consts))(xs, dy!));
      for (const g of gs) { g.dataSync(); g.dispose(); }
    },
    teardown: ({ xs, consts, dy }: { xs: TfTensor[]; consts: TfTensor[]; dy: TfTensor | null }) => { for (const t of [...xs, ...consts]) t.dispose(); dy?.dispose(); },
  };
}

/** A fwd and a fwd+bwd case of one op. */
function pair(op: string, shape: string, fwdFlops: number, quick: boolean,
  oursMake: () => Record<string, Any>, oursFwd: (s: Any) => Tensor,
  tf?: { make: (tf: Tfjs, ctx: EngineContext, backward: boolean) => { xs: TfTensor[]; consts?: TfTensor[] }; f: (tf: Tfjs, xs: TfTensor[], c: TfTensor[]) => TfTensor },
  extra: Partial<BenchCase> = {}): BenchCase[] {
  return [false, true].map((backward) => ({
    op: `${op} ${backward ? 'fwd+bwd' : 'fwd'}`,
    shape,
    flops: backward ? 3 * fwdFlops : fwdFlops,
    quick,
    bounds: { ...BOUNDS, ...extra.bounds },
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'bounds')),
    impls: {
      ours: ours(oursMake, oursFwd, backward),
      ...(tf ? { tfjs: tfjs((t, ctx) => tf.make(t, ctx, backward), tf.f, backward) } : {}),
    },
  }));
}

function conv2dCases(E: number, quick: boolean): BenchCase[] {
  const flops = 2 * BL * E * E * 9 * 9;
  return pair('conv2d', `[${BL},${E},3,3]·[${E},${E},3,3] pad1 +b`, flops, quick,
    () => ({ x: randn([BL, E, 3, 3]).requiresGrad_(), w: randn([E, E, 3, 3]).requiresGrad_(), b: randn([E]).requiresGrad_() }),
    ({ x, w, b }) => conv2d(x, w, b, { padding: 1 }),
    {
      // NHWC: the wasm backend has no NCHW conv2d (PEERS-CPU.md Benchmark 2)
      make: (tf, ctx, backward) => {
        // measured on 2 cores: E = 9 fwd+bwd ~10 s per run (its Conv2DBackpropFilter); E = 64 fwd ~5 s
        if (backward || E === 64) skipTfjsCpu(ctx, backward ? '~10 s per run at E = 9' : '~5 s per run');
        return { xs: [tf.randomNormal([BL, 3, 3, E]), tf.randomNormal([3, 3, E, E]), tf.randomNormal([E])] };
      },
      f: (tf, [x, w, b]) => tf.fused.conv2d({ x: x as TfTensor<Rank.R4>, filter: w as TfTensor<Rank.R4>, strides: 1, pad: 'same', bias: b }),
    },
    // E = 64: ~1 s (fwd) and ~3 s (fwd+bwd) per run of ours
    E === 64 ? { bounds: { 'ours': { minSamples: 1, maxTime: 0.5 } } } : {});
}

function lstmCases(): BenchCase[] {
  const I = 64, Hd = 64, layers = 2;
  const fwdFlops = layers * 2 * B * L * (I + Hd) * 4 * Hd;     // 1.07 GFLOP
  const shape = `2 layers B${B} T${L} ${I}→${Hd}`;
  const tfModel = (tf: Tfjs) => {
    const warn = console.warn;   // the default orthogonal recurrent initializer warns "Slowness may result"
    console.warn = () => {};
    try {
      return tf.sequential({ layers: [
        tf.layers.lstm({ units: Hd, returnSequences: true, inputShape: [L, I] }),
        tf.layers.lstm({ units: Hd, returnSequences: true }),
      ] });
    } finally { console.warn = warn; }
  };
  const mk = (train: boolean): BenchCase => ({
    op: train ? 'lstm train step' : 'lstm fwd',
    shape: train ? `${shape} MSE+SGD` : shape,
    flops: train ? 3 * fwdFlops : fwdFlops,
    quick: true,
    // tfjs-cpu: ~9.4 s per training step, ~3.8 s per forward (PEERS-CPU.md): 2 warm-ups + 1 timed
    bounds: { 'tfjs-cpu': { minSamples: 1 }, 'tfjs-wasm': { minSamples: 2 }, 'ours': { minSamples: 3, maxTime: 0.5 } },
    impls: {
      ours: {
        setup: () => {
          const model = new nn.LSTM(I, Hd, { numLayers: layers });
          return { model, opt: new optim.SGD(model.parameters(), { lr: 0.01 }), x: randn([B, L, I]), y: randn([B, L, Hd]) };
        },
        run: ({ model, opt, x, y }: { model: nn.LSTM; opt: optim.SGD; x: Tensor; y: Tensor }) => {
          if (!train) { noGrad(() => tidy(() => { model.forward(x); })); return; }
          tidy(() => {
            const d = sub(model.forward(x).output, y);
            const loss = mean(mul(d, d));
            opt.zeroGrad();
            loss.backward();
            opt.step();
            loss.item();
          });
        },
        teardown: ({ model, opt, x, y }: { model: nn.LSTM; opt: optim.SGD; x: Tensor; y: Tensor }) => { opt.zeroGrad(); for (const p of model.parameters()) p.dispose(); x.dispose(); y.dispose(); },
      },
      tfjs: {
        // PEERS-CPU.md Benchmark 3: tf.layers.lstm ×2, MSE on every step, SGD. trainOnBatch is async;
        // optimizer.minimize is the same forward + backward + update, synchronously.
        setup: (ctx) => {
          if (QUICK) skipTfjsCpu(ctx, `~${train ? 10 : 4} s per run; not in --quick`);
          const { tf } = ctx;
          return { tf, model: tfModel(tf), opt: tf.train.sgd(0.01), x: tf.randomNormal([B, L, I]), y: tf.randomNormal([B, L, Hd]) };
        },
        run: ({ tf, model, opt, x, y }: { tf: Tfjs; model: Any; opt: Any; x: TfTensor; y: TfTensor }) => {
          if (!train) { const o = model.predict(x) as TfTensor; o.dataSync(); o.dispose(); return; }
          const cost = opt.minimize(() => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as TfTensor) as TfTensor, true) as TfTensor;
          cost.dataSync(); cost.dispose();
        },
        teardown: ({ model, opt, x, y }: { model: Any; opt: Any; x: TfTensor; y: TfTensor }) => { model.dispose(); opt.dispose(); x.dispose(); y.dispose(); },
      },
    },
  });
  return [mk(false), mk(true)];
}

function adamwCase(): BenchCase {
  const shapes = [[320, D], [D, 320], [V, D], [4 * D, D]];          // 87,237 parameters
  const n = shapes.reduce((s, sh) => s + sh[0] * sh[1], 0);
  return {
    op: 'adamw step', shape: `${n} params in ${shapes.length} tensors`, flops: 0, quick: true,
    bounds: BOUNDS,
    impls: {
      ours: {
        setup: () => {
          const params = shapes.map((sh) => randn(sh).requiresGrad_());
          const grads = shapes.map((sh) => randn(sh));
          return { params, grads, opt: new optim.AdamW(params, { lr: 1e-3 }) };
        },
        run: ({ params, grads, opt }: { params: Tensor[]; grads: Tensor[]; opt: optim.AdamW }) => {
          params.forEach((p, i) => { p.grad = grads[i]; });
          opt.step();
        },
        teardown: ({ params, grads }: { params: Tensor[]; grads: Tensor[] }) => { for (const p of params) { p.grad = null; p.dispose(); } for (const g of grads) g.dispose(); },
      },
    },
  };
}

export const suite: BenchSuite = {
  name: 'blocks',
  cases: () => [
    // embedding: gather [8192] ids from [113, 81]; backward = scatter-add into dW.
    // tfjs backward = tf.scatterND (accumulates duplicates; the wasm backend cannot differentiate gather).
    ...pair('embedding', `[${BL}] ids, V${V} D${D}`, 0, true,
      () => ({ w: randn([V, D]).requiresGrad_(), ids: randint(0, V, [BL]) }),
      ({ w, ids }) => embedding(w, ids)).map((c, i) => ({
      ...c,
      impls: {
        ...c.impls,
        tfjs: {
          setup: ({ tf }: EngineContext) => ({ tf, w: tf.randomNormal([V, D]), ids: tf.randomUniformInt([BL], 0, V), ids2: tf.randomUniformInt([BL, 1], 0, V), dy: tf.randomNormal([BL, D]) }),
          run: ({ tf, w, ids, ids2, dy }: Any) => {
            const y = tf.gather(w, ids); y.dataSync(); y.dispose();
            if (i === 1) { const dw = tf.scatterND(ids2, dy, [V, D]); dw.dataSync(); dw.dispose(); }
          },
          teardown: ({ w, ids, ids2, dy }: Any) => { w.dispose(); ids.dispose(); ids2.dispose(); dy.dispose(); },
        },
      },
    })),
    ...conv2dCases(9, true),
    ...conv2dCases(64, false),
    // layerNorm over D: tfjs has no fused op; composed from tf.moments as tf.layers.layerNormalization does
    ...pair('layernorm', `[${BL},${D}] +w+b`, 0, true,
      () => ({ x: randn([BL, D]).requiresGrad_(), w: randn([D]).requiresGrad_(), b: randn([D]).requiresGrad_() }),
      ({ x, w, b }) => layerNorm(x, w, b),
      {
        make: (tf) => ({ xs: [tf.randomNormal([BL, D]), tf.randomNormal([D]), tf.randomNormal([D])] }),
        f: (tf, [x, w, b]) => {
          const { mean: m, variance } = tf.moments(x, -1, true);
          return tf.add(tf.mul(tf.mul(tf.sub(x, m), tf.rsqrt(tf.add(variance, 1e-5))), w), b);
        },
      }),
    ...pair('softmax', `[${BL},${V}]`, 0, false,
      () => ({ x: randn([BL, V]).requiresGrad_() }),
      ({ x }) => softmax(x),
      { make: (tf) => ({ xs: [tf.randomNormal([BL, V])] }), f: (tf, [x]) => tf.softmax(x) }),
    // cross-entropy (mean) of logits [8192, 113] against int targets; tfjs: softmaxCrossEntropy on one-hot labels
    ...pair('cross-entropy', `[${BL},${V}] mean`, 0, true,
      () => ({ x: randn([BL, V]).requiresGrad_(), t: randint(0, V, [BL]) }),
      ({ x, t }) => crossEntropy(x, t),
      {
        make: (tf) => ({ xs: [tf.randomNormal([BL, V])], consts: [tf.oneHot(tf.randomUniformInt([BL], 0, V), V)] }),
        f: (tf, [x], [oh]) => tf.losses.softmaxCrossEntropy(oh, x) as TfTensor,
      }),
    // scaled dot-product attention, non-causal (the Transformer preset's default), probabilities materialised
    ...pair('attention', `B${B} H${H} L${L} Dh${Dh}`, 4 * B * H * L * L * Dh, true,
      () => ({ q: randn([B, H, L, Dh]).requiresGrad_(), k: randn([B, H, L, Dh]).requiresGrad_(), v: randn([B, H, L, Dh]).requiresGrad_() }),
      ({ q, k, v }) => scaledDotProductAttention(q, k, v),
      {
        make: (tf, ctx, backward) => {
          if (backward || QUICK) skipTfjsCpu(ctx, backward ? '~6 s per run' : '~3 s per run; not in --quick');
          return { xs: [0, 1, 2].map(() => tf.randomNormal([B * H, L, Dh])) };
        },
        f: (tf, [q, k, v]) => tf.matMul(tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(Dh))), v),
      }),
    // Mamba selective scan (chunked), softplus(δ + bias) fused, D skip; no tfjs equivalent
    ...pair('selective scan', `B${B} L${L} D${SD} N${SN}`, 0, true,
      () => ({
        u: randn([B, L, SD]).requiresGrad_(), delta: randn([B, L, SD], { std: 0.5 }).requiresGrad_(),
        A: rand([SD, SN], { lo: -2, hi: -0.1 }).requiresGrad_(), Bm: randn([B, L, SN]).requiresGrad_(), Cm: randn([B, L, SN]).requiresGrad_(),
        Ds: randn([SD]).requiresGrad_(), bias: randn([SD], { std: 0.1 }).requiresGrad_(),
      }),
      ({ u, delta, A, Bm, Cm, Ds, bias }) => selectiveScan(u, delta, A, Bm, Cm, Ds, { deltaSoftplus: true, deltaBias: bias }),
      undefined,
      // seconds per run at this shape: 2 warm-ups + 1 timed run; fwd+bwd not in --quick
      { bounds: { 'ours': { minSamples: 1 } } }).map((c) => ({ ...c, quick: c.op.endsWith('fwd') })),
    // Mamba's depthwise causal conv1d; tfjs: depthwiseConv2d on NHWC [B, 1, L+K−1, D] after left padding
    ...pair('conv1d dw causal', `[${B},${SD},${L}] K${K} +b`, 2 * B * SD * L * K, true,
      () => ({ x: randn([B, SD, L]).requiresGrad_(), w: randn([SD, 1, K]).requiresGrad_(), b: randn([SD]).requiresGrad_() }),
      ({ x, w, b }) => conv1dDepthwiseCausal(x, w, b),
      {
        make: (tf, ctx, backward) => {
          if (backward) skipTfjsCpu(ctx, '~6 s per run');
          return { xs: [tf.randomNormal([B, 1, L, SD]), tf.randomNormal([1, K, SD, 1]), tf.randomNormal([SD])] };
        },
        f: (tf, [x, w, b]) => tf.add(tf.depthwiseConv2d(tf.pad(x as TfTensor<Rank.R4>, [[0, 0], [0, 0], [K - 1, 0], [0, 0]]), w as TfTensor<Rank.R4>, 1, 'valid'), b),
      }),
    adamwCase(),
    ...lstmCases(),
  ],
};
