/**
 * The commands end to end on a tiny dataset built by the data tools from the fixture sprites:
 * train (1 epoch, tiny model) → generate (species: text → image, completion, image → caption) →
 * eval (paper protocol, perplexity, BLEU, SSIM) → train --resume; and the usage errors.
 */
import { describe, expect, it, vi } from 'vitest';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildDataset, encodePng, idsToRgba } from '../../data-tools/index.js';
import { evalCommand, generateCommand, trainCommand } from '../../models/cli.js';
import { SPRITES } from './fixtures.js';
import { tmp } from './helpers.js';

function fixtureDataset(): string {
  const dir = tmp('ds');
  const src = join(dir, 'src');
  mkdirSync(src);
  const items = SPRITES.map((s, k) => {
    const imagePath = join(src, `${k + 1}.png`);
    writeFileSync(imagePath, encodePng(idsToRgba(s.image)));
    return { id: k + 1, key: String(k + 1).padStart(4, '0'), names: { en: `mon${k + 1}`, fr: `mon${k + 1}` }, imagePath, entries: [s.caption] };
  });
  buildDataset({ out: join(dir, 'data'), sourceData: { description: 'fixture', items, skipped: [] }, testFraction: 0.25, textRatio: 0 });
  return join(dir, 'data');
}

describe('pixelbytes train / generate / eval', () => {
  const data = fixtureDataset();
  const run = join(tmp('run'), 'r');
  const tiny = ['--family', 'rnn', '--uni', '--dim', '18', '--state', '16', '--depth', '1', '--seq', '16', '--batch', '8', '--data', data];
  const quiet = () => { vi.spyOn(console, 'log').mockImplementation(() => {}); vi.spyOn(process.stderr, 'write').mockImplementation(() => true); };

  it('train writes the run directory', async () => {
    quiet();
    expect(await trainCommand([...tiny, '--objective', 'dense', '--epochs', '1', '--eval-every', '1', '--out', run])).toBe(0);
    for (const f of ['metrics.csv', 'training.svg', 'best/model.safetensors', 'last/optimizer.safetensors']) expect(existsSync(join(run, f)), f).toBe(true);
    vi.restoreAllMocks();
  });

  it('train --resume continues to more epochs', async () => {
    quiet();
    expect(await trainCommand([...tiny, '--objective', 'dense', '--epochs', '2', '--eval-every', '1', '--out', run, '--resume'])).toBe(0);
    expect(readFileSync(join(run, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(',')[0])).toEqual(['epoch', '0', '1', '2']);
    vi.restoreAllMocks();
  });

  it('generate writes PNG, text and HTML (species, text, image, free)', async () => {
    quiet();
    const out = join(run, 'gen');
    expect(await generateCommand(['--checkpoint', run, '--species', '1', '--structured', '--out', out])).toBe(0);
    for (const f of ['index.html', 'result.txt', 'text_to_image.png', 'completion.png']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toMatch(/data:image\/png;base64,/);
    expect(await generateCommand(['--checkpoint', run, '--text', 'a red ball', '--temperature', '0.8', '--top-k', '5', '--seed', '3', '--max-tokens', '50', '--out', join(run, 'g2')])).toBe(0);
    expect(await generateCommand(['--checkpoint', join(run, 'last'), '--max-tokens', '30', '--out', join(run, 'g3')])).toBe(0);
    vi.restoreAllMocks();
  });

  it('eval prints the paper protocol and the extra metrics, and writes its files', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: string) => { lines.push(String(s)); });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await evalCommand(['--checkpoint', run, '--species', '1', '--caption-tokens', '20', '--rows', '1'])).toBe(0);
    vi.restoreAllMocks();
    const text = lines.join('\n');
    expect(text).toMatch(/Hamming ↓/);
    expect(text).toMatch(/perplexity/);
    expect(text).toMatch(/SSIM/);
    const summary = JSON.parse(readFileSync(join(run, 'best', 'eval', 'summary.json'), 'utf8'));
    expect(summary.paperProtocol.hamming.mean).toBeGreaterThanOrEqual(0);
    expect(summary.paperProtocol.hamming.mean).toBeLessThanOrEqual(80 / 144 + 1e-9);
    expect(summary.test.perplexity).toBeGreaterThan(1);
  });

  it('Ctrl-C (SIGINT) during training saves last/ and exits with 130', async () => {
    quiet();
    const out = join(tmp('sig'), 'r');
    const timer = setTimeout(() => process.emit('SIGINT'), 1500);
    const code = await trainCommand([...tiny, '--objective', 'dense', '--epochs', '500', '--eval-every', '100', '--out', out]);
    clearTimeout(timer);
    vi.restoreAllMocks();
    expect(code).toBe(130);
    expect(existsSync(join(out, 'last', 'optimizer.safetensors'))).toBe(true);
    const cfg = JSON.parse(readFileSync(join(out, 'last', 'config.json'), 'utf8'));
    expect(cfg.progress.globalStep).toBeGreaterThan(0);
  });

  it('usage errors: dense on a bidirectional model, unknown preset, missing checkpoint', async () => {
    const errs: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((s: string) => { errs.push(String(s)); });
    expect(await trainCommand(['--preset', 'rnn_bi_pxby_conv_81_dim_64_state_2_layer', '--objective', 'dense', '--data', data])).toBe(2);
    expect(errs.join('\n')).toMatch(/dense objective needs a causal model/);
    expect(await trainCommand(['--preset', 'nope', '--data', data])).toBe(1);
    expect(await generateCommand([])).toBe(2);
    vi.restoreAllMocks();
  });
});
