import { describe, expect, it } from 'vitest';
import { idsToRgba, imageToIds } from '../../data-tools/pixelate.js';
import { decodePng, encodePng } from '../../data-tools/png.js';
import { mulberry32 } from '../../data-tools/rng.js';
import { buildSequence, centresOf, nestedWindows, sequenceToImageAndText } from '../../data-tools/sequence.js';

/** [[ul, u, ur], [l, self, 0], [0, 0, 0]] as the flat 9 cells. */
const w = (ul: number, u: number, ur: number, l: number, self: number): number[] => [ul, u, ur, l, self, 0, 0, 0, 0];

function randomImage(seed: number, maxSide = 25): number[][] {
  const rng = mulberry32(seed);
  const h = 1 + Math.floor(rng() * maxSide), wd = 1 + Math.floor(rng() * maxSide);
  return Array.from({ length: h }, () => Array.from({ length: wd }, () => 58 + Math.floor(rng() * 55)));
}

describe('sequence constructor (spec §2.2–2.3)', () => {
  it('tokenizes a hand-made 2×2 image with a caption, ids and windows written by hand', () => {
    const seq = buildSequence([[58, 59], [60, 61]], 'ab');
    // "(2, 2)" LF | 58 59 TAB | 60 61 LF | a b LF
    expect(Array.from(seq.ids)).toEqual([6, 15, 9, 3, 15, 7, 2, 58, 59, 1, 60, 61, 2, 32, 33, 2]);
    expect(seq.imageStart).toBe(7);
    expect(seq.captionStart).toBe(13);
    const expected = [
      // shape text: a one-row array, only [left, self]; the first character has left = 0
      w(0, 0, 0, 0, 6), w(0, 0, 0, 6, 15), w(0, 0, 0, 15, 9), w(0, 0, 0, 9, 3), w(0, 0, 0, 3, 15), w(0, 0, 0, 15, 7), w(0, 0, 0, 7, 2),
      // image row 0 (top row outside the array → 0; the first pixel has no left neighbour)
      w(0, 0, 0, 0, 58), w(0, 0, 0, 58, 59), w(0, 0, 0, 59, 1),
      // image row 1: up-right of the last pixel is row 0's TAB; the LF sees (59, TAB, 0) above it
      w(0, 58, 59, 0, 60), w(58, 59, 1, 60, 61), w(59, 1, 0, 61, 2),
      // caption: no context crosses the segment boundary
      w(0, 0, 0, 0, 32), w(0, 0, 0, 32, 33), w(0, 0, 0, 33, 2),
    ];
    expect(Array.from(seq.windows)).toEqual(expected.flat());
  });

  it('tokenizes a hand-made 3×1 image with an empty caption', () => {
    const seq = buildSequence([[70], [80], [90]], '');
    expect(Array.from(seq.ids)).toEqual([6, 16, 9, 3, 14, 7, 2, 70, 1, 80, 1, 90, 2, 2]);
    expect(nestedWindows(seq.windows).slice(7)).toEqual([
      [[0, 0, 0], [0, 70, 0], [0, 0, 0]],
      [[0, 0, 0], [70, 1, 0], [0, 0, 0]],
      [[0, 70, 1], [0, 80, 0], [0, 0, 0]],
      [[70, 1, 0], [80, 1, 0], [0, 0, 0]],
      [[0, 80, 1], [0, 90, 0], [0, 0, 0]],
      [[80, 1, 0], [90, 2, 0], [0, 0, 0]],
      [[0, 0, 0], [0, 2, 0], [0, 0, 0]], // the caption is just its LF
    ]);
  });

  it('has length (len(shape)+1) + H·(W+1) + (len(caption)+1), zeros in the future cells', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const img = randomImage(seed);
      const caption = 'a caption, (with) 12 numbers!'.slice(0, seed);
      const seq = buildSequence(img, caption);
      const shape = `(${img.length}, ${img[0].length})`;
      expect(seq.ids.length).toBe(shape.length + 1 + img.length * (img[0].length + 1) + caption.length + 1);
      expect(seq.windows.length).toBe(seq.ids.length * 9);
      for (let i = 0; i < seq.ids.length; i++) {
        expect(seq.windows[i * 9 + 4]).toBe(seq.ids[i]);
        expect([5, 6, 7, 8].map((c) => seq.windows[i * 9 + c])).toEqual([0, 0, 0, 0]);
      }
    }
  });

  it('rejects what is not an image or not a folded caption, naming the culprit', () => {
    expect(() => buildSequence([[58, 59], [60]], 'x')).toThrow(/row 1 has 1 ids, row 0 has 2/);
    expect(() => buildSequence([[58, 3]], 'x')).toThrow(/image id 3 at row 0, column 1/);
    expect(() => buildSequence([], 'x')).toThrow(/empty/);
    expect(() => buildSequence([[58]], 'Upper')).toThrow(/"U"/);
    expect(() => buildSequence([[58]], [32, 2])).toThrow(/caption id 2 at offset 1/);
  });
});

describe('inverse: tokens → image and text (spec §6)', () => {
  it('gives back the image and caption of any sequence (image → tokens → image)', () => {
    for (let seed = 100; seed < 140; seed++) {
      const img = randomImage(seed);
      const seq = buildSequence(img, 'hello world');
      const back = sequenceToImageAndText(seq.ids);
      expect(back.images).toHaveLength(1);
      expect(back.images[0].ids).toEqual(img);
      expect(back.images[0].ragged).toBe(false);
      expect(back.images[0].declared).toEqual({ height: img.length, width: img[0].length });
      expect(back.caption).toBe('hello world');
      expect(back.texts).toEqual([`(${img.length}, ${img[0].length})`, 'hello world']);
      // and from the windows' centre stream
      expect(sequenceToImageAndText(centresOf(seq.windows)).images[0].ids).toEqual(img);
      expect(Array.from(centresOf(nestedWindows(seq.windows)))).toEqual(Array.from(seq.ids));
    }
  });

  it('goes through a PNG and back to the same ids', () => {
    const img = randomImage(3);
    const png = encodePng(idsToRgba(img));
    expect(imageToIds(decodePng(png))).toEqual(img);
  });

  it('is robust to ragged rows: most frequent width, short rows padded with the background', () => {
    // no shape prefix; rows of 3, 3, 2, 4 pixels; a doubled TAB; then a caption
    const ids = [60, 61, 62, 1, 63, 64, 65, 1, 1, 66, 67, 1, 68, 69, 70, 71, 2, 32, 33, 2];
    const back = sequenceToImageAndText(ids);
    expect(back.images[0]).toMatchObject({ width: 3, height: 4, rowLengths: [3, 3, 2, 4], ragged: true, declared: null });
    expect(back.images[0].ids).toEqual([[60, 61, 62], [63, 64, 65], [66, 67, 59], [68, 69, 70]]);
    expect(back.caption).toBe('ab');
  });

  it('uses the declared width, and handles a stream cut in the middle of an image', () => {
    const ids = [6, 15, 9, 3, 16, 7, 2, 60, 61, 1, 62, 63, 64, 65, 1, 66];
    const back = sequenceToImageAndText(ids);
    expect(back.images[0]).toMatchObject({ width: 3, height: 3, declared: { height: 2, width: 3 }, ragged: true, rowLengths: [2, 4, 1] });
    expect(back.images[0].ids).toEqual([[60, 61, 59], [62, 63, 64], [66, 59, 59]]);
    expect(back.caption).toBe('');
  });

  it('ends an image at a stray byte and keeps that byte as text; splits several images', () => {
    const back = sequenceToImageAndText([60, 61, 1, 62, 63, 32, 33, 2, 70, 71, 72, 2]);
    expect(back.images.map((i) => i.ids)).toEqual([[[60, 61], [62, 63]], [[70, 71, 72]]]);
    expect(back.texts).toEqual(['ab']);
    expect(() => sequenceToImageAndText([58, 113])).toThrow(/id 113 at position 1/);
  });
});
