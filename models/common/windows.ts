/**
 * Training samples from dataset rows (spec §2.4) and the two objectives.
 *
 * A row is one Pokémon's sequence: L windows of 9 ids (data-tools buildSequence) and their L
 * centre ids. Samples are (row, start) references, materialised into batches on demand
 * (the original materialised all ≈30k × 256 × 9 ids up front; we do not need 280 MB for that).
 *
 * - `last` (faithful, PxByDataset modulo version): starts 0, s, 2s, … < L; a sample is the windows
 *   at (start … start+T−1) mod L and ONE target: the centre of window start+T (mod L).
 * - `dense`: the same input windows; position t's target is the centre of window start+t+1
 *   (mod L): T targets per sample. Only a causal model may use it (a position must not see the
 *   window that holds its own target).
 */
import { buildSequence } from '../../data-tools/index.js';

export const WINDOW = 9;

export type Objective = 'last' | 'dense';

export interface Row {
  /** L × 9 window cells. */
  windows: Int32Array;
  /** L centre ids. */
  ids: Int32Array;
  /** A label for reports (the species key). */
  key?: string;
}

export interface SampleRef { row: number; start: number }

/** A row from an image (H×W colour ids) and a caption, through the data tools' constructor. */
export function rowFrom(imageIds: readonly (readonly number[])[], caption: string, key?: string): Row {
  const seq = buildSequence(imageIds, caption);
  return { windows: seq.windows, ids: seq.ids, key };
}

/** Every sample of every row: starts 0, stride, 2·stride, … < L (⌈L/stride⌉ per row). */
export function sampleRefs(rows: readonly Row[], stride: number): SampleRef[] {
  if (!(Number.isInteger(stride) && stride >= 1)) throw new RangeError(`stride ${stride} must be an integer ≥ 1`);
  const refs: SampleRef[] = [];
  rows.forEach((r, row) => {
    for (let start = 0; start < r.ids.length; start += stride) refs.push({ row, start });
  });
  return refs;
}

export interface Batch {
  /** [B, T, 9] window cells. */
  windows: Int32Array;
  /** `last`: [B] targets; `dense`: [B, T]. */
  targets: Int32Array;
  B: number;
  T: number;
}

/** Gathers samples into one batch (circular within each row). */
export function makeBatch(rows: readonly Row[], refs: readonly SampleRef[], T: number, objective: Objective): Batch {
  const B = refs.length;
  const windows = new Int32Array(B * T * WINDOW);
  const targets = new Int32Array(objective === 'last' ? B : B * T);
  refs.forEach(({ row, start }, b) => {
    const r = rows[row];
    const L = r.ids.length;
    for (let t = 0; t < T; t++) {
      const src = ((start + t) % L) * WINDOW;
      windows.set(r.windows.subarray(src, src + WINDOW), (b * T + t) * WINDOW);
      if (objective === 'dense') targets[b * T + t] = r.ids[(start + t + 1) % L];
    }
    if (objective === 'last') targets[b] = r.ids[(start + T) % L];
  });
  return { windows, targets, B, T };
}

/** Splits a list of references into batches of `batchSize` (the last one may be smaller). */
export function chunk<T>(xs: readonly T[], batchSize: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += batchSize) out.push(xs.slice(i, i + batchSize));
  return out;
}
