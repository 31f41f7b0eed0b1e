/** The op front-ends, one export line per file. */
export * from './elementwise.js';
export * from './reduce.js';
export * from './shape.js';
export * from './matmul.js';
export * from './layout.js';
export * from './indexing.js';
export * from './softmax.js';
export * from './loss.js';
export * from './dropout.js';
export * from './conv.js';
export * from './embedding.js';
export * from './norm.js';
export * from './lstm.js';
export * from './attention.js';
export * from './selective_scan.js';
