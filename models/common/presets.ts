/**
 * The 15 configurations of the paper (spec §4.4, §5.1, §5.2) as named presets, with the numbers
 * the original reported for each (recomputed from its CSVs in the spec), plus our causal presets.
 */
import { DEFAULT_MODEL, configName, type ModelConfig } from './config.js';

export interface PaperNumbers {
  /** §3.6 */
  params: number;
  /** §5.1, final epoch 200 */
  finalTestLoss: number;
  finalTestAcc: number;
  bestTestLoss: number;
  bestTestLossEpoch: number;
  testAccAtBest: number;
  bestTestAcc: number;
  /** §5.2, mean ± sd over 13,740 prompts */
  hamming: [number, number];
  cosine: [number, number];
  bleu: [number, number];
}

export interface Preset {
  name: string;
  model: ModelConfig;
  /** From the paper (absent for our own presets). */
  paper?: PaperNumbers;
  note?: string;
}

type Over = Partial<ModelConfig>;
const m = (o: Over): ModelConfig => ({ ...DEFAULT_MODEL, ...o });
const P = (params: number, fl: number, fa: number, bl: number, be: number, ab: number, ba: number,
  h: [number, number], c: [number, number], b: [number, number]): PaperNumbers =>
  ({ params, finalTestLoss: fl, finalTestAcc: fa, bestTestLoss: bl, bestTestLossEpoch: be, testAccAtBest: ab, bestTestAcc: ba, hamming: h, cosine: c, bleu: b });

const PAPER: [Over, PaperNumbers][] = [
  [{ family: 'ssm', depth: 1 }, P(91431, 3.9656, 51.34, 1.5202, 5, 57.54, 59.13, [0.1700, 0.0857], [0.8829, 0.1052], [0.7534, 0.1154])],
  [{ family: 'ssm', depth: 2 }, P(164979, 4.4807, 54.07, 1.4990, 5, 58.42, 58.42, [0.1580, 0.0737], [0.8963, 0.0952], [0.7715, 0.0968])],
  [{ family: 'ssm', depth: 2, bidirectional: false }, P(164817, 4.4506, 52.82, 1.5693, 5, 57.89, 58.51, [0.1660, 0.0806], [0.8858, 0.1018], [0.7602, 0.1058])],
  [{ family: 'attention', depth: 1 }, P(95477, 2.1565, 49.22, 1.6405, 10, 52.67, 53.32, [0.1574, 0.0636], [0.8875, 0.1026], [0.7649, 0.0880])],
  [{ family: 'attention', depth: 2 }, P(173317, 2.2919, 49.10, 1.6471, 15, 52.61, 53.23, [0.1589, 0.0659], [0.8869, 0.1033], [0.7595, 0.0919])],
  [{ embed: 'center' }, P(79218, 2.8525, 48.39, 1.6341, 15, 53.49, 53.93, [0.1850, 0.0741], [0.8882, 0.0829], [0.7502, 0.0934])],
  [{}, P(78633, 2.5547, 53.53, 1.5852, 20, 57.51, 57.69, [0.1532, 0.0610], [0.9019, 0.0900], [0.7773, 0.0833])],
  [{ dim: 162 }, P(122508, 2.6073, 55.43, 1.5376, 15, 57.79, 59.05, [0.1515, 0.0619], [0.9045, 0.0887], [0.7782, 0.0840])],
  [{ dim: 36 }, P(63333, 2.4341, 53.74, 1.5454, 20, 58.36, 58.45, [0.1517, 0.0608], [0.9044, 0.0898], [0.7779, 0.0833])],
  [{ dState: 128 }, P(230505, 2.9778, 54.08, 1.4869, 10, 58.71, 58.71, [0.1526, 0.0629], [0.9026, 0.0915], [0.7756, 0.0863])],
  [{ dState: 32 }, P(33417, 1.7303, 55.29, 1.6129, 70, 55.38, 55.65, [0.1488, 0.0618], [0.8986, 0.0950], [0.7848, 0.0817])],
  [{ depth: 1 }, P(45353, 1.7118, 55.68, 1.5618, 25, 55.23, 56.02, [0.1489, 0.0624], [0.8971, 0.0962], [0.7797, 0.0854])],
  [{ depth: 3 }, P(111913, 2.8867, 54.02, 1.5213, 15, 56.71, 58.02, [0.1528, 0.0628], [0.9055, 0.0874], [0.7758, 0.0860])],
  [{ embed: 'noconv' }, P(77895, 2.4758, 55.11, 1.5069, 20, 58.95, 59.54, [0.1509, 0.0618], [0.9027, 0.0901], [0.7790, 0.0841])],
  [{ bidirectional: false }, P(86825, 2.5027, 54.83, 1.5001, 15, 57.72, 58.72, [0.1534, 0.0636], [0.9043, 0.0881], [0.7767, 0.0872])],
];

const OURS: [Over, string][] = [
  [{ family: 'attention', depth: 2, causal: true }, 'causal-masked Transformer (not in the paper): trains with --objective dense'],
  [{ family: 'attention', depth: 2, causal: true, positions: 'learned' }, 'causal Transformer with learned positions (not in the paper)'],
  [{ family: 'ssm', depth: 2, bidirectional: false, mambaVariant: 'residual' }, 'Mamba with residual + RMSNorm blocks (not in the paper)'],
  [{ family: 'rnn', depth: 1, bidirectional: false, dState: 128, dim: 81 }, 'one wide unidirectional LSTM (not in the paper)'],
];

export const PRESETS: readonly Preset[] = [
  ...PAPER.map(([o, paper]) => ({ name: configName(m(o)), model: m(o), paper })),
  ...OURS.map(([o, note]) => ({ name: configName(m(o)), model: m(o), note })),
];

/** The model `npm start` trains: causal (for `dense`), and paper-shaped. */
export const START_PRESET = 'rnn_uni_pxby_conv_81_dim_64_state_2_layer';

/** Names the original used elsewhere (train CSVs, eval files) → preset names. */
function normalise(name: string): string {
  let n = name.trim().replace(/\.csv$/, '').replace(/_(best|last)$/, '');
  // train-CSV spelling: rnn_bi_pxby_81-dim_64-state_2-layer
  n = n.replace(/(\d+)-dim_(\d+)-state_(\d+)-layer/, '$1_dim_$2_state_$3_layer');
  // attention has no direction in train CSVs
  n = n.replace(/^attention_pxby/, 'attention_bi_pxby');
  // pxby without conv/noconv means conv
  n = n.replace(/_pxby_(\d)/, '_pxby_conv_$1');
  return n;
}

export function findPreset(name: string): Preset {
  const n = normalise(name);
  const p = PRESETS.find((x) => x.name === n);
  if (!p) {
    throw new Error(`unknown preset '${name}'. Presets:\n${PRESETS.map((x) => `  ${x.name}${x.paper ? '' : `  (${x.note})`}`).join('\n')}`);
  }
  return { ...p, model: { ...p.model } };
}
