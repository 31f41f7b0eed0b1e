/**
 * The trainer (spec §4): AdamW, shuffled batches of 32, evaluation every N epochs appended to
 * the original's CSV columns (correctly averaged), `best` and `last` checkpoints, exact resume,
 * clean stop on Ctrl-C or on a time budget, NaN stop naming the step, an SVG plot per run.
 *
 * Exact resume: the shuffle of an epoch is drawn from `gen` at the epoch's start, whose state is
 * saved; a mid-epoch checkpoint stores that state, the generator states now (the shuffle one and
 * the process-wide one dropout draws from), the optimizer state and the step within the epoch.
 * Evaluation draws its training subset from its own generator, so it never shifts the training
 * stream: a resumed run takes exactly the steps the uninterrupted one takes.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Generator, crossEntropy, defaultGenerator, fromArray, manualSeed, tidy } from '../../src/index.js';
import { writeFileAtomic } from '../../data-tools/fsutil.js';
import { objectiveProblem, validateModelConfig, validateTrainConfig, type ModelConfig, type TrainConfig } from './config.js';
import { createModel } from './factory.js';
import { evaluateSamples, windowsTensor } from './evaluate.js';
import type { PixelBytesModel } from './model.js';
import { makeOptimizer, type Optimizer } from './optimizer.js';
import { loadCheckpoint, saveCheckpoint, type CheckpointMeta, type TrainProgress } from './checkpoint.js';
import { trainingPlotSvg, type EvalRow } from './plot.js';
import { ProgressBar, formatDuration } from './progress.js';
import { chunk, makeBatch, sampleRefs, type Row, type SampleRef } from './windows.js';

export const CSV_COLUMNS = ['epoch', 'train_eval_loss', 'train_accuracy', 'train_f1', 'test_loss', 'test_accuracy', 'test_f1'] as const;

export interface RunOptions {
  name: string;
  model: ModelConfig;
  train: TrainConfig;
  trainRows: Row[];
  testRows: Row[];
  out: string;
  device?: string;
  /** Training time budget in minutes (evaluation and saving excluded): stop, evaluate, save. */
  minutes?: number;
  /** Continue from `<out>/last`. */
  resume?: boolean;
  /** Stop (saving `last`, no evaluation) after this many optimizer steps in total (tests). */
  maxSteps?: number;
  /** Polled after every step: true = save and stop (Ctrl-C). */
  shouldStop?: () => boolean;
  /** Called after every step with its loss. */
  onStep?: (globalStep: number, loss: number) => void;
  log?: (line: string) => void;
  progress?: boolean;
  /** Evaluate on at most this many test samples (evenly spaced; default all, as the original). */
  evalSamples?: number;
  /** Extra fields for the checkpoint JSON (e.g. the dataset directory). */
  extra?: Record<string, unknown>;
}

export type RunStatus = 'done' | 'interrupted' | 'time' | 'steps' | 'nan';

export interface RunResult {
  status: RunStatus;
  model: PixelBytesModel;
  epoch: number;
  globalStep: number;
  evals: EvalRow[];
  best: { testLoss: number; epoch: number } | null;
  /** Losses of the steps taken in THIS call. */
  losses: number[];
  tokensPerSec: number;
  secPerEpoch: number;
  message?: string;
}

export class NanLossError extends Error {
  constructor(readonly globalStep: number, readonly epoch: number, readonly stepInEpoch: number) {
    super(`loss is NaN at step ${globalStep} (epoch ${epoch}, batch ${stepInEpoch + 1}); stopping. The last good checkpoint is unchanged.`);
    this.name = 'NanLossError';
  }
}

/** The CSV text of eval rows (header + one line per row). */
export function csvText(rows: readonly EvalRow[]): string {
  const fmt = (v: number) => (Number.isInteger(v) ? String(v) : String(+v.toPrecision(8)));
  return [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => fmt(r[c])).join(','))].join('\n') + '\n';
}

/** The generator of the training-subset draw of evaluation number k (independent of training). */
const evalGenerator = (seed: number, k: number): Generator => new Generator((seed * 1000003 + 7919 * (k + 1)) >>> 0);

/** Lets pending events (a Ctrl-C handler) run: the training loop is synchronous otherwise. */
const yieldToEvents = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function runTraining(opts: RunOptions): Promise<RunResult> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const device = opts.device ?? 'cpu';
  const tc = opts.train;
  validateModelConfig(opts.model);
  validateTrainConfig(tc);
  const problem = objectiveProblem(opts.model, tc.objective);
  if (problem) throw new Error(problem);
  if (opts.trainRows.length === 0) throw new Error('no training rows');
  mkdirSync(opts.out, { recursive: true });
  const lastDir = join(opts.out, 'last'), bestDir = join(opts.out, 'best');
  const csvPath = join(opts.out, 'metrics.csv'), svgPath = join(opts.out, 'training.svg');

  const trainRefs = sampleRefs(opts.trainRows, tc.stride);
  const evalStride = tc.objective === 'dense' ? tc.seqLen : tc.stride;
  const allTestRefs = sampleRefs(opts.testRows.length ? opts.testRows : opts.trainRows, evalStride);
  const nEval = Math.min(allTestRefs.length, opts.evalSamples ?? Infinity);
  const testRefs = nEval === allTestRefs.length ? allTestRefs
    : Array.from({ length: nEval }, (_, k) => allTestRefs[Math.floor((k * allTestRefs.length) / nEval)]);
  const T = tc.seqLen;
  const stepsPerEpoch = Math.ceil(trainRefs.length / tc.batchSize);

  // ---- model, optimizer, progress: fresh or resumed ----------------------------------------------
  let model: PixelBytesModel;
  let optimizer: Optimizer;
  let progress: TrainProgress;
  let evals: EvalRow[] = [];
  let best: RunResult['best'] = null;
  let stepLosses: [number, number][] = [];
  const gen = new Generator(tc.seed ^ 0x5eed);
  if (opts.resume) {
    if (!existsSync(join(lastDir, 'config.json'))) throw new Error(`--resume: ${lastDir}/config.json is missing (nothing to resume in ${opts.out})`);
    const ck = loadCheckpoint(lastDir, { device, withOptimizer: true });
    if (JSON.stringify(ck.meta.model) !== JSON.stringify(opts.model)) {
      throw new Error(`--resume: ${lastDir} holds a different model (${ck.meta.name}); use another --out or the same options`);
    }
    model = ck.model;
    optimizer = makeOptimizer(model, tc);
    optimizer.loadState(ck.optimizerState!);
    progress = ck.meta.progress!;
    evals = ck.meta.evals ?? [];
    best = ck.meta.best ?? null;
    stepLosses = ck.meta.stepLosses ?? [];
    gen.setState(progress.rngState);
    defaultGenerator.setState(progress.defaultRngState);
    writeFileAtomic(csvPath, csvText(evals));
    log(`resumed ${opts.name} from ${lastDir}: epoch ${progress.epoch}, step ${progress.stepInEpoch}/${stepsPerEpoch} (global step ${progress.globalStep})`);
  } else {
    manualSeed(tc.seed);
    model = createModel(opts.model).to(device);
    optimizer = makeOptimizer(model, tc);
    progress = { epoch: 1, stepInEpoch: 0, globalStep: 0, epochRngState: gen.getState(), rngState: gen.getState(), defaultRngState: defaultGenerator.getState(), trainSeconds: 0, tokens: 0 };
  }
  model.train();
  log(`${opts.name}: ${model.numParameters().toLocaleString('en-US')} parameters; objective ${tc.objective}, seq ${T}, stride ${tc.stride}, batch ${tc.batchSize}, ` +
    `${trainRefs.length} training samples (${stepsPerEpoch} steps/epoch), ${testRefs.length} test samples; device ${device}`);

  const meta = (): CheckpointMeta => ({
    name: opts.name, model: opts.model, train: tc, paramCount: model.numParameters(), progress, evals, best, stepLosses, ...opts.extra,
  });
  const writePlot = () => writeFileAtomic(svgPath, trainingPlotSvg(`${opts.name} (${tc.objective})`, stepLosses, evals));
  const saveLast = () => saveCheckpoint(lastDir, model, meta(), optimizer.state());

  const evaluateNow = (epochValue: number): EvalRow => {
    const t0 = Date.now();
    const test = evaluateSamples(model, opts.testRows.length ? opts.testRows : opts.trainRows, testRefs, { T, objective: tc.objective, batchSize: tc.batchSize, device });
    let row: EvalRow;
    if (epochValue === 0) {
      // epoch 0: the untrained model on the test set, copied into the train columns (spec §4.2)
      row = { epoch: 0, train_eval_loss: test.loss, train_accuracy: test.accuracy, train_f1: test.f1, test_loss: test.loss, test_accuracy: test.accuracy, test_f1: test.f1 };
    } else {
      const g = evalGenerator(tc.seed, evals.length);
      const n = Math.min(trainRefs.length, Math.ceil(testRefs.length / tc.batchSize) * tc.batchSize);
      const subset = g.shuffle(trainRefs.slice()).slice(0, n);
      const tr = evaluateSamples(model, opts.trainRows, subset, { T, objective: tc.objective, batchSize: tc.batchSize, device });
      row = { epoch: epochValue, train_eval_loss: tr.loss, train_accuracy: tr.accuracy, train_f1: tr.f1, test_loss: test.loss, test_accuracy: test.accuracy, test_f1: test.f1 };
    }
    evals.push(row);
    writeFileAtomic(csvPath, csvText(evals));
    if (!best || row.test_loss < best.testLoss) {
      best = { testLoss: row.test_loss, epoch: epochValue };
      saveCheckpoint(bestDir, model, meta(), null);
    }
    writePlot();
    log(`eval @ epoch ${+epochValue.toFixed(3)}: train_eval_loss ${row.train_eval_loss.toFixed(4)} acc ${row.train_accuracy.toFixed(2)}% | ` +
      `test_loss ${row.test_loss.toFixed(4)} acc ${row.test_accuracy.toFixed(2)}% f1 ${row.test_f1.toFixed(4)} (ppl ${Math.exp(row.test_loss).toFixed(2)}) ` +
      `[${((Date.now() - t0) / 1000).toFixed(1)} s]${best.epoch === epochValue ? ' *best*' : ''}`);
    return row;
  };

  if (!opts.resume) {
    evaluateNow(0);
    saveLast();
  }

  const bar = opts.progress === false ? null : new ProgressBar();
  const losses: number[] = [];
  const budgetSec = opts.minutes !== undefined ? opts.minutes * 60 : Infinity;
  const sessionStart = Date.now();
  const tokensPerStep = tc.batchSize * T;
  let sessionTrainSec = 0, sessionTokens = 0, running = NaN, lastYield = performance.now();

  let stopReason: RunStatus | null = null;
  while (progress.epoch <= tc.epochs && !stopReason) {
    // the epoch's shuffle, re-drawn identically on resume
    if (progress.stepInEpoch === 0) progress.epochRngState = gen.getState();
    else gen.setState(progress.epochRngState);
    const order: SampleRef[] = gen.shuffle(trainRefs.slice());
    if (progress.stepInEpoch > 0) gen.setState(progress.rngState);
    const batches = chunk(order, tc.batchSize);
    for (let k = progress.stepInEpoch; k < batches.length; k++) {
      const t0 = performance.now();
      const batch = makeBatch(opts.trainRows, batches[k], T, tc.objective);
      const loss = tidy(() => {
        const x = windowsTensor(batch.windows, batch.B, batch.T, device);
        const logits = model.forward(x, tc.objective === 'dense');
        const targets = fromArray(batch.targets, tc.objective === 'dense' ? [batch.B, batch.T] : [batch.B], { dtype: 'int32', device });
        const l = crossEntropy(logits, targets);
        const v = l.item();
        if (!Number.isFinite(v)) return v;
        l.backward();
        optimizer.step();
        optimizer.zeroGrad();
        return v;
      });
      if (!Number.isFinite(loss)) {
        model.zeroGrad();
        bar?.done();
        throw new NanLossError(progress.globalStep + 1, progress.epoch, k);
      }
      const dt = (performance.now() - t0) / 1000;
      sessionTrainSec += dt;
      sessionTokens += batch.B * batch.T;
      progress.trainSeconds += dt;
      progress.tokens += batch.B * batch.T;
      progress.globalStep++;
      progress.stepInEpoch = k + 1;
      progress.rngState = gen.getState();
      progress.defaultRngState = defaultGenerator.getState();
      losses.push(loss);
      running = Number.isNaN(running) ? loss : 0.95 * running + 0.05 * loss;
      if (progress.globalStep % Math.max(1, Math.floor(stepsPerEpoch / 50)) === 0 || k === batches.length - 1) {
        stepLosses.push([progress.epoch - 1 + (k + 1) / batches.length, running]);
      }
      opts.onStep?.(progress.globalStep, loss);
      const tps = sessionTokens / sessionTrainSec;
      const remainingSteps = (tc.epochs - progress.epoch) * stepsPerEpoch + (batches.length - k - 1);
      const eta = Math.min((remainingSteps * tokensPerStep) / tps, budgetSec - (Date.now() - sessionStart) / 1000);
      bar?.update({ epoch: progress.epoch, epochs: tc.epochs, step: k + 1, steps: batches.length, loss: running, tokensPerSec: tps, etaSec: eta });

      if (performance.now() - lastYield > 100) { await yieldToEvents(); lastYield = performance.now(); }
      if (opts.shouldStop?.() === true) stopReason = 'interrupted';
      else if ((Date.now() - sessionStart) / 1000 >= budgetSec) stopReason = 'time';
      else if (opts.maxSteps !== undefined && progress.globalStep >= opts.maxSteps) stopReason = 'steps';
      if (stopReason && k < batches.length - 1) {
        bar?.done();
        if (stopReason === 'time') evaluateNow(+(progress.epoch - 1 + (k + 1) / batches.length).toFixed(4));
        saveLast();
        writePlot();
        break;
      }
    }
    if (progress.stepInEpoch === batches.length) {
      bar?.done();
      const finished = progress.epoch;
      progress.epoch++;
      progress.stepInEpoch = 0;
      if (finished % tc.evalEvery === 0 || finished === tc.epochs || stopReason === 'time') evaluateNow(finished);
      saveLast();
      writePlot();
    }
  }
  const status: RunStatus = stopReason ?? 'done';
  const where = `step ${progress.globalStep} (epoch ${progress.epoch}, batch ${progress.stepInEpoch})`;
  const message = status === 'interrupted' ? `interrupted at ${where}: saved ${lastDir}; continue with --resume`
    : status === 'time' ? `time budget of ${opts.minutes} min reached at ${where}: saved ${lastDir}`
      : status === 'steps' ? `stopped after ${progress.globalStep} steps: saved ${lastDir}` : undefined;
  const tokensPerSec = sessionTrainSec ? sessionTokens / sessionTrainSec : 0;
  const secPerEpoch = tokensPerSec ? (stepsPerEpoch * tokensPerStep) / tokensPerSec : 0;
  log(`${message ?? `finished ${tc.epochs} epochs`}; ${progress.globalStep} steps in all, ${Math.round(tokensPerSec)} tokens/s this session ` +
    `(${formatDuration(secPerEpoch)} per epoch of ${stepsPerEpoch} steps). Best test loss ${best ? `${best.testLoss.toFixed(4)} at epoch ${best.epoch}` : '—'}.`);
  return { status, model, epoch: progress.epoch, globalStep: progress.globalStep, evals, best, losses, tokensPerSec, secPerEpoch, message };
}

/** Reads `<out>/metrics.csv` back (for reports). */
export function readCsv(path: string): EvalRow[] {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  const head = lines[0].split(',');
  return lines.slice(1).map((l) => {
    const v = l.split(',').map(Number);
    return Object.fromEntries(head.map((h, i) => [h, v[i]])) as unknown as EvalRow;
  });
}
