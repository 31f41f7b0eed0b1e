import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDataset, composeCaption, formatReport, groupSkips, loadDataset, recordWindows, splitSpecies } from '../../data-tools/dataset.js';
import { decodePng } from '../../data-tools/png.js';
import { imageToIds } from '../../data-tools/pixelate.js';
import { buildSequence } from '../../data-tools/sequence.js';
import { keyOf, loadNpmSource, type SourceData } from '../../data-tools/sources.js';
import { rgbaPng } from './png-helpers.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'pxb-ds-'));

describe('caption balance (issue item 6)', () => {
  it('adds distinct folded entries until text tokens ≥ ratio × image tokens', () => {
    // 2×2 image: image tokens 2·3 = 6; shape "(2, 2)" + LF = 7 tokens; target 2 × 6 = 12.
    // "ab" → 7 + 2 + 1 = 10 < 12; "Ab" folds to "ab" (duplicate, skipped); "ab cd" → 13 ≥ 12: stop.
    expect(composeCaption(['ab', 'Ab', 'cd', 'ef'], 2, 2, 2)).toEqual({ caption: 'ab cd', used: 2, distinct: 3, textTokens: 13 });
    // ratio 0: one entry; entries running out: all of them
    expect(composeCaption(['ab', 'cd'], 2, 2, 0).caption).toBe('ab');
    expect(composeCaption(['ab', 'cd'], 2, 2, 50)).toMatchObject({ caption: 'ab cd', used: 2 });
  });

  it('counts dropped characters of the entries it uses only', () => {
    const dropped = new Map<string, number>();
    composeCaption(['x°', 'y°°'], 1, 1, 0, dropped);
    expect([...dropped]).toEqual([['°', 1]]);
  });
});

describe('train/test split (issue item 7)', () => {
  it('is a seeded 90/10 partition by species', () => {
    const ids = Array.from({ length: 807 }, (_, k) => k + 1);
    const a = splitSpecies(ids, 42, 0.1);
    expect(a.test).toHaveLength(81);
    expect(a.train).toHaveLength(726);
    expect([...a.train, ...a.test].sort((x, y) => x - y)).toEqual(ids);
    expect(splitSpecies([...ids].reverse(), 42, 0.1)).toEqual(a);
    expect(splitSpecies(ids, 43, 0.1).test).not.toEqual(a.test);
    expect(splitSpecies([5, 9], 1, 0.1).test).toHaveLength(1);
  });
});

/** A small source: 5 species with generated sprites, one corrupt PNG, one blank image. */
function tinySource(dir: string): SourceData {
  const sprite = (hue: number) => rgbaPng(20, 16, (x, y) => (x > 3 && x < 16 && y > 2 && y < 14 ? [hue, 255 - hue, (x * 20) % 256, 255] : [0, 0, 0, 0]));
  const items = [1, 2, 3, 4, 5, 6, 7].map((id) => {
    const imagePath = join(dir, `${keyOf(id)}.png`);
    if (id === 4) writeFileSync(imagePath, sprite(10).subarray(0, 60)); // truncated
    else if (id === 6) writeFileSync(imagePath, rgbaPng(4, 4, () => [255, 255, 255, 255])); // nothing to crop
    else writeFileSync(imagePath, sprite(id * 40));
    return { id, key: keyOf(id), names: { en: `Mon${id}`, fr: `Mon${id}é` }, imagePath, entries: [`Entry one of #${id}.`, `Entry one of #${id}.`, `Second entry, it’s “${id}” °C.`] };
  });
  return { description: 'test source', items, skipped: [{ id: 8, key: '0008', reason: 'no sprite' }] };
}

describe('dataset build', () => {
  it('builds records, reports skips by file, writes deterministic bytes, loads back', () => {
    const src = tmp();
    const source = tinySource(src);
    const out1 = join(tmp(), 'ds'), out2 = join(tmp(), 'ds');
    const { report } = buildDataset({ out: out1, sourceData: source, seed: 3, testFraction: 0.2 });
    buildDataset({ out: out2, sourceData: source, seed: 3, testFraction: 0.2 });
    expect(report.counts).toEqual({ candidates: 8, built: 5, skipped: 3 });
    expect(report.skipped.map((s) => s.key)).toEqual(['0004', '0006', '0008']);
    expect(report.skipped[0].reason.startsWith(`${join(src, '0004.png')}: corrupt or truncated PNG (`)).toBe(true);
    expect(report.skipped[1].reason).toMatch(/0006\.png: no foreground/);
    expect(report.droppedCharacters).toEqual([{ char: '#', codePoint: 'U+0023', count: 5 }, { char: '°', codePoint: 'U+00B0', count: 5 }]);
    expect(report.split).toEqual({ train: 4, test: 1 });

    // same inputs → identical bytes, and no staging directory left behind
    const files = readdirSync(out1, { recursive: true }).map(String).sort();
    expect(files).toEqual(readdirSync(out2, { recursive: true }).map(String).sort());
    expect(files).toEqual(expect.arrayContaining(['manifest.json', 'records.jsonl', 'tokens.bin', 'split.json', 'report.json', 'images/0001.png']));
    for (const f of files.filter((f) => f.includes('.'))) expect(readFileSync(join(out1, f)).equals(readFileSync(join(out2, f))), f).toBe(true);
    expect(readdirSync(join(out1, '..'))).toEqual(['ds']);

    const ds = loadDataset(out1);
    expect(ds.records.map((r) => r.id)).toEqual([1, 2, 3, 5, 7]);
    expect(ds.split.test.map((r) => r.id)).toHaveLength(1);
    expect([...ds.split.train, ...ds.split.test].map((r) => r.id).sort()).toEqual([1, 2, 3, 5, 7]);
    const r = ds.records[0];
    // duplicate entry dropped; '#' and '°' are not in the vocabulary; ’ “ ” mapped to ASCII
    expect(r.caption).toBe('entry one of 1. second entry, it\'s "1" c.');
    expect(r.names).toEqual({ en: 'Mon1', fr: 'Mon1é' });
    // the PNG holds the same pixels as the token ids; windows rebuild from the record
    expect(imageToIds(decodePng(readFileSync(join(out1, r.image))))).toEqual(r.imageIds);
    const seq = buildSequence(r.imageIds, r.caption);
    expect(Array.from(r.ids)).toEqual(Array.from(seq.ids));
    expect(Array.from(recordWindows(r))).toEqual(Array.from(seq.windows));
    expect(r.length).toBe(r.ids.length);
    expect(r.textTokens + r.imageTokens).toBe(r.length);
  });

  it('rejects a damaged tokens.bin or records.jsonl when loading', () => {
    const out = join(tmp(), 'ds');
    buildDataset({ out, sourceData: tinySource(tmp()) });
    const original = readFileSync(join(out, 'tokens.bin'));
    const tokens = Buffer.from(original);
    tokens[20] = tokens[20] === 58 ? 59 : 58; // one pixel
    writeFileSync(join(out, 'tokens.bin'), tokens);
    expect(() => loadDataset(out)).toThrow(/tokens\.bin: sha256 differs/);
    writeFileSync(join(out, 'tokens.bin'), original);
    expect(loadDataset(out).records).toHaveLength(5);
    const records = readFileSync(join(out, 'records.jsonl'), 'utf8');
    writeFileSync(join(out, 'records.jsonl'), records.replace('"caption":"entry one of 1.', '"caption":"entry one of 2.'));
    expect(() => loadDataset(out)).toThrow(/record #0001: tokens.bin does not match its image and caption/);
    expect(() => loadDataset(join(out, 'nope'))).toThrow(/manifest.json is missing/);
  });

  it('replaces an existing dataset whole', () => {
    const out = join(tmp(), 'ds');
    buildDataset({ out, sourceData: tinySource(tmp()) });
    writeFileSync(join(out, 'stale.txt'), 'old');
    buildDataset({ out, sourceData: tinySource(tmp()), limit: 2 });
    expect(existsSync(join(out, 'stale.txt'))).toBe(false);
    expect(loadDataset(out).records).toHaveLength(2);
  });

  it('groups consecutive skips with the same reason in the printed report', () => {
    const skips = [808, 809, 810, 812].map((id) => ({ id, key: keyOf(id), reason: 'no text' }));
    expect(groupSkips(skips)).toEqual(['#0808–#0810 (3): no text', '#0812: no text']);
  });
});

describe('the npm source (offline: node_modules)', () => {
  it('has 807 species with both a sprite and English text, 98 sprites without text', () => {
    const src = loadNpmSource('en');
    expect(src.items).toHaveLength(807);
    expect(src.skipped).toHaveLength(98);
    expect(src.skipped[0]).toMatchObject({ id: 808, reason: 'no en Pokédex entry in pokedex@1.1.0' });
    expect(src.items[0]).toMatchObject({ id: 1, key: '0001', names: { en: 'Bulbasaur', fr: 'Bulbizarre' } });
    expect(src.items[0].imagePath).toMatch(/pokesprite-images[/\\]pokemon-gen8[/\\]regular[/\\]bulbasaur\.png$/);
    // game order: Red/Blue's entry comes first
    expect(src.items[0].entries[0].replace(/\s+/g, ' ')).toBe('A strange seed was planted on its back at birth. The plant sprouts and grows with this POKéMON.');
    expect(loadNpmSource('fr').items).toHaveLength(807);
  });

  it('builds the first species end to end with the ratio report', () => {
    const out = join(tmp(), 'ds');
    const { report } = buildDataset({ out, limit: 12, lang: 'fr' });
    expect(report.counts.built).toBe(12);
    expect(report.tokens.textPerImage).toBeGreaterThan(0.2);
    const text = formatReport(report, out);
    expect(text).toMatch(/species: 12 built, 98 skipped, of 110 \(--limit 12\)/);
    expect(text).toMatch(/#0808–#0905 \(98\): no fr Pokédex entry/);
    expect(text).toMatch(/text\/image \d\.\d{3} \(target 2\)/);
    const first = loadDataset(out).records[0];
    expect(first.caption).toMatch(/^au matin de sa vie/);
    expect(first.caption).toMatch(/^[a-z0-9 "'(),\-+.*:;[\]/%!]+$/);
  });
});
