/**
 * `pixelbytes data preview`: one PNG sheet of a built dataset for a person to look at — every
 * pixelated sprite upscaled (×8 by default) on a dark grid, its national number under it
 * (yellow for test-split species, white for train).
 */
import { tokenIdToRgb } from './palette.js';
import type { LoadedDataset } from './dataset.js';
import type { RgbaImage } from './png.js';

/** 3×5 bitmap digits, one string of 15 bits per digit, row-major. */
const DIGITS = ['111101101101111', '010110010010111', '111001111100111', '111001111001111', '101101111001001', '111100111001111', '111100111101111', '111001001001001', '111101111101111', '111101111001111'];

export interface PreviewOptions {
  scale?: number;
  cols?: number;
  limit?: number;
}

const BG = [48, 48, 48] as const;
const TRAIN_LABEL = [255, 255, 255] as const;
const TEST_LABEL = [255, 214, 0] as const;

export function renderPreview(ds: LoadedDataset, opts: PreviewOptions = {}): RgbaImage {
  const scale = opts.scale ?? 8;
  const records = ds.records.slice(0, opts.limit ?? Infinity);
  if (records.length === 0) throw new Error(`${ds.dir}: the dataset has no records to preview`);
  const cols = Math.min(opts.cols ?? 30, records.length);
  const rows = Math.ceil(records.length / cols);
  const side = Math.max(...records.map((r) => Math.max(r.width, r.height))) * scale;
  const font = Math.max(1, Math.round(scale / 3)); // digit pixel size
  const pad = Math.max(2, scale);
  const cellW = side + 2 * pad, cellH = side + 3 * pad + 5 * font;
  const width = cols * cellW, height = rows * cellH;
  const data = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) data.set([BG[0], BG[1], BG[2], 255], p * 4);
  const fill = (x0: number, y0: number, w: number, h: number, rgb: readonly number[]): void => {
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data.set(rgb, (y * width + x) * 4);
  };
  const testIds = new Set(ds.split.test.map((r) => r.id));
  records.forEach((r, k) => {
    const cx = (k % cols) * cellW, cy = Math.floor(k / cols) * cellH;
    // The sprite, centred in its square.
    const ox = cx + pad + Math.floor((side - r.width * scale) / 2), oy = cy + pad + Math.floor((side - r.height * scale) / 2);
    r.imageIds.forEach((row, y) => row.forEach((id, x) => fill(ox + x * scale, oy + y * scale, scale, scale, tokenIdToRgb(id))));
    // The number, centred under it.
    const label = r.key, colour = testIds.has(r.id) ? TEST_LABEL : TRAIN_LABEL;
    const lx = cx + Math.floor((cellW - (label.length * 4 - 1) * font) / 2), ly = cy + 2 * pad + side;
    [...label].forEach((ch, i) => {
      const bits = DIGITS[Number(ch)] ?? '';
      for (let b = 0; b < bits.length; b++) if (bits[b] === '1') fill(lx + (i * 4 + (b % 3)) * font, ly + Math.floor(b / 3) * font, font, font, colour);
    });
  });
  return { width, height, data };
}
