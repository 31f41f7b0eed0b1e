import { describe, expect, it } from 'vitest';
import { describeDrops, foldText, type DropCounts } from '../../data-tools/text.js';
import { mulberry32 } from '../../data-tools/rng.js';
import { textToIds } from '../../data-tools/vocab.js';

describe('caption folding (lowercase, NFKD, accents stripped)', () => {
  it('lowercases and strips accents', () => {
    expect(foldText('Bulbizarre est un Pokémon de type Plante. À ÉTÉ')).toBe('bulbizarre est un pokemon de type plante. a ete');
  });

  it('maps typographic marks to ASCII instead of dropping them', () => {
    expect(foldText('It’s “strong” — «\u00a0très\u00a0» Œuf – cœur')).toBe('it\'s "strong" - " tres " oeuf - coeur');
  });

  it('turns line breaks, page breaks and special spaces into one space, removes soft hyphens', () => {
    const raw = 'A strange seed was\nplanted on its\fback at birth.\u00a0Bulba\u00adsaur\u202f:\ue07fok\r\n\tend ';
    expect(foldText(raw)).toBe('a strange seed was planted on its back at birth. bulbasaur : ok end');
  });

  it('drops what is still outside the vocabulary and counts it', () => {
    const dropped: DropCounts = new Map();
    expect(foldText('Il fait 25 °C ? Nidoran♀ et Nidoran♂', dropped)).toBe('il fait 25 c nidoran et nidoran');
    expect(foldText('Encore 3 °', dropped)).toBe('encore 3');
    expect([...dropped.entries()].sort()).toEqual([['?', 1], ['°', 2], ['♀', 1], ['♂', 1]]);
    expect(describeDrops(dropped)).toBe('"°" U+00B0 ×2, "?" U+003F ×1, "♀" U+2640 ×1, "♂" U+2642 ×1');
    expect(describeDrops(new Map())).toBe('none');
  });

  it('never keeps NUL, TAB or LF, which are structure', () => {
    const dropped: DropCounts = new Map();
    expect(foldText('a\u0000b\tc\nd', dropped)).toBe('ab c d');
    expect(dropped.get('\u0000')).toBe(1);
  });

  it('always yields text the tokenizer accepts', () => {
    const rng = mulberry32(7);
    const alphabet = 'aZé’“«œ°?\n\t\f\u00ad\u202f\ue07f!%-.,;:0123456789 ñçÅß…½ﬁ♀漢\u0000';
    for (let n = 0; n < 200; n++) {
      const s = Array.from({ length: 30 }, () => alphabet[Math.floor(rng() * alphabet.length)]).join('');
      const folded = foldText(s);
      expect(() => textToIds(folded), JSON.stringify(s)).not.toThrow();
      expect(folded).not.toMatch(/[\0\t\n]| {2}|^ | $/);
    }
  });
});
