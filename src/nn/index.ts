/** Neural-network modules (exported as `nn` from the package). */
export { Module } from './module.js';
export { Linear, Embedding, Conv2d, Conv1dDepthwiseCausal, LayerNorm, RMSNorm, Dropout, type InitOptions, type Conv2dLayerOptions } from './layers.js';
export { LSTM, type LSTMOptions, type LSTMState } from './rnn.js';
export { MultiheadAttention, TransformerEncoderLayer, type MultiheadAttentionOptions, type TransformerEncoderLayerOptions, type AttentionCallOptions } from './transformer.js';
export { MambaBlock, type MambaOptions } from './mamba.js';
