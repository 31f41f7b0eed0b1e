import { describe, expect, it } from 'vitest';
import { kmeans } from '../../data-tools/kmeans.js';
import { PixelateError, autoCrop, compositeOverWhite, greyOf, imageToIds, kmeansQuantize, pixelate, resizeNearest, targetSize, type RgbImage } from '../../data-tools/pixelate.js';
import { decodePng } from '../../data-tools/png.js';
import { encodeRawPng } from './png-helpers.js';

const rgbImage = (width: number, height: number, at: (x: number, y: number) => number[]): RgbImage => ({
  width, height, data: Uint8Array.from({ length: width * height * 3 }, (_, i) => at(Math.floor(i / 3) % width, Math.floor(i / 3 / width))[i % 3]),
});

describe('pixelation steps (spec §1.2)', () => {
  it('composites alpha over white: rgb·a + 255·(1 − a), rounded', () => {
    const rgba = { width: 4, height: 1, data: Uint8Array.from([10, 20, 30, 255, 10, 20, 30, 0, 0, 0, 0, 128, 200, 100, 0, 51]) };
    // 0·128/255 + 255·127/255 = 127; 200·0.2 + 255·0.8 = 244; 100·0.2 + 204 = 224; 0 + 204 = 204
    expect(Array.from(compositeOverWhite(rgba).data)).toEqual([10, 20, 30, 255, 255, 255, 127, 127, 127, 244, 224, 204]);
  });

  it('computes OpenCV grey with the original channel swap', () => {
    expect(greyOf(255, 255, 255)).toBe(255);
    expect(greyOf(240, 240, 240)).toBe(240);
    // (R·1868 + G·9617 + B·4899 + 8192) >> 14: blue weighs 0.299 here, red 0.114
    expect(greyOf(0, 0, 255)).toBe(76);
    expect(greyOf(255, 0, 0)).toBe(29);
  });

  it('crops to the largest 8-connected non-background region', () => {
    // 10×8 white; a 3×3 blob joined diagonally to a 1×2 bar (8-connected: one region of 11),
    // and a separate 2×2 blob (4 pixels) that the crop cuts away.
    const dark = new Set(['1,1', '2,1', '3,1', '1,2', '2,2', '3,2', '1,3', '2,3', '3,3', '4,4', '4,5', '8,6', '9,6', '8,7', '9,7']);
    const img = rgbImage(10, 8, (x, y) => (dark.has(`${x},${y}`) ? [30, 30, 30] : [250, 250, 250]));
    expect(autoCrop(img)).toEqual({ box: { x: 1, y: 1, width: 4, height: 5 }, lostForeground: 4 });
    // grey 241 is background, 240 is not
    const faint = rgbImage(3, 3, (x, y) => (x === 1 && y === 1 ? [240, 240, 240] : [241, 241, 241]));
    expect(autoCrop(faint).box).toEqual({ x: 1, y: 1, width: 1, height: 1 });
    expect(() => autoCrop(rgbImage(3, 3, () => [241, 241, 241]))).toThrow(PixelateError);
  });

  it('sizes the longest side to 25 with the aspect rule, in float arithmetic', () => {
    expect(targetSize(90, 80)).toEqual({ width: 22, height: 25 }); // portrait: Bulbasaur's 22 × 25
    expect(targetSize(56, 69)).toEqual({ width: 25, height: 20 }); // 56·25/69 = 20.29
    expect(targetSize(40, 40)).toEqual({ width: 25, height: 25 });
    expect(targetSize(10, 8)).toEqual({ width: 20, height: 25 }); // small images grow
    // 117·(25/195) is 14.999999999999998 in doubles (Python too): int() gives 14, not 15
    expect(targetSize(195, 117)).toEqual({ width: 14, height: 25 });
    expect(targetSize(1, 300)).toEqual({ width: 25, height: 1 }); // never 0 px
  });

  it('resizes like OpenCV INTER_NEAREST (source = floor(dst·src/dst))', () => {
    const row = rgbImage(5, 1, (x) => [x * 10, 0, 0]);
    expect(Array.from(resizeNearest(row, 2, 1).data.filter((_, i) => i % 3 === 0))).toEqual([0, 20]); // ×2.5: 0, 2
    const two = rgbImage(2, 1, (x) => [x * 10, 0, 0]);
    expect(Array.from(resizeNearest(two, 5, 1).data.filter((_, i) => i % 3 === 0))).toEqual([0, 0, 0, 10, 10]); // 0, .4, .8, 1.2, 1.6
  });
});

describe('k-means(55) pre-stage, seeded', () => {
  const gradient = rgbImage(40, 30, (x, y) => [x * 6, y * 8, (x * y) % 256]);

  it('is deterministic for a seed and leaves ≤ 55 colours', () => {
    const a = kmeansQuantize(gradient, 55, 1), b = kmeansQuantize(gradient, 55, 1);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const colours = new Set<number>();
    for (let p = 0; p < 40 * 30; p++) colours.add((a.data[p * 3] << 16) | (a.data[p * 3 + 1] << 8) | a.data[p * 3 + 2]);
    expect(colours.size).toBeLessThanOrEqual(55);
    expect(colours.size).toBeGreaterThan(40);
  });

  it('keeps an image with fewer colours than clusters as it is', () => {
    const few = rgbImage(6, 6, (x, y) => [[255, 0, 0], [0, 128, 255], [12, 200, 40]][(x + y) % 3]);
    expect(Array.from(kmeansQuantize(few, 55, 9).data)).toEqual(Array.from(few.data));
  });

  it('finds two obvious clusters', () => {
    const pts = Float64Array.from([0, 0, 0, 1, 0, 0, 0, 1, 0, 100, 100, 100, 101, 100, 100]);
    const r = kmeans(pts, Float64Array.from([1, 1, 1, 1, 1]), { k: 2, seed: 3 });
    expect(r.labels[0]).toBe(r.labels[1]);
    expect(r.labels[0]).toBe(r.labels[2]);
    expect(r.labels[3]).toBe(r.labels[4]);
    expect(r.labels[0]).not.toBe(r.labels[3]);
    // centroid (1/3, 1/3, 0): squared distances 2/9 + 5/9 + 5/9; centroid (100.5, 100, 100): 1/4 + 1/4
    expect(r.compactness).toBeCloseTo(12 / 9 + 0.5, 9);
  });
});

describe('the full pipeline', () => {
  // A 69×56 palette + tRNS "sprite": transparent background, a 40×30 block with a 1-px black
  // border and red inside, and a 2-px speck far away that the crop drops.
  const palette: [number, number, number][] = [[0, 0, 0], [0, 0, 0], [230, 20, 30], [90, 90, 200]];
  const pixels = Array.from({ length: 56 }, (_, y) => Array.from({ length: 69 }, (_, x) => {
    if (x >= 10 && x < 50 && y >= 12 && y < 42) return [x === 10 || x === 49 || y === 12 || y === 41 ? 1 : 2];
    if (y === 50 && (x === 60 || x === 61)) return [3];
    return [0];
  }));
  const sprite = decodePng(encodeRawPng({ width: 69, height: 56, colorType: 3, bitDepth: 8, palette, trns: [0], pixels }));

  it('crops, resizes to 25 × 18 and maps to palette ids', () => {
    const out = pixelate(sprite);
    expect(out.crop).toEqual({ x: 10, y: 12, width: 40, height: 30 });
    expect(out.lostForeground).toBe(2);
    expect([out.width, out.height]).toEqual([25, 18]); // 30·25/40 = 18.75 → 18
    expect(out.ids).toHaveLength(18);
    // Two nearest-neighbour passes: 40×30 → 50×36 → 25×18, so small (x, y) reads crop pixel
    // (floor(2x·0.8), floor(2y·(30/36))): row 0 and column 0 hit the black border (58), the last
    // row and column read crop row 28 / column 38, inside the block. Inside: (230, 20, 30), Lab
    // (48.79, 72.59, 52.34) → #f83800 (54.86, 69.68, 66.99) at ΔE 16.1 (palette 27, id 85) before
    // #a81000 at 21.2.
    const red = 85;
    expect(out.ids[0]).toEqual(Array(25).fill(58));
    expect(out.ids.map((row) => row[0])).toEqual(Array(18).fill(58));
    expect(out.ids[17]).toEqual([58, ...Array(24).fill(red)]);
    expect(out.ids.map((row) => row[24])).toEqual([58, ...Array(17).fill(red)]);
    expect(out.ids.slice(1).every((row) => row.slice(1).every((id) => id === red))).toBe(true);
  });

  it('gives the same answer with k-means on (few colours) and is deterministic', () => {
    expect(pixelate(sprite, { kmeans: true, seed: 5 }).ids).toEqual(pixelate(sprite).ids);
  });

  it('takes an already pixelated image as it is without --pixelate', () => {
    const ids = imageToIds(sprite);
    expect([ids.length, ids[0].length]).toEqual([56, 69]);
    expect(ids[0][0]).toBe(59); // transparent → white → #fcfcfc
    expect(ids[12][10]).toBe(58);
  });
});
