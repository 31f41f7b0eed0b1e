/**
 * Checkpoints: a directory with
 *   model.safetensors      the parameters under PyTorch's names (the original's HF layout)
 *   config.json            model + training config, parameter count, trainer progress, evaluations
 *   optimizer.safetensors  AdamW state (only in `last`, for --resume)
 * written aside and swapped in whole (atomic: a kill leaves the old or the new checkpoint).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSafetensors, saveSafetensors } from '../../src/io/safetensors.js';
import { stateDictFromTensors, stateDictToTensors, type OptimizerStateDict } from '../../src/optim/index.js';
import { stageDirectory } from '../../data-tools/fsutil.js';
import { validateModelConfig, type ModelConfig, type TrainConfig } from './config.js';
import { createModel } from './factory.js';
import type { PixelBytesModel } from './model.js';
import type { EvalRow } from './plot.js';

export const CHECKPOINT_FORMAT = 'pixelbytes-checkpoint';
export const CHECKPOINT_VERSION = 1;

export interface TrainProgress {
  /** The epoch being trained (1-based) and the next batch in it. */
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
  /** Shuffle generator state at the start of `epoch` (its permutation is re-drawn from it). */
  epochRngState: number[];
  /** Shuffle generator state now. */
  rngState: number[];
  /** The process-wide generator (dropout masks) now. */
  defaultRngState: number[];
  trainSeconds: number;
  tokens: number;
}

export interface CheckpointMeta {
  name: string;
  model: ModelConfig;
  train: TrainConfig;
  paramCount: number;
  progress?: TrainProgress;
  evals?: EvalRow[];
  best?: { testLoss: number; epoch: number } | null;
  stepLosses?: [number, number][];
  [extra: string]: unknown;
}

interface ConfigFile extends CheckpointMeta { format: string; version: number }

/** NaN-safe JSON (generator states hold NaN for "no spare normal"). */
const toJson = (x: unknown): string => JSON.stringify(x, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? { $num: String(v) } : v), 1);
const fromJson = (s: string): unknown => JSON.parse(s, (_k, v) => (v && typeof v === 'object' && '$num' in v && Object.keys(v).length === 1 ? Number((v as { $num: string }).$num) : v));

export function saveCheckpoint(dir: string, model: PixelBytesModel, meta: CheckpointMeta, optimizerState: OptimizerStateDict | null): void {
  const stage = stageDirectory(dir);
  try {
    saveSafetensors(join(stage.path, 'model.safetensors'), model.stateDict(), { format: 'pt', name: meta.name });
    if (optimizerState) {
      const { tensors, metadata } = stateDictToTensors(optimizerState);
      saveSafetensors(join(stage.path, 'optimizer.safetensors'), tensors, metadata);
    }
    const file: ConfigFile = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, ...meta };
    writeFileSync(join(stage.path, 'config.json'), toJson(file) + '\n');
    stage.commit();
  } catch (err) {
    stage.abort();
    throw err;
  }
}

export function readCheckpointMeta(dir: string): CheckpointMeta {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new Error(`${path} is missing: is ${dir} a checkpoint written by \`pixelbytes train\`?`);
  const file = fromJson(readFileSync(path, 'utf8')) as ConfigFile;
  if (file.format !== CHECKPOINT_FORMAT) throw new Error(`${path}: format '${file.format}', expected '${CHECKPOINT_FORMAT}'`);
  if (file.version !== CHECKPOINT_VERSION) throw new Error(`${path}: version ${file.version}, expected ${CHECKPOINT_VERSION}`);
  validateModelConfig(file.model);
  return file;
}

export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  model: PixelBytesModel;
  optimizerState?: OptimizerStateDict;
}

/** Builds the model of a checkpoint directory and loads its weights (and optimizer state if asked). */
export function loadCheckpoint(dir: string, opts: { device?: string; withOptimizer?: boolean } = {}): LoadedCheckpoint {
  const meta = readCheckpointMeta(dir);
  const model = createModel(meta.model);
  const weights = loadSafetensors(join(dir, 'model.safetensors'));
  model.loadStateDict(weights.tensors);
  for (const t of weights.tensors.values()) t.dispose();
  if (opts.device && opts.device !== 'cpu') model.to(opts.device);
  let optimizerState: OptimizerStateDict | undefined;
  if (opts.withOptimizer) {
    const path = join(dir, 'optimizer.safetensors');
    if (!existsSync(path)) throw new Error(`${path} is missing: only a 'last' checkpoint can be resumed`);
    const o = loadSafetensors(path);
    optimizerState = stateDictFromTensors(o.tensors, o.metadata);
  }
  return { meta, model, optimizerState };
}
