/** Builds the model of a config (one place that knows the three families). */
import { validateModelConfig, type ModelConfig } from './config.js';
import type { PixelBytesModel } from './model.js';
import { RnnModel } from '../rnn/model.js';
import { TransformerModel } from '../transformer/model.js';
import { MambaModel } from '../mamba/model.js';

export function createModel(config: ModelConfig): PixelBytesModel {
  validateModelConfig(config);
  switch (config.family) {
    case 'rnn': return new RnnModel(config);
    case 'attention': return new TransformerModel(config);
    case 'ssm': return new MambaModel(config);
  }
}
