/** Every bench suite, one line per file (keep alphabetical). */
import type { BenchSuite } from '../types.js';
import { suite as blocks } from './blocks.js';
import { suite as matmul } from './matmul.js';
import { suite as training } from '../../models/bench_suite.js';

export const suites: BenchSuite[] = [
  blocks,
  matmul,
  training,
];
