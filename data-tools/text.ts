/**
 * Caption folding to the 58-byte vocabulary (spec §1.1 "Text normalisation", DATASET.md §8):
 * typographic marks mapped to ASCII first (NFKD does not decompose them, so a plain ASCII fold
 * would silently turn "it’s" into "its"), then NFKD, combining marks stripped, lowercase.
 * Whatever is still outside the vocabulary is dropped AND counted, so the build can report it.
 */
import { isVocabChar } from './vocab.js';

/** Characters NFKD leaves alone but that have an obvious ASCII spelling. */
const ASCII_MAP: Readonly<Record<string, string>> = {
  '\u2018': "'", '\u2019': "'", '\u201a': "'", '\u201b': "'", '\u2032': "'", '`': "'", '\u00b4': "'",
  '\u201c': '"', '\u201d': '"', '\u201e': '"', '\u2033': '"', '\u00ab': '"', '\u00bb': '"',
  '\u2010': '-', '\u2011': '-', '\u2012': '-', '\u2013': '-', '\u2014': '-', '\u2015': '-', '\u2212': '-',
  '\u0153': 'oe', '\u0152': 'oe', '\u00e6': 'ae', '\u00c6': 'ae', '\u00df': 'ss', '\u00f8': 'o', '\u00d8': 'o',
};

/**
 * Line breaks (the game's text boxes), form feeds (page breaks), tabs and the no-break spaces of
 * French typography become a space: TAB and LF are structural tokens and must never occur inside a
 * caption. U+E07F is a private-use character the npm CSV has where PokeAPI has U+202F.
 */
const SPACE_LIKE = /[\s\u00a0\u202f\u2007\u2009\u200a\ue07f]/gu;
/** Soft hyphen and zero-width characters join what was split: remove them. */
const INVISIBLE = /[\u00ad\u200b\u200c\u200d\u2060\ufeff]/gu;
const COMBINING = /\p{M}/gu;

/** Dropped characters → count, accumulated over many captions for the build report. */
export type DropCounts = Map<string, number>;

/** Fold one text to the vocabulary; `dropped` (if given) is incremented for every dropped character. */
export function foldText(raw: string, dropped?: DropCounts): string {
  let s = raw.replace(INVISIBLE, '').replace(SPACE_LIKE, ' ');
  s = s.normalize('NFKD');
  s = s.replace(/[^\u0000-\u007f]/gu, (c) => ASCII_MAP[c] ?? c);
  s = s.replace(COMBINING, '').toLowerCase();
  let out = '';
  for (const ch of s) {
    // Printable only: NUL, TAB and LF are in the vocabulary but are structure, not caption text.
    if (ch >= ' ' && ch <= '~' && isVocabChar(ch)) out += ch;
    else if (dropped) dropped.set(ch, (dropped.get(ch) ?? 0) + 1);
  }
  return out.replace(/ {2,}/g, ' ').trim();
}

/** A readable line for the build report: `'°' U+00B0 ×85, '?' U+003F ×4`. */
export function describeDrops(dropped: DropCounts): string {
  if (dropped.size === 0) return 'none';
  return [...dropped.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([ch, n]) => `${JSON.stringify(ch)} U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} ×${n}`)
    .join(', ');
}
