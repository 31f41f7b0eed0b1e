/** Every registered gradcheck case (one import per case file). */
import type { GradcheckCase } from './case.js';
import { cases as elementwise } from './cases/elementwise.js';
import { cases as matmul } from './cases/matmul.js';
import { cases as layout } from './cases/layout.js';
import { cases as indexing } from './cases/indexing.js';
import { cases as softmax } from './cases/softmax.js';
import { cases as loss } from './cases/loss.js';
import { cases as dropout } from './cases/dropout.js';
import { cases as conv } from './cases/conv.js';
import { cases as embedding } from './cases/embedding.js';
import { cases as norm } from './cases/norm.js';
import { cases as lstm } from './cases/lstm.js';
import { cases as attention } from './cases/attention.js';
import { cases as selectiveScan } from './cases/selective_scan.js';

export const allCases: GradcheckCase[] = [
  ...elementwise,
  ...matmul,
  ...layout,
  ...indexing,
  ...softmax,
  ...loss,
  ...dropout,
  ...conv,
  ...embedding,
  ...norm,
  ...lstm,
  ...attention,
  ...selectiveScan,
];
