import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { PngError, decodePng, encodePng, readPng } from '../../data-tools/png.js';
import { encodeRawPng, rgbaPng } from './png-helpers.js';

const px = (img: { width: number; data: Uint8Array }, x: number, y: number): number[] => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));

describe('PNG decoding: every variant → 8-bit RGBA', () => {
  it('RGBA 8-bit', () => {
    const img = decodePng(rgbaPng(2, 1, (x) => (x ? [1, 2, 3, 4] : [250, 128, 0, 255])));
    expect([px(img, 0, 0), px(img, 1, 0)]).toEqual([[250, 128, 0, 255], [1, 2, 3, 4]]);
  });

  it('RGBA 16-bit, rescaled to 8 bits', () => {
    const png = encodeRawPng({ width: 1, height: 1, colorType: 6, bitDepth: 16, pixels: [[[65535, 32896, 257, 0]]] });
    expect(px(decodePng(png), 0, 0)).toEqual([255, 128, 1, 0]);
  });

  it('RGB 8-bit, with and without a tRNS transparent colour', () => {
    const pixels = [[[10, 20, 30], [40, 50, 60]]];
    expect(px(decodePng(encodeRawPng({ width: 2, height: 1, colorType: 2, bitDepth: 8, pixels })), 1, 0)).toEqual([40, 50, 60, 255]);
    const img = decodePng(encodeRawPng({ width: 2, height: 1, colorType: 2, bitDepth: 8, pixels, trns: [40, 50, 60] }));
    expect([px(img, 0, 0)[3], px(img, 1, 0)[3]]).toEqual([255, 0]);
  });

  it('palette + tRNS (8-bit, a shorter alpha table than the palette)', () => {
    const palette: [number, number, number][] = [[0, 0, 0], [255, 0, 0], [0, 255, 0]];
    const png = encodeRawPng({ width: 3, height: 1, colorType: 3, bitDepth: 8, palette, trns: [0, 128], pixels: [[[0], [1], [2]]] });
    const img = decodePng(png);
    expect([px(img, 0, 0), px(img, 1, 0), px(img, 2, 0)]).toEqual([[0, 0, 0, 0], [255, 0, 0, 128], [0, 255, 0, 255]]);
  });

  it('palette at 4 bits per pixel, odd width', () => {
    const palette: [number, number, number][] = Array.from({ length: 16 }, (_, k) => [k * 16, 255 - k * 16, 7]);
    const pixels = [[[15], [0], [9]], [[1], [2], [3]]];
    const img = decodePng(encodeRawPng({ width: 3, height: 2, colorType: 3, bitDepth: 4, palette, pixels }));
    expect([px(img, 0, 0), px(img, 2, 0), px(img, 1, 1)]).toEqual([[240, 15, 7, 255], [144, 111, 7, 255], [32, 223, 7, 255]]);
  });

  it('grey + alpha, 8- and 16-bit', () => {
    expect(px(decodePng(encodeRawPng({ width: 1, height: 1, colorType: 4, bitDepth: 8, pixels: [[[77, 200]]] })), 0, 0)).toEqual([77, 77, 77, 200]);
    expect(px(decodePng(encodeRawPng({ width: 1, height: 1, colorType: 4, bitDepth: 16, pixels: [[[0x8080, 0xffff]]] })), 0, 0)).toEqual([128, 128, 128, 255]);
  });

  it('grey 1-bit and grey 8-bit with a tRNS grey', () => {
    const one = decodePng(encodeRawPng({ width: 9, height: 1, colorType: 0, bitDepth: 1, pixels: [[[1], [0], [1], [1], [0], [0], [0], [0], [1]]] }));
    expect(Array.from({ length: 9 }, (_, x) => px(one, x, 0)[0])).toEqual([255, 0, 255, 255, 0, 0, 0, 0, 255]);
    const grey = decodePng(encodeRawPng({ width: 2, height: 1, colorType: 0, bitDepth: 8, trns: [9], pixels: [[[9], [10]]] }));
    expect([px(grey, 0, 0), px(grey, 1, 0)]).toEqual([[0, 0, 0, 0], [10, 10, 10, 255]]);
  });

  it('an odd size (69×56, like one npm sprite), palette + tRNS, interlaced too', () => {
    const palette: [number, number, number][] = [[255, 255, 255], [200, 40, 40], [0, 0, 0]];
    const pixels = Array.from({ length: 56 }, (_, y) => Array.from({ length: 69 }, (_, x) => [(x * 7 + y * 3) % 3]));
    for (const interlace of [false, true]) {
      const img = decodePng(encodeRawPng({ width: 69, height: 56, colorType: 3, bitDepth: 8, palette, trns: [0], pixels, interlace }));
      expect([img.width, img.height]).toEqual([69, 56]);
      for (const [x, y] of [[0, 0], [68, 55], [33, 17], [1, 54]]) {
        const k = pixels[y][x][0];
        expect(px(img, x, y), `${x},${y} interlace ${interlace}`).toEqual([...palette[k], k === 0 ? 0 : 255]);
      }
    }
  });
});

describe('corrupt PNGs are reported with their file name', () => {
  const good = rgbaPng(8, 8, (x, y) => [x * 30, y * 30, 0, 255]);

  it('truncated, bad CRC, not a PNG, empty', () => {
    expect(() => decodePng(good.subarray(0, good.length - 30), 'sprites/0042.png')).toThrow(/^sprites\/0042\.png: corrupt or truncated PNG/);
    const badCrc = Buffer.from(good);
    badCrc[30] ^= 0xff; // inside the IHDR chunk
    expect(() => decodePng(badCrc, 'x.png')).toThrow(PngError);
    expect(() => decodePng(Buffer.from('GIF89a....'), 'cat.gif')).toThrow('cat.gif: not a PNG (bad signature)');
    expect(() => decodePng(Buffer.alloc(0), 'empty.png')).toThrow('empty.png: empty file, not a PNG');
  });

  it('readPng names a missing file and a truncated file on disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pxb-png-'));
    const path = join(dir, 'cut.png');
    writeFileSync(path, good.subarray(0, 40));
    expect(() => readPng(path)).toThrow(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: corrupt`));
    expect(() => readPng(join(dir, 'nope.png'))).toThrow(/nope\.png: no such file/);
  });
});

describe('PNG encoding', () => {
  it('writes 8-bit RGB, same pixels → same bytes, decodable', () => {
    const img = { width: 3, height: 2, data: Uint8Array.from({ length: 24 }, (_, i) => (i % 4 === 3 ? 255 : i * 10)) };
    const a = encodePng(img), b = encodePng({ ...img, data: img.data.slice() });
    expect(a.equals(b)).toBe(true);
    const meta = PNG.sync.read(a);
    expect([meta.colorType, meta.depth]).toEqual([2, 8]);
    expect(Array.from(decodePng(a).data)).toEqual(Array.from(img.data));
  });
});
