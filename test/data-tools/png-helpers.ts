/**
 * Test-only PNG writer that can produce every variant the decoder must read (pngjs' own
 * packer writes only 8/16-bit grey, grey+alpha, RGB and RGBA, never palette, tRNS, low bit
 * depths or interlacing). Chunks, CRC and Adam7 follow the PNG specification (ISO 15948).
 */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** Samples per pixel of each PNG colour type. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export interface RawPngSpec {
  width: number;
  height: number;
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  /** pixels[y][x] = the samples of that pixel (palette index for type 3). */
  pixels: number[][][];
  palette?: [number, number, number][];
  /** Palette alphas (type 3), or the transparent grey [g] / colour [r, g, b] (types 0, 2). */
  trns?: number[];
  interlace?: boolean;
}

/** Pack one row of samples, MSB first for depths below 8, big-endian for 16 (filter type 0). */
function packRow(samples: number[], depth: number): Buffer {
  const bits = samples.length * depth;
  const out = Buffer.alloc(1 + Math.ceil(bits / 8)); // out[0] = filter "None"
  if (depth === 16) samples.forEach((s, i) => out.writeUInt16BE(s, 1 + 2 * i));
  else if (depth === 8) samples.forEach((s, i) => (out[1 + i] = s));
  else samples.forEach((s, i) => (out[1 + Math.floor((i * depth) / 8)] |= s << (8 - depth - ((i * depth) % 8))));
  return out;
}

const ADAM7 = [
  [0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2],
] as const; // [x0, y0, dx, dy]

export function encodeRawPng(spec: RawPngSpec): Buffer {
  const { width, height, colorType, bitDepth } = spec;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  ihdr[12] = spec.interlace ? 1 : 0;
  const rows: Buffer[] = [];
  const passes = spec.interlace ? ADAM7 : ([[0, 0, 1, 1]] as const);
  for (const [x0, y0, dx, dy] of passes) {
    for (let y = y0; y < height; y += dy) {
      const samples: number[] = [];
      for (let x = x0; x < width; x += dx) {
        const px = spec.pixels[y][x];
        if (px.length !== CHANNELS[colorType]) throw new Error(`pixel ${x},${y} has ${px.length} samples, colour type ${colorType} needs ${CHANNELS[colorType]}`);
        samples.push(...px);
      }
      if (samples.length) rows.push(packRow(samples, bitDepth));
    }
  }
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (spec.palette) parts.push(chunk('PLTE', Buffer.from(spec.palette.flat())));
  if (spec.trns) {
    const t = colorType === 3 ? Buffer.from(spec.trns) : Buffer.alloc(spec.trns.length * 2);
    if (colorType !== 3) spec.trns.forEach((v, i) => t.writeUInt16BE(v, 2 * i));
    parts.push(chunk('tRNS', t));
  }
  parts.push(chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

/** An 8-bit RGBA PNG from a function of (x, y). */
export function rgbaPng(width: number, height: number, at: (x: number, y: number) => [number, number, number, number]): Buffer {
  return encodeRawPng({ width, height, colorType: 6, bitDepth: 8, pixels: Array.from({ length: height }, (_, y) => Array.from({ length: width }, (_, x) => at(x, y))) });
}
