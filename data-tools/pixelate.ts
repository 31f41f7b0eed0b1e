/**
 * Pixelation (spec §1.2, the Aug-20 code that made the published images): alpha over white,
 * auto-crop to the largest non-background region, longest side 25 px by nearest-neighbour in two
 * passes (2× the target, then the target), optional seeded k-means(55) in Lab between the passes,
 * then every pixel to its nearest palette colour in CIELAB (spec §1.3–1.4).
 */
import { kmeans } from './kmeans.js';
import { PALETTE, labToRgb, nearestColorId, rgbToLab, tokenIdToRgb } from './palette.js';
import type { RgbaImage } from './png.js';

export const MAX_SIDE = 25;
/** Grey level above which a pixel is background (spec §1.2 step 2). */
export const BACKGROUND_GREY = 240;

/** An 8-bit RGB image, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PixelateOptions {
  maxSide?: number;
  /** Run the k-means(55) pre-stage of the original (spec §1.2 step 5); off by default. */
  kmeans?: boolean;
  seed?: number;
}

export interface Pixelated {
  width: number;
  height: number;
  /** height × width token ids (58..112). */
  ids: number[][];
  crop: Box;
  /** Foreground pixels outside the crop (other regions than the largest), for the build report. */
  lostForeground: number;
}

/** The image has nothing to crop to (all background), so it cannot be pixelated. */
export class PixelateError extends Error {
  override name = 'PixelateError';
}

/** Step 1: out = rgb·a + 255·(1 − a), a = alpha/255, rounded to 8 bits. */
export function compositeOverWhite(img: RgbaImage): RgbImage {
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const a = img.data[p * 4 + 3] / 255;
    for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.min(255, Math.max(0, Math.round(img.data[p * 4 + c] * a + 255 * (1 - a))));
  }
  return { width: img.width, height: img.height, data: out };
}

/**
 * OpenCV's 8-bit BGR2GRAY (fixed point, 14 bits). The original applied it to RGB data, so the
 * weight meant for blue lands on red: kept, since it decides which pixels count as background.
 */
export function greyOf(r: number, g: number, b: number): number {
  return (r * 1868 + g * 9617 + b * 4899 + 8192) >> 14;
}

/**
 * Step 2: bounding box of the largest 8-connected region of non-background pixels (grey ≤ 240),
 * the region OpenCV's external contours + max contourArea pick. Area is the pixel count here;
 * ties go to the region met first in raster order. Throws PixelateError when all is background.
 */
export function autoCrop(img: RgbImage): { box: Box; lostForeground: number } {
  const { width: w, height: h, data } = img;
  const fg = new Uint8Array(w * h);
  let totalFg = 0;
  for (let p = 0; p < w * h; p++) {
    if (greyOf(data[p * 3], data[p * 3 + 1], data[p * 3 + 2]) <= BACKGROUND_GREY) {
      fg[p] = 1;
      totalFg++;
    }
  }
  if (totalFg === 0) throw new PixelateError(`no foreground: every pixel is lighter than grey ${BACKGROUND_GREY} after compositing over white`);
  const seen = new Uint8Array(w * h);
  const stack: number[] = [];
  let best: { count: number; box: Box } | undefined;
  for (let start = 0; start < w * h; start++) {
    if (!fg[start] || seen[start]) continue;
    let count = 0, x0 = w, y0 = h, x1 = -1, y1 = -1;
    seen[start] = 1;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % w, y = (p - x) / w;
      count++;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
          const q = ny * w + nx;
          if (fg[q] && !seen[q]) {
            seen[q] = 1;
            stack.push(q);
          }
        }
      }
    }
    if (!best || count > best.count) best = { count, box: { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 } };
  }
  const box = best!.box;
  let inside = 0;
  for (let y = box.y; y < box.y + box.height; y++) for (let x = box.x; x < box.x + box.width; x++) inside += fg[y * w + x];
  return { box, lostForeground: totalFg - inside };
}

export function cropRgb(img: RgbImage, box: Box): RgbImage {
  const out = new Uint8Array(box.width * box.height * 3);
  for (let y = 0; y < box.height; y++) {
    const from = ((box.y + y) * img.width + box.x) * 3;
    out.set(img.data.subarray(from, from + box.width * 3), y * box.width * 3);
  }
  return { width: box.width, height: box.height, data: out };
}

/**
 * Step 3, from the CROPPED size: scale = 25/max(h, w); short = int(min(h, w)·scale) (float
 * arithmetic as in Python, then floor); portrait → short × 25, otherwise 25 × short (w × h).
 * A sliver thinner than one pixel after scaling is kept 1 px wide (the original would crash).
 */
export function targetSize(height: number, width: number, maxSide = MAX_SIDE): { width: number; height: number } {
  const scale = maxSide / Math.max(height, width);
  const short = Math.max(1, Math.trunc(Math.min(height, width) * scale));
  return height > width ? { width: short, height: maxSide } : { width: maxSide, height: short };
}

/** OpenCV INTER_NEAREST: source index = min(floor(dst · (1 / (dst_size / src_size))), src_size − 1). */
export function resizeNearest(img: RgbImage, width: number, height: number): RgbImage {
  const ifx = 1 / (width / img.width), ify = 1 / (height / img.height);
  const xs = Array.from({ length: width }, (_, x) => Math.min(Math.floor(x * ifx), img.width - 1));
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(Math.floor(y * ify), img.height - 1);
    for (let x = 0; x < width; x++) {
      const s = (sy * img.width + xs[x]) * 3, d = (y * width + x) * 3;
      out[d] = img.data[s];
      out[d + 1] = img.data[s + 1];
      out[d + 2] = img.data[s + 2];
    }
  }
  return { width, height, data: out };
}

/**
 * Step 5: k-means with K = 55 (the palette size) on the pixels in CIELAB; every pixel becomes its
 * centre, brought back to 8-bit sRGB. Distinct colours are clustered with their pixel counts as
 * weights (same optimum, much faster). Deviations from the original, which used OpenCV's 8-bit
 * Lab on channel-swapped data and random centres: float skimage Lab, seeded k-means++.
 */
export function kmeansQuantize(img: RgbImage, k: number, seed: number): RgbImage {
  const n = img.width * img.height;
  const index = new Map<number, number>();
  const pixelColour = new Int32Array(n);
  const colours: number[] = [];
  for (let p = 0; p < n; p++) {
    const key = (img.data[p * 3] << 16) | (img.data[p * 3 + 1] << 8) | img.data[p * 3 + 2];
    let c = index.get(key);
    if (c === undefined) {
      c = colours.length;
      index.set(key, c);
      colours.push(key);
    }
    pixelColour[p] = c;
  }
  const points = new Float64Array(colours.length * 3);
  const weights = new Float64Array(colours.length);
  colours.forEach((key, c) => points.set(rgbToLab(key >> 16, (key >> 8) & 255, key & 255), c * 3));
  for (let p = 0; p < n; p++) weights[pixelColour[p]]++;
  const { centres, labels } = kmeans(points, weights, { k, seed });
  const centreRgb = Array.from({ length: centres.length / 3 }, (_, j) => labToRgb(centres[j * 3], centres[j * 3 + 1], centres[j * 3 + 2]));
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) out.set(centreRgb[labels[pixelColour[p]]], p * 3);
  return { width: img.width, height: img.height, data: out };
}

/** Step 7: every pixel → token id of its nearest palette colour (CIELAB, CIE76). */
export function quantizeToIds(img: RgbImage): number[][] {
  const ids: number[][] = [];
  for (let y = 0; y < img.height; y++) {
    const row: number[] = [];
    for (let x = 0; x < img.width; x++) {
      const p = (y * img.width + x) * 3;
      row.push(nearestColorId(img.data[p], img.data[p + 1], img.data[p + 2]));
    }
    ids.push(row);
  }
  return ids;
}

/** An image taken as already pixelated: alpha over white, then nearest colour; no crop, no resize. */
export function imageToIds(img: RgbaImage): number[][] {
  return quantizeToIds(compositeOverWhite(img));
}

/** The full pipeline (steps 1–7). */
export function pixelate(img: RgbaImage, opts: PixelateOptions = {}): Pixelated {
  const white = compositeOverWhite(img);
  const { box, lostForeground } = autoCrop(white);
  const cropped = cropRgb(white, box);
  const target = targetSize(cropped.height, cropped.width, opts.maxSide ?? MAX_SIDE);
  let big = resizeNearest(cropped, target.width * 2, target.height * 2);
  if (opts.kmeans) big = kmeansQuantize(big, PALETTE.length, opts.seed ?? 0);
  const small = resizeNearest(big, target.width, target.height);
  return { width: target.width, height: target.height, ids: quantizeToIds(small), crop: box, lostForeground };
}

/** Token-id grid → opaque RGBA image in palette colours (for PNG output and previews). */
export function idsToRgba(ids: readonly (readonly number[])[]): RgbaImage {
  const height = ids.length, width = height ? ids[0].length : 0;
  const data = new Uint8Array(width * height * 4);
  ids.forEach((row, y) => {
    if (row.length !== width) throw new RangeError(`row ${y} has ${row.length} pixels, row 0 has ${width}: an image must be rectangular`);
    row.forEach((id, x) => {
      data.set(tokenIdToRgb(id), (y * width + x) * 4);
      data[(y * width + x) * 4 + 3] = 255;
    });
  });
  return { width, height, data };
}
