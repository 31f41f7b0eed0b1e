/**
 * The 113-token PixelBytes vocabulary (spec §2.1): ids 0..57 are bytes, ids 58..112 are the 55
 * palette colours (spec §1.3). There is no BOS/EOS/UNK: id 0 (NUL) doubles as the padding value
 * of the 3×3 windows (spec §7.1).
 */
export const VOCAB_SIZE = 113;
export const PAD_ID = 0; // NUL byte, also "outside the array" in windows
export const TAB_ID = 1; // image row separator
export const LF_ID = 2; // end of every segment (shape text, image, caption)
export const SPACE_ID = 3;
export const FIRST_PIXEL_ID = 58;
export const LAST_PIXEL_ID = 112;
export const NUM_BYTE_TOKENS = 58;

/**
 * Byte values of ids 0..57, in id order (spec §2.1). 0xC2 and 0xA0 (ids 23, 24) are the UTF-8
 * bytes of a no-break space, a relic of the original's French text; folding never produces them.
 */
export const BYTE_TOKENS: readonly number[] = [
  0x00, 0x09, 0x0a, 0x20,
  ...[...'"\'()*,-+.'].map((c) => c.charCodeAt(0)),
  ...[...'0123456789'].map((c) => c.charCodeAt(0)),
  0xc2, 0xa0,
  ...[...':[];/%!'].map((c) => c.charCodeAt(0)),
  ...[...'abcdefghijklmnopqrstuvwxyz'].map((c) => c.charCodeAt(0)),
];

const BYTE_TO_ID: ReadonlyMap<number, number> = new Map(BYTE_TOKENS.map((b, id) => [b, id]));

/** Id of one byte value, or undefined when the byte is not in the vocabulary. */
export function byteToId(byte: number): number | undefined {
  return BYTE_TO_ID.get(byte);
}

/** Byte value of a byte id (0..57). */
export function idToByte(id: number): number {
  const b = BYTE_TOKENS[id];
  if (!Number.isInteger(id) || b === undefined) throw new RangeError(`token id ${id} is not a byte token (0..${NUM_BYTE_TOKENS - 1})`);
  return b;
}

export function isPixelId(id: number): boolean {
  return id >= FIRST_PIXEL_ID && id <= LAST_PIXEL_ID;
}

export function isByteId(id: number): boolean {
  return id >= 0 && id < NUM_BYTE_TOKENS;
}

/** Whether one character (a single UTF-16 unit) is a byte of the vocabulary. */
export function isVocabChar(ch: string): boolean {
  return ch.length === 1 && BYTE_TO_ID.has(ch.charCodeAt(0)) && ch.charCodeAt(0) < 0x80;
}

/**
 * Ids of an ASCII string whose every character is in the vocabulary (fold it first with
 * text.ts `foldText`). Throws naming the first character that is not.
 */
export function textToIds(text: string): number[] {
  const ids: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const id = code < 0x80 ? BYTE_TO_ID.get(code) : undefined;
    if (id === undefined) {
      throw new RangeError(`character ${JSON.stringify(text[i])} (U+${code.toString(16).padStart(4, '0').toUpperCase()}) at offset ${i} is not in the PixelBytes vocabulary; fold the text first`);
    }
    ids.push(id);
  }
  return ids;
}

/** Text of byte ids (pixel ids are rejected); bytes are taken as Latin-1 code units. */
export function idsToText(ids: ArrayLike<number>): string {
  let out = '';
  for (let i = 0; i < ids.length; i++) out += String.fromCharCode(idToByte(ids[i]));
  return out;
}
