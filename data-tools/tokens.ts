/** The whole vocabulary as a table (id ↔ token), joining vocab.ts (bytes) and palette.ts (colours). */
import { PALETTE, tokenIdToRgb, type Rgb } from './palette.js';
import { BYTE_TOKENS, FIRST_PIXEL_ID, VOCAB_SIZE, idToByte, isByteId, isPixelId } from './vocab.js';

export type TokenInfo =
  | { id: number; kind: 'byte'; byte: number; repr: string }
  | { id: number; kind: 'pixel'; paletteIndex: number; rgb: Rgb; repr: string };

/** A readable form of any id: the byte JSON-escaped ("\n", "a"), or the colour as #rrggbb. */
export function tokenRepr(id: number): string {
  if (isByteId(id)) return JSON.stringify(String.fromCharCode(idToByte(id))).slice(1, -1);
  if (isPixelId(id)) return '#' + tokenIdToRgb(id).map((c) => c.toString(16).padStart(2, '0')).join('');
  throw new RangeError(`token id ${id} is outside the vocabulary 0..${VOCAB_SIZE - 1}`);
}

export const TOKENS: readonly TokenInfo[] = [
  ...BYTE_TOKENS.map((byte, id): TokenInfo => ({ id, kind: 'byte', byte, repr: tokenRepr(id) })),
  ...PALETTE.map((rgb, paletteIndex): TokenInfo => ({ id: FIRST_PIXEL_ID + paletteIndex, kind: 'pixel', paletteIndex, rgb, repr: tokenRepr(FIRST_PIXEL_ID + paletteIndex) })),
];
