/**
 * The PixelBytes sequence constructor (spec §2.2–2.3) and its inverse (spec §6).
 *
 * A sample is three 2-D id arrays — the shape text "(H, W)", the H×W image, the caption — each
 * given one extra column (TAB at the end of every row but the last, LF after the last) and then
 * concatenated. Every position gets the 3×3 window of its augmented array, zero-padded, with the
 * right cell of the middle row and the whole bottom row zeroed (only already-emitted tokens).
 */
import { BACKGROUND_PALETTE_INDEX } from './palette.js';
import { FIRST_PIXEL_ID, LF_ID, PAD_ID, TAB_ID, idsToText, isByteId, isPixelId, textToIds } from './vocab.js';

export const WINDOW_CELLS = 9;

export interface Sequence {
  /** The L token ids. */
  ids: Int32Array;
  /** L × 9 window cells, each window row-major: [ul, u, ur, l, self, 0, 0, 0, 0]. */
  windows: Int32Array;
  /** Where the segments start: shape text at 0, then image, then caption. */
  imageStart: number;
  captionStart: number;
}

/** The shape prefix text, Python's tuple repr of (H, W): "(25, 22)". */
export function shapeText(height: number, width: number): string {
  return `(${height}, ${width})`;
}

/** Check an image grid: rectangular, non-empty, every id a colour (58..112). */
export function validateImageIds(image: readonly (readonly number[])[]): { height: number; width: number } {
  const height = image.length;
  const width = height ? image[0].length : 0;
  if (height === 0 || width === 0) throw new RangeError(`image is empty (${height}×${width})`);
  image.forEach((row, y) => {
    if (row.length !== width) throw new RangeError(`image row ${y} has ${row.length} ids, row 0 has ${width}: an image must be rectangular`);
    row.forEach((id, x) => {
      if (!isPixelId(id)) throw new RangeError(`image id ${id} at row ${y}, column ${x} is not a colour id (58..112)`);
    });
  });
  return { height, width };
}

/**
 * Append the windows of one 2-D array (rows of ids, WITHOUT the separator column, which is added
 * here) to `ids`/`windows` starting at position `at`; returns the next position.
 */
function emitArray(rows: readonly (ArrayLike<number>)[], ids: Int32Array, windows: Int32Array, at: number): number {
  const R = rows.length;
  const C = (R ? rows[0].length : 0) + 1; // + separator column
  const cell = (i: number, j: number): number => {
    if (i < 0 || i >= R || j < 0 || j >= C) return PAD_ID;
    return j === C - 1 ? (i === R - 1 ? LF_ID : TAB_ID) : rows[i][j];
  };
  for (let i = 0; i < R; i++) {
    for (let j = 0; j < C; j++, at++) {
      const w = at * WINDOW_CELLS;
      windows[w] = cell(i - 1, j - 1);
      windows[w + 1] = cell(i - 1, j);
      windows[w + 2] = cell(i - 1, j + 1);
      windows[w + 3] = cell(i, j - 1);
      windows[w + 4] = ids[at] = cell(i, j);
      // cells 5..8 stay 0: right neighbour and bottom row are the future.
    }
  }
  return at;
}

/**
 * Sequence of one sample (spec §2.2): image = H×W colour ids (58..112); caption = already folded
 * text (see text.ts foldText) or its byte ids. Length L = (len(shape)+1) + H·(W+1) + (len(caption)+1).
 */
export function buildSequence(imageIds: readonly (readonly number[])[], caption: string | ArrayLike<number>): Sequence {
  const { height, width } = validateImageIds(imageIds);
  const shapeIds = textToIds(shapeText(height, width));
  const captionIds = typeof caption === 'string' ? textToIds(caption) : Array.from(caption);
  captionIds.forEach((id, i) => {
    if (!isByteId(id) || id === PAD_ID || id === TAB_ID || id === LF_ID) {
      throw new RangeError(`caption id ${id} at offset ${i} is not allowed: a caption holds printable byte ids only (3..57), TAB/LF/NUL are structure`);
    }
  });
  const L = shapeIds.length + 1 + height * (width + 1) + captionIds.length + 1;
  const ids = new Int32Array(L);
  const windows = new Int32Array(L * WINDOW_CELLS);
  let at = emitArray([shapeIds], ids, windows, 0);
  const imageStart = at;
  at = emitArray(imageIds, ids, windows, at);
  const captionStart = at;
  at = emitArray([captionIds], ids, windows, at);
  if (at !== L) throw new Error(`internal: wrote ${at} positions, expected ${L}`);
  return { ids, windows, imageStart, captionStart };
}

/** Windows as nested arrays, `[L][3][3]` (the JSON shape of the original `pixelbyte` column). */
export function nestedWindows(windows: Int32Array): number[][][] {
  if (windows.length % WINDOW_CELLS !== 0) throw new RangeError(`windows length ${windows.length} is not a multiple of 9`);
  const out: number[][][] = [];
  for (let w = 0; w < windows.length; w += WINDOW_CELLS) {
    out.push([
      [windows[w], windows[w + 1], windows[w + 2]],
      [windows[w + 3], windows[w + 4], windows[w + 5]],
      [windows[w + 6], windows[w + 7], windows[w + 8]],
    ]);
  }
  return out;
}

/** The centre ids of windows (flat L×9 or nested [L][3][3]). */
export function centresOf(windows: Int32Array | readonly (readonly (readonly number[])[])[]): Int32Array {
  if (windows instanceof Int32Array) {
    const out = new Int32Array(windows.length / WINDOW_CELLS);
    for (let i = 0; i < out.length; i++) out[i] = windows[i * WINDOW_CELLS + 4];
    return out;
  }
  return Int32Array.from(windows, (w) => w[1][1]);
}

// ---------------------------------------------------------------------------------------------
// Inverse (spec §6), robust to what a model generates: rows of different lengths, stray TABs,
// a stream cut in the middle of an image.

export interface DecodedImage {
  width: number;
  height: number;
  /** height × width colour ids; short rows padded with the background colour, long rows cut. */
  ids: number[][];
  /** The lengths of the rows as they came, before padding/cutting. */
  rowLengths: number[];
  /** The "(H, W)" text right before the image, if there was one. */
  declared: { height: number; width: number } | null;
  /** Rows of unequal length, or a row count different from the declared height. */
  ragged: boolean;
}

export interface DecodedSequence {
  images: DecodedImage[];
  /** Every LF-terminated (or cut) text segment, in order, shape prefixes included. */
  texts: string[];
  /** The text segments that are not the shape prefix of an image, joined with LF. */
  caption: string;
}

const BACKGROUND_ID = FIRST_PIXEL_ID + BACKGROUND_PALETTE_INDEX;
const SHAPE_RE = /^\((\d+), (\d+)\)$/;

/**
 * Token ids (a dataset sequence, or the centre stream of generated windows: see `centresOf`)
 * back to images and text. Structure, not index gaps, delimits an image: pixels start one, TAB
 * ends a row, LF (or any other byte) ends the image. Width = the declared W of a preceding
 * "(H, W)" text, else the most frequent row length (ties → the longer); height = rows seen.
 */
export function sequenceToImageAndText(ids: ArrayLike<number>): DecodedSequence {
  const images: DecodedImage[] = [];
  const texts: string[] = [];
  const shapeTextIndex = new Set<number>(); // texts[] entries consumed as shape prefixes
  let text: number[] = [];
  let rows: number[][] | null = null;
  let row: number[] = [];
  let lastTextWasShape = false; // a shape text is only a prefix if the image follows at once

  const endText = (): void => {
    texts.push(idsToText(text));
    lastTextWasShape = SHAPE_RE.test(texts[texts.length - 1]);
    text = [];
  };
  const endImage = (): void => {
    if (row.length) rows!.push(row);
    row = [];
    let declared: DecodedImage['declared'] = null;
    if (lastTextWasShape) {
      const m = SHAPE_RE.exec(texts[texts.length - 1])!;
      declared = { height: Number(m[1]), width: Number(m[2]) };
      shapeTextIndex.add(texts.length - 1);
    }
    images.push(assembleImage(rows!, declared));
    rows = null;
    lastTextWasShape = false;
  };

  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || !(isPixelId(id) || isByteId(id))) throw new RangeError(`id ${id} at position ${i} is outside the vocabulary 0..112`);
    if (isPixelId(id)) {
      if (!rows) {
        if (text.length) endText(); // text cut without its LF
        rows = [];
      }
      row.push(id);
    } else if (rows) {
      if (id === TAB_ID) {
        if (row.length) rows.push(row); // a doubled TAB makes no empty row
        row = [];
      } else {
        endImage();
        if (id !== LF_ID) text.push(id); // a byte right after pixels: the image ended without LF
      }
    } else if (id === LF_ID) {
      endText();
    } else {
      if (text.length === 0) lastTextWasShape = false;
      text.push(id);
    }
  }
  if (rows) endImage();
  if (text.length) endText();
  const caption = texts.filter((_, k) => !shapeTextIndex.has(k)).join('\n');
  return { images, texts, caption };
}

function assembleImage(rows: number[][], declared: DecodedImage['declared']): DecodedImage {
  const rowLengths = rows.map((r) => r.length);
  let width = declared?.width ?? 0;
  if (!width) {
    const freq = new Map<number, number>();
    for (const n of rowLengths) freq.set(n, (freq.get(n) ?? 0) + 1);
    let bestCount = 0;
    for (const [n, c] of freq) if (c > bestCount || (c === bestCount && n > width)) [width, bestCount] = [n, c];
  }
  const ids = rows.map((r) => Array.from({ length: width }, (_, x) => (x < r.length ? r[x] : BACKGROUND_ID)));
  const ragged = rowLengths.some((n) => n !== width) || (declared !== null && declared.height !== rows.length);
  return { width, height: rows.length, ids, rowLengths, declared, ragged };
}
