import { describe, expect, it } from 'vitest';
import { buildSequence, LF_ID } from '../../data-tools/index.js';
import { makeBatch, sampleRefs, type Row } from '../../models/common/windows.js';
import { WindowStream, textWindows } from '../../models/common/context.js';
import { fixtureRows, SPRITES } from './fixtures.js';

const toyRow = (L: number): Row => {
  const ids = Int32Array.from({ length: L }, (_, i) => 10 + i);
  const windows = new Int32Array(L * 9);
  for (let i = 0; i < L; i++) { windows[i * 9 + 4] = ids[i]; windows[i * 9 + 3] = i ? ids[i - 1] : 0; }
  return { ids, windows };
};

describe('training samples (spec §2.4)', () => {
  it('starts 0, s, 2s, … < L per row', () => {
    expect(sampleRefs([toyRow(10), toyRow(3)], 4)).toEqual([{ row: 0, start: 0 }, { row: 0, start: 4 }, { row: 0, start: 8 }, { row: 1, start: 0 }]);
  });

  it('last: T circular windows, one target = centre of window start+T (mod L)', () => {
    const rows = [toyRow(10)];
    const b = makeBatch(rows, [{ row: 0, start: 8 }], 4, 'last');
    expect(Array.from({ length: 4 }, (_, t) => b.windows[t * 9 + 4])).toEqual([18, 19, 10, 11]);
    expect(Array.from(b.targets)).toEqual([12]);
  });

  it('dense: every position predicts the next centre (mod L)', () => {
    const rows = [toyRow(10)];
    const b = makeBatch(rows, [{ row: 0, start: 7 }, { row: 0, start: 0 }], 4, 'dense');
    expect(Array.from(b.targets)).toEqual([18, 19, 10, 11, 11, 12, 13, 14]);
    // the last objective's target is the dense target of the last position
    const l = makeBatch(rows, [{ row: 0, start: 7 }], 4, 'last');
    expect(l.targets[0]).toBe(b.targets[3]);
  });

  it('a row shorter than T wraps several times', () => {
    const b = makeBatch([toyRow(3)], [{ row: 0, start: 2 }], 5, 'last');
    expect(Array.from({ length: 5 }, (_, t) => b.windows[t * 9 + 4])).toEqual([12, 10, 11, 12, 10]);
    expect(b.targets[0]).toBe(11);
  });
});

describe('window rebuild during generation (spec §2.5)', () => {
  const rows = fixtureRows();

  it('fed the true centres after a prompt, reproduces the dataset windows (circular, every start)', () => {
    const P = 16;
    for (const row of rows) {
      const L = row.ids.length;
      for (let start = 0; start < L; start++) {
        const idx = Array.from({ length: P + 3 * L }, (_, k) => (start + k) % L);
        const prompt = new Int32Array(P * 9);
        idx.slice(0, P).forEach((j, k) => prompt.set(row.windows.subarray(j * 9, j * 9 + 9), k * 9));
        const s = new WindowStream(prompt);
        for (const j of idx.slice(P)) {
          const w = s.push(row.ids[j]);
          expect(w, `row ${row.key} start ${start} pos ${j}`).toEqual(Array.from(row.windows.subarray(j * 9, j * 9 + 9)));
        }
      }
    }
  });

  it('the original rule (fixWrap off) differs only at the caption LF → "(" wrap', () => {
    const row = rows[0];
    const L = row.ids.length;
    const idx = Array.from({ length: 3 * L }, (_, k) => (20 + k) % L);
    const prompt = new Int32Array(16 * 9);
    idx.slice(0, 16).forEach((j, k) => prompt.set(row.windows.subarray(j * 9, j * 9 + 9), k * 9));
    const s = new WindowStream(prompt, { fixWrap: false });
    const diffs: number[] = [];
    for (const j of idx.slice(16)) {
      const w = s.push(row.ids[j]);
      if (w.join() !== Array.from(row.windows.subarray(j * 9, j * 9 + 9)).join()) {
        diffs.push(j);
        expect(w[3]).toBe(LF_ID); // left = the caption's LF; the dataset has 0
      }
    }
    expect(new Set(diffs)).toEqual(new Set([0]));
  });

  it('a text prompt + LF continues into "(H, W)" and the image exactly as the dataset (text → image)', () => {
    const { image, caption } = SPRITES[1];
    const seq = buildSequence(image, caption);
    const capIds = Array.from(seq.ids.subarray(seq.captionStart, seq.ids.length - 1));
    const prompt = textWindows(capIds);
    expect(Array.from(prompt)).toEqual(Array.from(seq.windows.subarray(seq.captionStart * 9)));
    const s = new WindowStream(prompt);
    for (let j = 0; j < seq.captionStart; j++) expect(s.push(seq.ids[j])).toEqual(Array.from(seq.windows.subarray(j * 9, j * 9 + 9)));
  });

  it('free generation from nothing starts with a bare window', () => {
    const s = new WindowStream();
    expect(s.push(6)).toEqual([0, 0, 0, 0, 6, 0, 0, 0, 0]);
    expect(s.push(13)).toEqual([0, 0, 0, 6, 13, 0, 0, 0, 0]);
  });
});

describe('structured decoding', () => {
  it('keeps "(H, W)", H rows of W pixels and a caption well-formed', async () => {
    const { StructureGuide } = await import('../../models/common/generate.js');
    const { textToIds, TAB_ID: TAB, LF_ID: LF } = await import('../../data-tools/index.js');
    const g = new StructureGuide('shape', 25);
    const d = (c: string) => textToIds(c)[0];
    const step = (t: number) => { expect(g.allowed().has(t), `id ${t}`).toBe(true); g.push(t); };
    expect([...g.allowed()]).toEqual([d('(')]);
    step(d('('));
    expect(g.allowed().has(d('0'))).toBe(false);                 // no leading zero
    step(d('2'));
    expect(g.allowed().has(d('5'))).toBe(true);
    expect(g.allowed().has(d('6'))).toBe(false);                 // 26 > max side 25
    step(d(','));
    expect([...g.allowed()]).toEqual([d(' ')]);
    step(d(' ')); step(d('3'));
    expect(g.allowed().has(d(')'))).toBe(true);
    step(d(')'));
    expect([...g.allowed()]).toEqual([LF]);
    step(LF);                                                    // "(2, 3)": 2 rows of 3 pixels
    for (let r = 0; r < 2; r++) {
      for (let c = 0; c < 3; c++) { expect(g.allowed().has(TAB)).toBe(false); step(60 + c); }
      expect([...g.allowed()]).toEqual([r === 0 ? TAB : LF]);
      step(r === 0 ? TAB : LF);
    }
    expect(g.allowed().has(LF)).toBe(false);                     // a caption has at least one byte
    expect(g.allowed().has(60)).toBe(false);                     // and no pixels
    step(d('a'));
    step(LF);                                                    // then a new shape text
    expect([...g.allowed()]).toEqual([d('(')]);
  });
});
