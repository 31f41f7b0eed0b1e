/**
 * `pixelbytes data build|scrape|preview|decode` and `pixelbytes tokenize` (issue #4).
 * Every command returns an exit code: 0 done, 1 failed (the message names the file or value at
 * fault), 2 bad usage.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { buildDataset, defaultOutDir, formatReport, loadDataset } from './dataset.js';
import { writeFileAtomic } from './fsutil.js';
import { idsToRgba, imageToIds, pixelate } from './pixelate.js';
import { encodePng, readPng } from './png.js';
import { renderPreview } from './preview.js';
import { Fetcher } from './scrape/fetcher.js';
import { scrapeBulbapedia, scrapePokepedia } from './scrape/run.js';
import { buildSequence, centresOf, nestedWindows, sequenceToImageAndText } from './sequence.js';
import { LANGS, type Lang } from './sources.js';
import { describeDrops, foldText, type DropCounts } from './text.js';
import { UsageError, runCommand } from '../src/util/cli.js';


type Options = NonNullable<ParseArgsConfig['options']>;

function parse(args: string[], options: Options, positionals = 0) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: positionals > 0, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument '${parsed.positionals[positionals]}'`);
  return parsed as { values: Record<string, string | boolean | undefined>; positionals: string[] };
}

function num(name: string, value: string | boolean | undefined, fallback: number, check: { integer?: boolean; min?: number; max?: number } = {}): number {
  if (value === undefined) return fallback;
  const x = Number(value);
  const bad = typeof value !== 'string' || value.trim() === '' || !Number.isFinite(x) || (check.integer && !Number.isInteger(x)) || (check.min !== undefined && x < check.min) || (check.max !== undefined && x > check.max);
  if (bad) {
    const range = [check.integer ? 'an integer' : 'a number', check.min !== undefined ? `≥ ${check.min}` : '', check.max !== undefined ? `≤ ${check.max}` : ''].filter(Boolean).join(' ');
    throw new UsageError(`--${name} ${JSON.stringify(value)}: expected ${range}`);
  }
  return x;
}

function lang(value: string | boolean | undefined): Lang {
  if (value === undefined) return 'en';
  if (!LANGS.includes(value as Lang)) throw new UsageError(`--lang ${JSON.stringify(value)}: expected one of ${LANGS.join(', ')}`);
  return value as Lang;
}


// ---------------------------------------------------------------------------------------------

const DATA_USAGE = `usage: pixelbytes data <build|scrape|preview|decode> [options]

  build    one record per species (id, names, caption, pixelated PNG, token sequence)
           --lang en|fr       caption language (default en)
           --out DIR          output directory (default data/pixelbytes-<lang>)
           --source DIR       a scrape directory instead of the npm packages
           --text-ratio R     caption grows until text tokens ≥ R × image tokens (default 2)
           --seed N           seed of the train/test split and of k-means (default 42)
           --test-fraction F  share of species in the test split (default 0.1)
           --kmeans           run the original's k-means(55) pre-stage (off by default)
           --limit N          only the first N species
  scrape   download what the original scraped (needs internet; cached, resumable)
           --site pokepedia|bulbapedia (required)   --out DIR (required)
           --limit N   --delay-ms MS (≥ 1000, default 1000)   --timeout-ms MS   --retries N
  preview  one PNG sheet of a built dataset (sprites ×8 with their numbers)
           --dataset DIR (default data/pixelbytes-<lang>)   --lang en|fr   --out FILE.png
           (default DIR/preview.png)   --scale N (default 8)   --cols N (default 30)   --limit N
  decode   token ids (JSON: [ids…], {"ids": […]} or {"windows": [[[…]]]}; '-' = stdin)
           back to image(s) and text (spec §6)
           FILE   --out FILE.png (default: only print the text and the image shapes)`;

export async function dataCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    console.log(DATA_USAGE);
    return sub ? 0 : 2;
  }
  switch (sub) {
    case 'build':
      return runCommand('data build', DATA_USAGE, () => dataBuild(rest));
    case 'scrape':
      return runCommand('data scrape', DATA_USAGE, () => dataScrape(rest));
    case 'preview':
      return runCommand('data preview', DATA_USAGE, () => dataPreview(rest));
    case 'decode':
      return runCommand('data decode', DATA_USAGE, () => dataDecode(rest));
    default:
      console.error(`pixelbytes data: unknown subcommand '${sub}'\n\n${DATA_USAGE}`);
      return 2;
  }
}

function dataBuild(args: string[]): number {
  const { values: v } = parse(args, {
    lang: { type: 'string' }, out: { type: 'string' }, source: { type: 'string' }, 'text-ratio': { type: 'string' },
    seed: { type: 'string' }, 'test-fraction': { type: 'string' }, kmeans: { type: 'boolean' }, limit: { type: 'string' },
  });
  if (v.help) {
    console.log(DATA_USAGE);
    return 0;
  }
  const l = lang(v.lang);
  const { report, out } = buildDataset({
    lang: l,
    out: (v.out as string | undefined) ?? defaultOutDir(l),
    source: v.source as string | undefined,
    textRatio: num('text-ratio', v['text-ratio'], 2, { min: 0 }),
    seed: num('seed', v.seed, 42, { integer: true, min: 0, max: 2 ** 32 - 1 }),
    testFraction: num('test-fraction', v['test-fraction'], 0.1, { min: 0, max: 0.99 }),
    kmeans: Boolean(v.kmeans),
    limit: v.limit === undefined ? undefined : num('limit', v.limit, 0, { integer: true, min: 1 }),
  });
  console.log(formatReport(report, out));
  return report.counts.built > 0 ? 0 : 1;
}

async function dataScrape(args: string[]): Promise<number> {
  const { values: v } = parse(args, {
    site: { type: 'string' }, out: { type: 'string' }, limit: { type: 'string' }, 'delay-ms': { type: 'string' },
    'timeout-ms': { type: 'string' }, retries: { type: 'string' },
  });
  if (v.help) {
    console.log(DATA_USAGE);
    return 0;
  }
  if (v.site !== 'pokepedia' && v.site !== 'bulbapedia') throw new UsageError(`--site ${v.site === undefined ? 'is required' : JSON.stringify(v.site)}: expected pokepedia or bulbapedia`);
  if (typeof v.out !== 'string') throw new UsageError('--out DIR is required');
  const out = v.out;
  const log = (m: string) => console.error(`[scrape ${v.site}] ${m}`);
  const fetcher = new Fetcher({
    cacheDir: join(out, 'cache'),
    minIntervalMs: num('delay-ms', v['delay-ms'], 1000, { min: 1000 }),
    timeoutMs: num('timeout-ms', v['timeout-ms'], 30_000, { min: 1000 }),
    maxRetries: num('retries', v.retries, 5, { integer: true, min: 0, max: 20 }),
    log,
  });
  const limit = v.limit === undefined ? undefined : num('limit', v.limit, 0, { integer: true, min: 1 });
  const summary = await (v.site === 'pokepedia' ? scrapePokepedia : scrapeBulbapedia)({ out, fetcher, limit, log });
  console.log(`${summary.site}: ${summary.species} species, ${summary.withText} with text${summary.site === 'pokepedia' ? `, ${summary.withImage} with a miniature` : ''}; ${fetcher.stats.network} downloads, ${fetcher.stats.cached} from cache, ${fetcher.stats.retries} retries`);
  for (const p of summary.problems) console.log(`  #${p.key}: ${p.problem}${p.url ? ` (${p.url})` : ''}`);
  console.log(`wrote ${out}/ — next: pixelbytes data build --source ${out}${summary.site === 'pokepedia' ? ' --lang fr' : ''}`);
  return 0;
}

function dataPreview(args: string[]): number {
  const { values: v } = parse(args, { dataset: { type: 'string' }, lang: { type: 'string' }, out: { type: 'string' }, scale: { type: 'string' }, cols: { type: 'string' }, limit: { type: 'string' } });
  if (v.help) {
    console.log(DATA_USAGE);
    return 0;
  }
  const dir = (v.dataset as string | undefined) ?? defaultOutDir(lang(v.lang));
  const ds = loadDataset(dir);
  const sheet = renderPreview(ds, {
    scale: num('scale', v.scale, 8, { integer: true, min: 1, max: 32 }),
    cols: num('cols', v.cols, 30, { integer: true, min: 1 }),
    limit: v.limit === undefined ? undefined : num('limit', v.limit, 0, { integer: true, min: 1 }),
  });
  const out = (v.out as string | undefined) ?? join(dir, 'preview.png');
  writeFileAtomic(out, encodePng(sheet));
  console.log(`wrote ${out} (${sheet.width}×${sheet.height}, ${Math.min(ds.records.length, v.limit === undefined ? Infinity : Number(v.limit))} species; yellow numbers = test split)`);
  return 0;
}

function readIdsJson(file: string): number[] {
  const text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not JSON (${(err as Error).message})`);
  }
  const obj = value as { ids?: unknown; windows?: unknown };
  if (Array.isArray(value)) return value as number[];
  if (Array.isArray(obj.ids)) return obj.ids as number[];
  if (Array.isArray(obj.windows)) return Array.from(centresOf(obj.windows as number[][][]));
  throw new Error(`${file}: expected an array of ids, {"ids": [...]} or {"windows": [[[...]]]}`);
}

function dataDecode(args: string[]): number {
  const { values: v, positionals } = parse(args, { out: { type: 'string' } }, 1);
  if (v.help) {
    console.log(DATA_USAGE);
    return 0;
  }
  if (!positionals[0]) throw new UsageError('the ids file is required (or - for stdin)');
  const decoded = sequenceToImageAndText(readIdsJson(positionals[0]));
  decoded.images.forEach((img, k) => {
    const note = img.ragged ? ` (ragged: row lengths ${img.rowLengths.join(',')})` : '';
    let where = '';
    if (typeof v.out === 'string' && img.width > 0) {
      const path = decoded.images.length === 1 ? v.out : v.out.replace(/(\.png)?$/i, `-${k + 1}.png`);
      writeFileAtomic(path, encodePng(idsToRgba(img.ids)));
      where = ` → ${path}`;
    }
    console.log(`image ${k + 1}: ${img.height}×${img.width}${note}${where}`);
  });
  console.log(`text: ${JSON.stringify(decoded.caption)}`);
  return 0;
}

// ---------------------------------------------------------------------------------------------

const TOKENIZE_USAGE = `usage: pixelbytes tokenize IMAGE.png [--caption TEXT] [--pixelate [--kmeans] [--seed N]] [--json]

  One sample to PixelBytes ids and 3×3 windows (spec §2.2–2.3).
  Without --pixelate the image is taken as already pixelated: alpha over white, then every
  pixel to its nearest palette colour (no crop, no resize). With --pixelate the full pipeline
  runs first (crop, longest side 25 px, optional --kmeans, palette).
  The caption is folded to the vocabulary (lowercase, accents stripped); dropped characters
  are reported on stderr.
  --json prints {"ids": [...], "windows": [[[3],[3],[3]], ...]}.`;

export async function tokenizeCommand(args: string[]): Promise<number> {
  return runCommand('tokenize', TOKENIZE_USAGE, () => {
    const { values: v, positionals } = parse(args, { caption: { type: 'string' }, pixelate: { type: 'boolean' }, kmeans: { type: 'boolean' }, seed: { type: 'string' }, json: { type: 'boolean' } }, 1);
    if (v.help) {
      console.log(TOKENIZE_USAGE);
      return 0;
    }
    const file = positionals[0];
    if (!file) throw new UsageError('IMAGE.png is required');
    if (v.kmeans && !v.pixelate) throw new UsageError('--kmeans needs --pixelate');
    const image = readPng(file);
    const ids = v.pixelate ? pixelate(image, { kmeans: Boolean(v.kmeans), seed: num('seed', v.seed, 42, { integer: true, min: 0 }) }).ids : imageToIds(image);
    const dropped: DropCounts = new Map();
    const caption = foldText((v.caption as string | undefined) ?? '', dropped);
    if (dropped.size) console.error(`pixelbytes tokenize: caption characters outside the vocabulary were dropped: ${describeDrops(dropped)}`);
    const seq = buildSequence(ids, caption);
    if (v.json) {
      console.log(JSON.stringify({ ids: Array.from(seq.ids), windows: nestedWindows(seq.windows) }));
    } else {
      console.log(`${file}: image ${ids.length}×${ids[0].length} (H×W), caption ${JSON.stringify(caption)}`);
      console.log(`L = ${seq.ids.length} tokens (shape 0–${seq.imageStart - 1}, image ${seq.imageStart}–${seq.captionStart - 1}, caption ${seq.captionStart}–${seq.ids.length - 1})`);
      console.log(`ids: ${Array.from(seq.ids).join(' ')}`);
      console.log('(--json for the ids and the 3×3 windows as JSON)');
    }
    return 0;
  });
}
