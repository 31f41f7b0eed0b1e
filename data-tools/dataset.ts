/**
 * The dataset builder (issue items 1, 6, 7) and its loader. On-disk format: README.md.
 * Deterministic: inputs are sorted, the only randomness is seeded, no timestamps are written,
 * so the same inputs give the same bytes. The directory is built aside and swapped in whole.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { stageDirectory } from './fsutil.js';
import { PixelateError, idsToRgba, pixelate } from './pixelate.js';
import { PngError, encodePng, readPng } from './png.js';
import { mulberry32, shuffled } from './rng.js';
import { buildSequence, shapeText } from './sequence.js';
import { loadNpmSource, loadScrapeSource, type Lang, type Skip, type SourceData } from './sources.js';
import { describeDrops, foldText, type DropCounts } from './text.js';
import { VOCAB_SIZE } from './vocab.js';

export const FORMAT = 'pixelbytes-dataset';
export const FORMAT_VERSION = 1;
/** The paper's "2/3 text, 1/3 image": text tokens = 2 × image tokens. */
export const DEFAULT_TEXT_RATIO = 2;
export const DEFAULT_SEED = 42;
export const DEFAULT_TEST_FRACTION = 0.1;

export const defaultOutDir = (lang: Lang): string => join('data', `pixelbytes-${lang}`);

export interface CaptionResult {
  caption: string;
  /** Entries concatenated / distinct entries available after folding and deduplication. */
  used: number;
  distinct: number;
  textTokens: number;
}

/**
 * Issue item 6: distinct entries (folded, deduplicated, in the given game order) joined by a
 * space until the text tokens — shape prefix + LF + caption + LF — reach `ratio` × the image
 * tokens H·(W+1), or the entries run out. At least one entry is always used. Characters dropped
 * by folding are counted in `dropped`, for the entries actually used only.
 */
export function composeCaption(entries: readonly string[], height: number, width: number, ratio: number, dropped?: DropCounts): CaptionResult {
  const imageTokens = height * (width + 1);
  const shapeTokens = shapeText(height, width).length + 1;
  const seen = new Set<string>();
  const distinct: { text: string; drops: DropCounts }[] = [];
  for (const raw of entries) {
    const drops: DropCounts = new Map();
    const text = foldText(raw, drops);
    if (text && !seen.has(text)) {
      seen.add(text);
      distinct.push({ text, drops });
    }
  }
  let caption = '';
  let used = 0;
  for (const { text, drops } of distinct) {
    caption = caption ? `${caption} ${text}` : text;
    used++;
    if (dropped) for (const [ch, n] of drops) dropped.set(ch, (dropped.get(ch) ?? 0) + n);
    if (shapeTokens + caption.length + 1 >= ratio * imageTokens) break;
  }
  return { caption, used, distinct: distinct.length, textTokens: shapeTokens + caption.length + 1 };
}

/** Issue item 7: seeded shuffle of the species ids; the first round(fraction·n) (at least 1) go to test. */
export function splitSpecies(ids: readonly number[], seed: number, testFraction: number): { train: number[]; test: number[] } {
  if (!(testFraction >= 0 && testFraction < 1)) throw new RangeError(`test fraction ${testFraction} must be in [0, 1)`);
  const sorted = [...ids].sort((a, b) => a - b);
  let nTest = Math.round(sorted.length * testFraction);
  if (testFraction > 0 && sorted.length >= 2) nTest = Math.max(1, nTest);
  const order = shuffled(sorted, mulberry32(seed));
  const test = order.slice(0, nTest).sort((a, b) => a - b);
  const testSet = new Set(test);
  return { train: sorted.filter((id) => !testSet.has(id)), test };
}

export interface RecordMeta {
  id: number;
  key: string;
  names: { en: string; fr: string };
  width: number;
  height: number;
  caption: string;
  /** The pixelated PNG, relative to the dataset directory. */
  image: string;
  /** Where this record's ids sit in tokens.bin (in tokens = bytes). */
  offset: number;
  length: number;
  imageTokens: number;
  textTokens: number;
  entriesUsed: number;
  entriesDistinct: number;
  /** Foreground pixels outside the largest region, cut away by the crop (spec §1.2 step 2). */
  cropLostPixels: number;
}

export interface Manifest {
  format: typeof FORMAT;
  version: number;
  lang: Lang;
  source: string;
  vocabSize: number;
  options: { textRatio: number; seed: number; testFraction: number; kmeans: boolean; limit: number | null };
  files: { records: string; tokens: string; tokenDtype: 'uint8'; split: string; report: string; images: string };
  count: number;
  totalTokens: number;
  /** sha256 of tokens.bin, checked by the loader. */
  tokensSha256: string;
}

export interface SplitFile {
  seed: number;
  testFraction: number;
  train: number[];
  test: number[];
}

export interface BuildReport {
  lang: Lang;
  source: string;
  options: Manifest['options'];
  counts: { candidates: number; built: number; skipped: number };
  skipped: Skip[];
  tokens: { total: number; image: number; text: number; textPerImage: number; textShare: number };
  perSpecies: { textPerImageMin: number; textPerImageMedian: number; textPerImageMax: number; reachedTarget: number; meanEntriesUsed: number; meanEntriesDistinct: number };
  droppedCharacters: { char: string; codePoint: string; count: number }[];
  crop: { spritesLosingPixels: number; pixelsLost: number };
  split: { train: number; test: number };
}

export interface BuildOptions {
  lang?: Lang;
  out?: string;
  /** A scrape directory; default: the npm packages. */
  source?: string;
  textRatio?: number;
  seed?: number;
  testFraction?: number;
  kmeans?: boolean;
  /** Only the first N species (quick runs). */
  limit?: number;
  /** Tests inject a source instead of reading one. */
  sourceData?: SourceData;
}

const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

export function buildDataset(opts: BuildOptions = {}): { report: BuildReport; out: string } {
  const lang = opts.lang ?? 'en';
  const out = opts.out ?? defaultOutDir(lang);
  const options: Manifest['options'] = {
    textRatio: opts.textRatio ?? DEFAULT_TEXT_RATIO,
    seed: opts.seed ?? DEFAULT_SEED,
    testFraction: opts.testFraction ?? DEFAULT_TEST_FRACTION,
    kmeans: opts.kmeans ?? false,
    limit: opts.limit ?? null,
  };
  if (!(options.textRatio >= 0)) throw new RangeError(`--text-ratio ${options.textRatio} must be ≥ 0`);
  const source = opts.sourceData ?? (opts.source ? loadScrapeSource(opts.source, lang) : loadNpmSource(lang));
  const items = [...source.items].sort((a, b) => a.id - b.id).slice(0, opts.limit ?? Infinity);
  const skipped: Skip[] = [...source.skipped];
  const dropped: DropCounts = new Map();
  const records: RecordMeta[] = [];
  const pngs: Buffer[] = [];
  const tokenChunks: Uint8Array[] = [];
  let offset = 0;

  for (const item of items) {
    let pix;
    try {
      pix = pixelate(readPng(item.imagePath), { kmeans: options.kmeans, seed: options.seed + item.id });
    } catch (err) {
      if (err instanceof PngError || err instanceof PixelateError) {
        skipped.push({ id: item.id, key: item.key, reason: err instanceof PngError ? err.message : `${item.imagePath}: ${err.message}` });
        continue;
      }
      throw err;
    }
    const cap = composeCaption(item.entries, pix.height, pix.width, options.textRatio, dropped);
    if (!cap.caption) {
      skipped.push({ id: item.id, key: item.key, reason: 'caption empty after folding' });
      continue;
    }
    const seq = buildSequence(pix.ids, cap.caption);
    tokenChunks.push(Uint8Array.from(seq.ids));
    pngs.push(encodePng(idsToRgba(pix.ids)));
    const imageTokens = pix.height * (pix.width + 1);
    records.push({
      id: item.id, key: item.key, names: item.names, width: pix.width, height: pix.height, caption: cap.caption,
      image: `images/${item.key}.png`, offset, length: seq.ids.length, imageTokens, textTokens: cap.textTokens,
      entriesUsed: cap.used, entriesDistinct: cap.distinct, cropLostPixels: pix.lostForeground,
    });
    offset += seq.ids.length;
  }
  skipped.sort((a, b) => a.id - b.id);
  const split = splitSpecies(records.map((r) => r.id), options.seed, options.testFraction);
  const report = makeReport(lang, source.description, options, items.length + source.skipped.length, records, skipped, dropped, split);

  const manifest: Manifest = {
    format: FORMAT, version: FORMAT_VERSION, lang, source: source.description, vocabSize: VOCAB_SIZE, options,
    files: { records: 'records.jsonl', tokens: 'tokens.bin', tokenDtype: 'uint8', split: 'split.json', report: 'report.json', images: 'images/' },
    count: records.length, totalTokens: offset, tokensSha256: '',
  };
  const tokens = Buffer.concat(tokenChunks);
  manifest.tokensSha256 = createHash('sha256').update(tokens).digest('hex');
  const splitFile: SplitFile = { seed: options.seed, testFraction: options.testFraction, ...split };
  const stage = stageDirectory(out);
  try {
    mkdirSync(join(stage.path, 'images'));
    records.forEach((r, k) => writeFileSync(join(stage.path, r.image), pngs[k]));
    writeFileSync(join(stage.path, 'tokens.bin'), tokens);
    writeFileSync(join(stage.path, 'records.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    writeFileSync(join(stage.path, 'split.json'), JSON.stringify(splitFile) + '\n');
    writeFileSync(join(stage.path, 'report.json'), JSON.stringify(report, null, 1) + '\n');
    writeFileSync(join(stage.path, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
    stage.commit();
  } catch (err) {
    stage.abort();
    throw err;
  }
  return { report, out };
}

function makeReport(lang: Lang, source: string, options: Manifest['options'], candidates: number, records: RecordMeta[], skipped: Skip[], dropped: DropCounts, split: { train: number[]; test: number[] }): BuildReport {
  const image = records.reduce((s, r) => s + r.imageTokens, 0);
  const text = records.reduce((s, r) => s + r.textTokens, 0);
  const ratios = records.map((r) => r.textTokens / r.imageTokens).sort((a, b) => a - b);
  const median = ratios.length ? (ratios.length % 2 ? ratios[(ratios.length - 1) / 2] : (ratios[ratios.length / 2 - 1] + ratios[ratios.length / 2]) / 2) : 0;
  const mean = (f: (r: RecordMeta) => number) => (records.length ? round4(records.reduce((s, r) => s + f(r), 0) / records.length) : 0);
  const lost = records.filter((r) => r.cropLostPixels > 0);
  return {
    lang, source, options,
    counts: { candidates, built: records.length, skipped: skipped.length },
    skipped,
    tokens: { total: image + text, image, text, textPerImage: image ? round4(text / image) : 0, textShare: image + text ? round4(text / (image + text)) : 0 },
    perSpecies: {
      textPerImageMin: round4(ratios[0] ?? 0), textPerImageMedian: round4(median), textPerImageMax: round4(ratios[ratios.length - 1] ?? 0),
      reachedTarget: records.filter((r) => r.textTokens >= options.textRatio * r.imageTokens).length,
      meanEntriesUsed: mean((r) => r.entriesUsed), meanEntriesDistinct: mean((r) => r.entriesDistinct),
    },
    droppedCharacters: [...dropped.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([char, count]) => ({ char, codePoint: `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`, count })),
    crop: { spritesLosingPixels: lost.length, pixelsLost: lost.reduce((s, r) => s + r.cropLostPixels, 0) },
    split: { train: split.train.length, test: split.test.length },
  };
}

/** Consecutive ids with the same reason as one line: "#0808–#0905 (98): no en Pokédex entry …". */
export function groupSkips(skipped: readonly Skip[]): string[] {
  const lines: string[] = [];
  let k = 0;
  while (k < skipped.length) {
    let e = k;
    while (e + 1 < skipped.length && skipped[e + 1].reason === skipped[k].reason && skipped[e + 1].id === skipped[e].id + 1) e++;
    const range = e === k ? `#${skipped[k].key}` : `#${skipped[k].key}–#${skipped[e].key} (${e - k + 1})`;
    lines.push(`${range}: ${skipped[k].reason}`);
    k = e + 1;
  }
  return lines;
}

/** The report as printed by `pixelbytes data build`. */
export function formatReport(report: BuildReport, out: string): string {
  const t = report.tokens, p = report.perSpecies, o = report.options;
  const lines = [
    `PixelBytes dataset (${report.lang}) from ${report.source}`,
    `  species: ${report.counts.built} built, ${report.counts.skipped} skipped, of ${report.counts.candidates}${o.limit !== null ? ` (--limit ${o.limit})` : ''}`,
  ];
  if (report.skipped.length) lines.push('  skipped:', ...groupSkips(report.skipped).map((l) => `    ${l}`));
  lines.push(
    `  tokens: ${t.total} = text ${t.text} + image ${t.image}; text/image ${t.textPerImage.toFixed(3)} (target ${o.textRatio}), text share ${(100 * t.textShare).toFixed(1)} %`,
    `  per species text/image: min ${p.textPerImageMin.toFixed(3)}, median ${p.textPerImageMedian.toFixed(3)}, max ${p.textPerImageMax.toFixed(3)}; ${p.reachedTarget}/${report.counts.built} reached the target`,
    `  captions: ${p.meanEntriesUsed.toFixed(2)} Pokédex entries used on average, of ${p.meanEntriesDistinct.toFixed(2)} distinct available`,
    `  dropped characters (outside the vocabulary after folding): ${describeDrops(new Map(report.droppedCharacters.map((d) => [d.char, d.count])))}`,
    `  crop (largest region, spec §1.2): ${report.crop.spritesLosingPixels} images lost ${report.crop.pixelsLost} foreground pixels`,
    `  pixelation: k-means(55) pre-stage ${o.kmeans ? `on (seed ${o.seed} + id)` : 'off'}`,
    `  split: ${report.split.train} train / ${report.split.test} test species (seed ${o.seed}, test fraction ${o.testFraction})`,
    `  wrote ${out}/ (manifest.json, records.jsonl, tokens.bin, split.json, report.json, images/*.png)`,
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Loader

export interface DatasetRecord extends RecordMeta {
  /** The record's sequence (spec §2.2). */
  ids: Int32Array;
  /** height × width colour ids (58..112), read back from `ids`. */
  imageIds: number[][];
}

export interface LoadedDataset {
  dir: string;
  manifest: Manifest;
  records: DatasetRecord[];
  split: { seed: number; train: DatasetRecord[]; test: DatasetRecord[] };
}

/** Windows (L × 9) of a loaded record, rebuilt by the sequence constructor. */
export function recordWindows(record: Pick<DatasetRecord, 'imageIds' | 'caption'>): Int32Array {
  return buildSequence(record.imageIds, record.caption).windows;
}

/**
 * Load a built dataset. tokens.bin is checked against the manifest's sha256; with `verify`
 * (default) every record's ids are also rebuilt from its image and caption and compared, so a
 * damaged or hand-edited dataset is caught here, not in training.
 */
export function loadDataset(dir: string, opts: { verify?: boolean } = {}): LoadedDataset {
  const read = (file: string): string => {
    const path = join(dir, file);
    if (!existsSync(path)) throw new Error(`${path} is missing: is ${dir} a dataset built by \`pixelbytes data build\`?`);
    return readFileSync(path, 'utf8');
  };
  const manifest = JSON.parse(read('manifest.json')) as Manifest;
  if (manifest.format !== FORMAT || manifest.version !== FORMAT_VERSION) {
    throw new Error(`${join(dir, 'manifest.json')}: format ${manifest.format} v${manifest.version}, expected ${FORMAT} v${FORMAT_VERSION}`);
  }
  const tokens = readFileSync(join(dir, manifest.files.tokens));
  if (tokens.length !== manifest.totalTokens) throw new Error(`${join(dir, manifest.files.tokens)}: ${tokens.length} bytes, manifest says ${manifest.totalTokens}`);
  if (createHash('sha256').update(tokens).digest('hex') !== manifest.tokensSha256) throw new Error(`${join(dir, manifest.files.tokens)}: sha256 differs from the manifest's (damaged file?)`);
  const metas = read(manifest.files.records).split('\n').filter(Boolean).map((line) => JSON.parse(line) as RecordMeta);
  const records = metas.map((m): DatasetRecord => {
    if (m.offset + m.length > tokens.length) throw new Error(`record #${m.key}: tokens ${m.offset}+${m.length} past the end of tokens.bin`);
    const ids = Int32Array.from(tokens.subarray(m.offset, m.offset + m.length));
    const start = shapeText(m.height, m.width).length + 1;
    const imageIds = Array.from({ length: m.height }, (_, y) => Array.from(ids.subarray(start + y * (m.width + 1), start + y * (m.width + 1) + m.width)));
    if (opts.verify ?? true) {
      const rebuilt = buildSequence(imageIds, m.caption).ids;
      if (rebuilt.length !== ids.length || rebuilt.some((v, k) => v !== ids[k])) throw new Error(`record #${m.key}: tokens.bin does not match its image and caption`);
    }
    return { ...m, ids, imageIds };
  });
  const splitFile = JSON.parse(read(manifest.files.split)) as SplitFile;
  const byId = new Map(records.map((r) => [r.id, r]));
  const pick = (ids: number[], part: string) => ids.map((id) => {
    const r = byId.get(id);
    if (!r) throw new Error(`${join(dir, manifest.files.split)}: ${part} species ${id} has no record`);
    return r;
  });
  return { dir, manifest, records, split: { seed: splitFile.seed, train: pick(splitFile.train, 'train'), test: pick(splitFile.test, 'test') } };
}
