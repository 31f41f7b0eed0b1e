/** Small configs and runs for the model tests (tiny D so each family trains in seconds on 2 cores). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODEL, DEFAULT_TRAIN, type ModelConfig, type TrainConfig } from '../../models/common/config.js';

export const tinyModel = (o: Partial<ModelConfig>): ModelConfig => ({ ...DEFAULT_MODEL, dim: 18, dState: 16, depth: 1, heads: 2, ffn: 32, dropout: 0, dConv: 4, expand: 2, ...o });
export const tinyTrain = (o: Partial<TrainConfig>): TrainConfig => ({ ...DEFAULT_TRAIN, seqLen: 12, stride: 3, batchSize: 8, lr: 1e-2, epochs: 4, evalEvery: 2, seed: 1, ...o });
export const tmp = (name: string): string => mkdtempSync(join(tmpdir(), `pxby-${name}-`));
