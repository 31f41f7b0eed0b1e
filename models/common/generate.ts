/**
 * Autoregressive generation (spec §2.5, §6): the model reads windows, emits the next centre id,
 * whose 3×3 window is rebuilt by WindowStream; decoding is greedy (the original) or temperature /
 * top-k sampling from a seeded Generator. Several streams can advance together in one batch
 * (all fed the same number of windows: the last `context` of each, so prompts of any length
 * batch once they are at least that long).
 */
import { Generator, noGrad, tidy } from '../../src/index.js';
import { FIRST_PIXEL_ID, LF_ID, TAB_ID, buildSequence, idsToRgba, sequenceToImageAndText, textToIds, type RgbaImage } from '../../data-tools/index.js';
import { WindowStream, textWindows } from './context.js';
import { windowsTensor } from './evaluate.js';
import type { PixelBytesModel } from './model.js';
import { WINDOW } from './windows.js';

export interface SamplingOptions {
  /** 0 (default) = greedy argmax, the original's decoding. */
  temperature?: number;
  /** Keep only the k most likely ids before sampling (0 = all). */
  topK?: number;
  /** Source of randomness for sampling (seeded by the caller). */
  generator?: Generator;
  /**
   * Structured decoding (not in the original): the stream is kept well-formed — "(H, W)" then H
   * rows of W pixels separated by TAB, ending with LF, then a caption of printable bytes ending
   * with LF — by masking the ids that would break it. The model still picks every colour and
   * character. `start` names the segment that the first generated id opens.
   */
  structure?: { start: Segment; image?: { H: number; W: number; row: number } };
}

export type Segment = 'shape' | 'image' | 'caption';

/** Picks the next id from one row of logits (only among `allowed` ids when given). */
export function pickToken(logits: ArrayLike<number>, opts: SamplingOptions = {}, allowed?: ReadonlySet<number> | null): number {
  const V = logits.length;
  const temperature = opts.temperature ?? 0;
  const ok = (c: number) => !allowed || allowed.has(c);
  if (!(temperature > 0)) {
    let best = -Infinity, arg = -1;
    for (let c = 0; c < V; c++) if (ok(c) && (arg < 0 || logits[c] > best)) { best = logits[c]; arg = c; }
    return arg;
  }
  let ids = Array.from({ length: V }, (_, c) => c).filter(ok);
  if (opts.topK && opts.topK > 0 && opts.topK < V) ids = ids.sort((a, b) => logits[b] - logits[a] || a - b).slice(0, opts.topK);
  let mx = -Infinity;
  for (const c of ids) mx = Math.max(mx, logits[c] / temperature);
  if (ids.length === 0) throw new Error('pickToken: no allowed id');
  const p = ids.map((c) => Math.exp(logits[c] / temperature - mx));
  const total = p.reduce((s, v) => s + v, 0);
  const g = opts.generator ?? new Generator(0);
  let u = g.random() * total;
  for (let k = 0; k < ids.length; k++) { u -= p[k]; if (u < 0) return ids[k]; }
  return ids[ids.length - 1];
}

export interface GenerateOptions extends SamplingOptions {
  /** Windows fed to the model at each step (the last ones); default: all (the original). */
  context?: number;
  maxTokens: number;
  /** Stop a stream once this holds for its generated ids (checked after each token). */
  stop?: (generated: readonly number[]) => boolean;
  device?: string;
  /** Streams per forward pass. */
  batchSize?: number;
  onToken?: (done: number, max: number) => void;
}

/**
 * Advances every stream until its stop condition or maxTokens; returns the generated ids per stream.
 * With no `context` limit the model reads each whole growing sequence (the original): a causal
 * recurrent model does it incrementally (stepper: same logits, linear time), others recompute.
 */
export function generateStreams(model: PixelBytesModel, streams: WindowStream[], opts: GenerateOptions): number[][] {
  const wasTraining = model.training;
  model.eval();
  const device = opts.device ?? 'cpu';
  const out = streams.map(() => [] as number[]);
  const V = model.config.vocabSize;
  const guides = streams.map(() => (opts.structure ? new StructureGuide(opts.structure.start, 40, opts.structure.image) : null));
  try {
    const unbounded = opts.context === undefined || !Number.isFinite(opts.context);
    const probe = unbounded ? model.stepper() : null;
    if (probe) {
      probe.dispose();
      streams.forEach((stream, i) => {
        if (stream.length === 0) throw new Error('generate: a stream has no windows to start from (give a prompt)');
        const st = model.stepper()!;
        try {
          let logits = st.feed(windowsTensor(stream.tail(), 1, stream.length, device));
          for (let step = 0; step < opts.maxTokens; step++) {
            const token = pickToken(logits, opts, guides[i]?.allowed());
            guides[i]?.push(token);
            const win = stream.push(token);
            out[i].push(token);
            if (opts.stop?.(out[i]) || step === opts.maxTokens - 1) break;
            logits = st.feed(windowsTensor(Int32Array.from(win), 1, 1, device));
          }
        } finally {
          st.dispose();
        }
        opts.onToken?.(i + 1, streams.length);
      });
      return out;
    }
    const done = streams.map(() => false);
    const bs = opts.batchSize ?? 32;
    for (let step = 0; step < opts.maxTokens; step++) {
      const live = streams.map((_, i) => i).filter((i) => !done[i]);
      if (live.length === 0) break;
      // group live streams by the number of windows they feed (equal lengths batch together)
      const groups = new Map<number, number[]>();
      for (const i of live) {
        const n = Math.min(opts.context ?? Infinity, streams[i].length);
        if (n === 0) throw new Error('generate: a stream has no windows to start from (give a prompt)');
        groups.set(n, [...(groups.get(n) ?? []), i]);
      }
      for (const [n, members] of groups) {
        for (let s = 0; s < members.length; s += bs) {
          const part = members.slice(s, s + bs);
          const windows = new Int32Array(part.length * n * WINDOW);
          part.forEach((i, b) => windows.set(streams[i].tail(n), b * n * WINDOW));
          const logits = noGrad(() => tidy(() => model.forward(windowsTensor(windows, part.length, n, device), false).toTyped()));
          part.forEach((i, b) => {
            const token = pickToken(logits.subarray(b * V, (b + 1) * V), opts, guides[i]?.allowed());
            guides[i]?.push(token);
            streams[i].push(token);
            out[i].push(token);
            if (opts.stop?.(out[i])) done[i] = true;
          });
        }
      }
      opts.onToken?.(step + 1, opts.maxTokens);
    }
  } finally {
    model.train(wasTraining);
  }
  return out;
}

// ---- structured decoding ----------------------------------------------------------------------

const DIGIT_IDS = Array.from({ length: 10 }, (_, d) => 13 + d); // '0'..'9'
const PIXEL_IDS = Array.from({ length: 55 }, (_, k) => FIRST_PIXEL_ID + k);
const CAPTION_IDS = Array.from({ length: 55 }, (_, k) => 3 + k); // space … 'z' (no NUL/TAB/LF)
const ids = (xs: number[]) => new Set(xs);
const LPAREN = 6, RPAREN = 7, COMMA = 9, SPACE = 3;

/** Tracks the segment being generated and gives the ids that keep the stream well-formed. */
export class StructureGuide {
  private seg: Segment;
  private shape: number[] = [];          // ids of the shape text so far
  private H = 0; private W = 0; private row = 0; private col = 0;
  private captionLen = 0;

  /** `image`: the declared shape and the row to continue from, when starting inside an image. */
  constructor(start: Segment, readonly maxSide = 40, image?: { H: number; W: number; row: number }) {
    this.seg = start;
    if (image) { this.H = image.H; this.W = image.W; this.row = image.row; }
  }

  allowed(): Set<number> {
    if (this.seg === 'caption') return ids(this.captionLen > 0 ? [...CAPTION_IDS, LF_ID] : CAPTION_IDS);
    if (this.seg === 'image') {
      if (this.W === 0) return ids([...PIXEL_IDS, TAB_ID, LF_ID]);     // no declared shape
      if (this.col < this.W) return ids(PIXEL_IDS);
      return ids([this.row < this.H - 1 ? TAB_ID : LF_ID]);
    }
    // the shape text "(H, W)": '(' digits ',' ' ' digits ')' LF, sides 1..maxSide
    const text = this.shapeText();
    const m = /^\((\d*)(,)?( )?(\d*)(\))?$/.exec(text);
    if (!text) return ids([LPAREN]);
    if (!m) return ids([LF_ID]);                         // cannot happen: every id was allowed
    const [, h, comma, space, w, close] = m;
    const digits = (cur: string) => DIGIT_IDS.filter((_, d) => !(cur === '' && d === 0) && Number(cur + d) <= this.maxSide);
    if (close) return ids([LF_ID]);
    if (space) return ids(w ? [...digits(w), RPAREN] : digits(w));
    if (comma) return ids([SPACE]);
    return ids(h ? [...digits(h), COMMA] : digits(h));
  }

  private shapeText(): string {
    return this.shape.map((i) => (i >= 13 && i <= 22 ? String(i - 13) : i === COMMA ? ',' : i === SPACE ? ' ' : i === LPAREN ? '(' : ')')).join('');
  }

  push(token: number): void {
    if (this.seg === 'caption') {
      if (token === LF_ID) { this.seg = 'shape'; this.shape = []; } else this.captionLen++;
      return;
    }
    if (this.seg === 'image') {
      if (token === TAB_ID) { this.row++; this.col = 0; } else if (token === LF_ID) { this.seg = 'caption'; this.captionLen = 0; } else this.col++;
      return;
    }
    if (token === LF_ID) {
      const m = /^\((\d+), (\d+)\)$/.exec(this.shapeText());
      this.H = m ? Number(m[1]) : 0; this.W = m ? Number(m[2]) : 0; this.row = 0; this.col = 0;
      this.seg = 'image';
    } else this.shape.push(token);
  }
}

// ---- prompts -----------------------------------------------------------------------------------

/** Windows of "(H, W)" + LF + the image rows (the image prompt of image → caption). */
export function imagePromptWindows(imageIds: readonly (readonly number[])[]): Int32Array {
  const seq = buildSequence(imageIds, 'x');
  return seq.windows.slice(0, seq.captionStart * WINDOW);
}

/** Windows of "(H, W)" + LF + the first `rows` image rows with their TABs (the prompt of image completion). */
export function partialImagePromptWindows(imageIds: readonly (readonly number[])[], rows: number): Int32Array {
  const seq = buildSequence(imageIds, 'x');
  const W = imageIds[0].length;
  return seq.windows.slice(0, (seq.imageStart + rows * (W + 1)) * WINDOW);
}

/** Windows of a caption + LF (the text prompt of text → image); the caption is folded text. */
export function textPromptWindows(caption: string): Int32Array {
  return textWindows(textToIds(caption));
}

/** Stop rules on the generated ids. */
export const stopAfterLf = (count: number) => (g: readonly number[]): boolean => {
  let n = 0;
  for (const id of g) if (id === LF_ID) n++;
  return n >= count;
};
/** Stop once an image has ended: an LF (or any byte but TAB) right after pixels. */
export const stopAfterImage = (g: readonly number[]): boolean => {
  const k = g.length - 1;
  return k > 0 && g[k - 1] >= FIRST_PIXEL_ID && g[k] < FIRST_PIXEL_ID && g[k] !== TAB_ID;
};

export interface Decoded {
  /** The first image found in the generated ids (with a shape prefix if the model wrote one). */
  image: { ids: number[][]; width: number; height: number; declared: { height: number; width: number } | null } | null;
  /** The text, shape prefixes removed. */
  text: string;
}

/** Generated ids → the first image and the text (data-tools' inverse, robust to ragged rows). */
export function decodeGenerated(ids: readonly number[]): Decoded {
  const d = sequenceToImageAndText(ids);
  const img = d.images.find((im) => im.width > 0 && im.height > 0) ?? null;
  return { image: img ? { ids: img.ids, width: img.width, height: img.height, declared: img.declared } : null, text: d.caption };
}

/** An id grid as RGBA, each pixel a scale×scale block (crisp upscaling). */
export function upscaledRgba(ids: readonly (readonly number[])[], scale: number): RgbaImage {
  const small = idsToRgba(ids);
  const W = small.width * scale, H = small.height * scale;
  const data = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const s = (Math.floor(y / scale) * small.width + Math.floor(x / scale)) * 4;
      data.set(small.data.subarray(s, s + 4), (y * W + x) * 4);
    }
  }
  return { width: W, height: H, data };
}

