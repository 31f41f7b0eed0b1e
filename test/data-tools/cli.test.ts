import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dataCommand, tokenizeCommand } from '../../data-tools/cli.js';
import { readPng } from '../../data-tools/png.js';
import { rgbaPng } from './png-helpers.js';

let out: string[] = [];
let err: string[] = [];
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
});
afterEach(() => vi.restoreAllMocks());

const dir = mkdtempSync(join(tmpdir(), 'pxb-cli-'));
const write = (name: string, bytes: Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

describe('pixelbytes tokenize', () => {
  // 2×2, already palette colours: #000000 #fcfcfc / #f8f8f8 #bcbcbc
  const tiny = write('tiny.png', rgbaPng(2, 2, (x, y) => [[[0, 0, 0, 255], [252, 252, 252, 255]], [[248, 248, 248, 255], [188, 188, 188, 255]]][y][x] as [number, number, number, number]));

  it('prints ids and windows as JSON, hand-checked', async () => {
    expect(await tokenizeCommand([tiny, '--caption', 'Ab', '--json'])).toBe(0);
    const { ids, windows } = JSON.parse(out.join('\n'));
    expect(ids).toEqual([6, 15, 9, 3, 15, 7, 2, 58, 59, 1, 60, 61, 2, 32, 33, 2]);
    expect(windows).toHaveLength(16);
    expect(windows[11]).toEqual([[58, 59, 1], [60, 61, 0], [0, 0, 0]]);
    expect(windows[14]).toEqual([[0, 0, 0], [32, 33, 0], [0, 0, 0]]);
  });

  it('runs the full pipeline with --pixelate and reports dropped caption characters', async () => {
    const sprite = write('sprite.png', rgbaPng(68, 56, (x, y) => (x >= 20 && x < 40 && y >= 10 && y < 50 ? [40, 40, 200, 255] : [0, 0, 0, 0])));
    expect(await tokenizeCommand([sprite, '--pixelate', '--caption', 'Très ? bien', '--json'])).toBe(0);
    const { ids } = JSON.parse(out.join('\n'));
    // 20 wide × 40 high → portrait: 12 × 25 ("(25, 12)")
    expect(ids.slice(0, 9)).toEqual([6, 15, 18, 9, 3, 14, 15, 7, 2]);
    expect(ids).toHaveLength(9 + 25 * 13 + 'tres bien'.length + 1);
    expect(err.join('\n')).toMatch(/dropped: "\?" U\+003F ×1/);
  });

  it('fails clearly: missing file, corrupt PNG, bad usage', async () => {
    expect(await tokenizeCommand([join(dir, 'nope.png')])).toBe(1);
    expect(err.pop()).toMatch(/nope\.png: no such file/);
    const broken = write('broken.png', rgbaPng(4, 4, () => [1, 2, 3, 255]).subarray(0, 50));
    expect(await tokenizeCommand([broken, '--json'])).toBe(1);
    expect(err.pop()).toMatch(/broken\.png: corrupt or truncated PNG/);
    expect(await tokenizeCommand(['--json'])).toBe(2);
    expect(await tokenizeCommand([tiny, '--bogus'])).toBe(2);
    expect(err.pop()).toMatch(/Unknown option '--bogus'/);
    expect(await tokenizeCommand([tiny, '--kmeans'])).toBe(2);
  });
});

describe('pixelbytes data', () => {
  it('prints help and refuses unknown subcommands and values', async () => {
    expect(await dataCommand(['--help'])).toBe(0);
    expect(out.join('\n')).toMatch(/usage: pixelbytes data <build\|scrape\|preview\|decode>/);
    expect(await dataCommand(['frobnicate'])).toBe(2);
    expect(await dataCommand(['build', '--lang', 'de'])).toBe(2);
    expect(err.pop()).toMatch(/--lang "de": expected one of en, fr/);
    expect(await dataCommand(['build', '--text-ratio', 'lots'])).toBe(2);
    expect(await dataCommand(['scrape', '--site', 'wikipedia', '--out', dir])).toBe(2);
    expect(await dataCommand(['scrape', '--site', 'pokepedia', '--out', dir, '--delay-ms', '10'])).toBe(2);
    expect(err.pop()).toMatch(/--delay-ms "10": expected a number ≥ 1000/);
  });

  it('builds, previews and decodes', async () => {
    const ds = join(dir, 'ds');
    expect(await dataCommand(['build', '--limit', '6', '--out', ds])).toBe(0);
    const report = out.join('\n');
    expect(report).toMatch(/species: 6 built, 98 skipped/);
    expect(report).toMatch(/text\/image/);
    out = [];
    expect(await dataCommand(['preview', '--dataset', ds, '--cols', '3'])).toBe(0);
    const sheet = readPng(join(ds, 'preview.png'));
    expect(sheet.width).toBe(3 * (25 * 8 + 16));
    expect(sheet.height).toBe(2 * (25 * 8 + 24 + 15));

    const ids = write('ids.json', Buffer.from(JSON.stringify({ ids: [6, 15, 9, 3, 15, 7, 2, 58, 59, 1, 60, 61, 2, 32, 33, 2] })));
    out = [];
    expect(await dataCommand(['decode', ids, '--out', join(dir, 'decoded.png')])).toBe(0);
    expect(out).toEqual([`image 1: 2×2 → ${join(dir, 'decoded.png')}`, 'text: "ab"']);
    expect(Array.from(readPng(join(dir, 'decoded.png')).data.subarray(0, 8))).toEqual([0, 0, 0, 255, 252, 252, 252, 255]);
    expect(existsSync(join(dir, 'decoded.png'))).toBe(true);
  });
});
