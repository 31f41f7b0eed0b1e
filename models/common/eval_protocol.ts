/**
 * `pixelbytes eval`: the paper's generation protocol (spec §5.3) and what the paper promised
 * but never measured.
 *
 * Paper protocol, per row: windows at starts 0, 80, 160, … < L, each 80 consecutive windows
 * (mod L); the first 64 are the prompt, the last 16 the target. The model generates 16 ids
 * greedily, each new window rebuilt from the centre stream (WindowStream), always reading the
 * whole growing sequence (64 → 79 windows). The 16 generated and 16 true windows, flattened to
 * 144 ids, give Hamming, cosine and BLEU. Prompts are batched (equal lengths at every step),
 * which changes nothing in the results.
 *
 * Extra: perplexity = exp(mean CE per target) on the test split; caption BLEU (image prompt →
 * generated caption vs the true one); SSIM (caption prompt → generated image vs the true one).
 */
import { idsToRgba, type LoadedDataset, type DatasetRecord } from '../../data-tools/index.js';
import { WindowStream } from './context.js';
import { evaluateSamples } from './evaluate.js';
import { decodeGenerated, generateStreams, imagePromptWindows, stopAfterImage, stopAfterLf, textPromptWindows } from './generate.js';
import { captionBleu, cosineSimilarity, hamming, idBleu, meanStd, ssimRgb } from './metrics.js';
import type { PixelBytesModel } from './model.js';
import { WINDOW, rowFrom, sampleRefs, type Objective, type Row } from './windows.js';

export interface PromptResult { row: number; key: string; n_seq: number; hamming: number; cosine: number; bleu: number }

export interface PaperProtocolOptions {
  promptLen?: number;
  genLen?: number;
  batchSize?: number;
  device?: string;
  onProgress?: (done: number, total: number) => void;
}

/** The paper's 64 + 16 protocol over the given rows. */
export function paperProtocol(model: PixelBytesModel, rows: readonly Row[], opts: PaperProtocolOptions = {}): PromptResult[] {
  const P = opts.promptLen ?? 64, G = opts.genLen ?? 16, S = P + G;
  const jobs: { row: number; n_seq: number; idx: number[] }[] = [];
  rows.forEach((r, row) => {
    const L = r.ids.length;
    for (let start = 0, n = 0; start < L; start += S, n++) jobs.push({ row, n_seq: n, idx: Array.from({ length: S }, (_, k) => (start + k) % L) });
  });
  const results: PromptResult[] = [];
  const bs = opts.batchSize ?? 32;
  for (let j = 0; j < jobs.length; j += bs) {
    const part = jobs.slice(j, j + bs);
    const streams = part.map(({ row, idx }) => {
      const prompt = new Int32Array(P * WINDOW);
      idx.slice(0, P).forEach((k, t) => prompt.set(rows[row].windows.subarray(k * WINDOW, (k + 1) * WINDOW), t * WINDOW));
      return new WindowStream(prompt, { fixWrap: false });    // the original's generator, as measured
    });
    generateStreams(model, streams, { maxTokens: G, device: opts.device, batchSize: bs });
    part.forEach(({ row, n_seq, idx }, b) => {
      const gen = streams[b].windows.slice(P * WINDOW);
      const tgt: number[] = [];
      for (const k of idx.slice(P)) for (let c = 0; c < WINDOW; c++) tgt.push(rows[row].windows[k * WINDOW + c]);
      results.push({ row, key: rows[row].key ?? String(row), n_seq, hamming: hamming(gen, tgt), cosine: cosineSimilarity(gen, tgt), bleu: idBleu(gen, tgt) });
    });
    opts.onProgress?.(Math.min(j + bs, jobs.length), jobs.length);
  }
  return results;
}

export function summarise(results: readonly PromptResult[]): { hamming: ReturnType<typeof meanStd>; cosine: ReturnType<typeof meanStd>; bleu: ReturnType<typeof meanStd> } {
  return {
    hamming: meanStd(results.map((r) => r.hamming)),
    cosine: meanStd(results.map((r) => r.cosine)),
    bleu: meanStd(results.map((r) => r.bleu)),
  };
}

/** Perplexity (and loss / accuracy) on rows with the training objective's samples. */
export function perplexityOn(model: PixelBytesModel, rows: readonly Row[], o: { seqLen: number; stride: number; objective: Objective; batchSize?: number; device?: string }) {
  const stride = o.objective === 'dense' ? o.seqLen : o.stride;
  const r = evaluateSamples(model, rows, sampleRefs(rows, stride), { T: o.seqLen, objective: o.objective, batchSize: o.batchSize ?? 32, device: o.device ?? 'cpu' });
  return { ...r, perplexity: Math.exp(r.loss) };
}

export interface CaptionImageResult {
  key: string;
  name: string;
  generatedCaption: string;
  trueCaption: string;
  /** NLTK sentence BLEU (words), no smoothing / method1 smoothing, against the true caption's first words. */
  bleu: number;
  bleuSmoothed: number;
  generatedImage: number[][] | null;
  ssim: number;
  /** Whether the generated image had the true size (else it was resized, nearest, for SSIM). */
  sizeMatch: boolean;
}

/** Nearest-neighbour resize of an id grid. */
export function resizeIds(ids: readonly (readonly number[])[], height: number, width: number): number[][] {
  const h = ids.length, w = h ? ids[0].length : 0;
  return Array.from({ length: height }, (_, y) => Array.from({ length: width }, (_, x) => ids[Math.min(h - 1, Math.floor((y * h) / height))][Math.min(w - 1, Math.floor((x * w) / width))]));
}

/** RGB SSIM of two id grids (the generated one resized to the true size); window ≤ the smaller side. */
export function imageSsim(generated: readonly (readonly number[])[], truth: readonly (readonly number[])[]): number {
  const H = truth.length, W = truth[0].length;
  const g = generated.length && generated[0].length ? resizeIds(generated, H, W) : truth.map((r) => r.map(() => 59));
  const rgb = (ids: readonly (readonly number[])[]) => {
    const img = idsToRgba(ids);
    const out = new Float64Array(H * W * 3);
    for (let i = 0; i < H * W; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = img.data[i * 4 + c];
    return out;
  };
  let win = Math.min(7, H, W);
  if (win % 2 === 0) win--;
  return ssimRgb(rgb(g), rgb(truth), H, W, { winSize: win });
}

export interface CaptionImageOptions {
  /** Windows read while generating (undefined: all, incrementally for a unidirectional LSTM). */
  context?: number;
  /** Caption tokens generated per species (BLEU compares against the same number of true words). */
  captionTokens?: number;
  maxImageTokens?: number;
  device?: string;
  batchSize?: number;
  onProgress?: (what: string, done: number, total: number) => void;
}

/**
 * Image → caption (BLEU) and caption → image (SSIM) for each record, greedy with structured
 * decoding (a well-formed "(H, W)" + H rows of W pixels, and a caption of printable bytes), so
 * that every species gets an image and a caption to score.
 */
export function captionAndImage(model: PixelBytesModel, records: readonly DatasetRecord[], o: CaptionImageOptions): CaptionImageResult[] {
  const capTokens = o.captionTokens ?? 200;
  const capStreams = records.map((r) => new WindowStream(imagePromptWindows(r.imageIds)));
  const caps = generateStreams(model, capStreams, { maxTokens: capTokens, stop: stopAfterLf(1), context: o.context, structure: { start: 'caption' }, device: o.device, batchSize: o.batchSize,
    onToken: (d, m) => o.onProgress?.('image → caption', d, m) });
  const imgStreams = records.map((r) => new WindowStream(textPromptWindows(r.caption)));
  const imgs = generateStreams(model, imgStreams, { maxTokens: o.maxImageTokens ?? 40 * 41 + 12, stop: stopAfterImage, context: o.context, structure: { start: 'shape' }, device: o.device, batchSize: o.batchSize,
    onToken: (d, m) => o.onProgress?.('caption → image', d, m) });
  return records.map((r, k) => {
    const capText = decodeGenerated(caps[k]).text.replace(/\n/g, ' ').trim();
    const nWords = Math.max(1, capText.split(/\s+/).filter(Boolean).length);
    const ref = r.caption.split(/\s+/).filter(Boolean).slice(0, nWords).join(' ');
    const img = decodeGenerated(imgs[k]).image;
    return {
      key: r.key, name: r.names.en, generatedCaption: capText, trueCaption: r.caption,
      bleu: captionBleu(capText, ref), bleuSmoothed: captionBleu(capText, ref, 'add-epsilon'),
      generatedImage: img?.ids ?? null,
      ssim: imageSsim(img?.ids ?? [], r.imageIds),
      sizeMatch: img !== null && img.height === r.height && img.width === r.width,
    };
  });
}

/** Dataset records → rows for the window code. */
export function rowsOf(records: readonly DatasetRecord[]): Row[] {
  return records.map((r) => rowFrom(r.imageIds, r.caption, r.key));
}

export type { LoadedDataset };
