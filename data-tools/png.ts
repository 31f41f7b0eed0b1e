/**
 * PNG in and out through pngjs. Decoding normalises every variant the sources contain (RGBA,
 * RGB, palette with or without tRNS, grey with or without alpha, 1/2/4/8/16-bit, interlaced) to
 * 8-bit RGBA; errors name the file at fault. Encoding writes 8-bit RGB, deterministic bytes.
 */
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';

/** 8-bit RGBA, row-major, 4 bytes per pixel. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A PNG that could not be read, with the file (or label) it came from. */
export class PngError extends Error {
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'PngError';
  }
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Decode a PNG held in memory; `file` only names it in errors. */
export function decodePng(bytes: Uint8Array, file = '<png>'): RgbaImage {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < SIGNATURE.length || !buf.subarray(0, 8).equals(SIGNATURE)) {
    throw new PngError(file, buf.length === 0 ? 'empty file, not a PNG' : 'not a PNG (bad signature)');
  }
  let png: PNG;
  try {
    // 16-bit samples are rescaled to 8 bits (round(v·255/65535)); palette and tRNS are expanded.
    png = PNG.sync.read(buf);
  } catch (err) {
    throw new PngError(file, `corrupt or truncated PNG (${(err as Error).message})`);
  }
  const { width, height, data } = png;
  if (!(width > 0 && height > 0) || data.length !== width * height * 4) {
    throw new PngError(file, `decoded ${data.length} bytes for ${width}×${height}, expected ${width * height * 4}`);
  }
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Read and decode a PNG file. */
export function readPng(path: string): RgbaImage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new PngError(path, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message);
  }
  return decodePng(bytes, path);
}

/** Encode as 8-bit RGB (alpha dropped) or RGBA. Same pixels → same bytes. */
export function encodePng(image: RgbaImage, opts: { alpha?: boolean } = {}): Buffer {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png, { colorType: opts.alpha ? 6 : 2, inputColorType: 6, inputHasAlpha: true, bitDepth: 8 });
}

/** An opaque RGBA image from an RGB triple per pixel. */
export function rgbaFromPixels(width: number, height: number, rgbAt: (x: number, y: number) => readonly [number, number, number]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = rgbAt(x, y);
      const o = (y * width + x) * 4;
      data[o] = r;
      data[o + 1] = g;
      data[o + 2] = b;
      data[o + 3] = 255;
    }
  }
  return { width, height, data };
}
