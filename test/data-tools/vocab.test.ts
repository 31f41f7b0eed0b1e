import { describe, expect, it } from 'vitest';
import { TOKENS, tokenRepr } from '../../data-tools/tokens.js';
import { BYTE_TOKENS, FIRST_PIXEL_ID, LF_ID, PAD_ID, SPACE_ID, TAB_ID, VOCAB_SIZE, byteToId, idToByte, idsToText, isByteId, isPixelId, textToIds } from '../../data-tools/vocab.js';
import { PALETTE } from '../../data-tools/palette.js';

describe('vocabulary (spec §2.1)', () => {
  it('has 113 ids: 58 bytes then 55 colours', () => {
    expect(VOCAB_SIZE).toBe(113);
    expect(BYTE_TOKENS).toHaveLength(58);
    expect(TOKENS).toHaveLength(113);
    expect(new Set(BYTE_TOKENS).size).toBe(58);
    expect(TOKENS.filter((t) => t.kind === 'byte')).toHaveLength(58);
    expect(TOKENS.slice(58).every((t, k) => t.kind === 'pixel' && t.paletteIndex === k && t.rgb === PALETTE[k])).toBe(true);
  });

  it('puts every byte at the id of the spec table', () => {
    // Written out from spec §2.1: id → character.
    const table: [number, string][] = [
      [0, '\0'], [1, '\t'], [2, '\n'], [3, ' '], [4, '"'], [5, "'"], [6, '('], [7, ')'], [8, '*'], [9, ','], [10, '-'], [11, '+'], [12, '.'],
      [13, '0'], [22, '9'], [23, '\u00c2'], [24, '\u00a0'], [25, ':'], [26, '['], [27, ']'], [28, ';'], [29, '/'], [30, '%'], [31, '!'], [32, 'a'], [45, 'n'], [57, 'z'],
    ];
    for (const [id, ch] of table) {
      expect(idToByte(id), `id ${id}`).toBe(ch.charCodeAt(0));
      expect(byteToId(ch.charCodeAt(0))).toBe(id);
    }
    expect([PAD_ID, TAB_ID, LF_ID, SPACE_ID, FIRST_PIXEL_ID]).toEqual([0, 1, 2, 3, 58]);
    expect(isByteId(57) && !isByteId(58) && isPixelId(58) && isPixelId(112) && !isPixelId(113) && !isPixelId(57)).toBe(true);
  });

  it('tokenizes the shape text of Bulbasaur as the spec says', () => {
    expect(textToIds('(25, 22)')).toEqual([6, 15, 18, 9, 3, 15, 15, 7]);
    expect(idsToText([6, 15, 18, 9, 3, 15, 15, 7])).toBe('(25, 22)');
  });

  it('names the character that is not in the vocabulary', () => {
    expect(() => textToIds('pokémon')).toThrow(/"é".*U\+00E9.*offset 3/);
    expect(() => textToIds('Abc')).toThrow(/"A"/);
    expect(() => textToIds('why?')).toThrow(/"\?"/);
    expect(() => idToByte(58)).toThrow(/not a byte token/);
  });

  it('writes a readable form of every id', () => {
    expect(tokenRepr(2)).toBe('\\n');
    expect(tokenRepr(32)).toBe('a');
    expect(tokenRepr(59)).toBe('#fcfcfc');
    expect(tokenRepr(112)).toBe('#787878');
    expect(() => tokenRepr(113)).toThrow(/outside/);
  });
});
