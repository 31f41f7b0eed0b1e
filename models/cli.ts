/**
 * `pixelbytes train | generate | eval | start` (issue 5). Every command returns an exit code:
 * 0 done, 1 failed (the message names what), 2 bad usage, 130 interrupted (state saved).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { Generator, setNumThreads, getNumThreads, setCpuNativeThreads, getCpuNativeThreads, resolveDevice, getDevice } from '../src/index.js';
import { TAB_ID, buildDataset, defaultOutDir, foldText, imageToIds, loadDataset, pixelate, readPng, type DatasetRecord, type LoadedDataset } from '../data-tools/index.js';
import { writeFileAtomic } from '../data-tools/fsutil.js';
import { formatReport } from '../data-tools/dataset.js';
import { DEFAULT_TRAIN, configName, isCausal, objectiveProblem, type EmbedKind, type ModelConfig, type TrainConfig } from './common/config.js';
import { PRESETS, START_PRESET, findPreset, type Preset } from './common/presets.js';
import { NanLossError, runTraining } from './common/train_loop.js';
import { loadCheckpoint } from './common/checkpoint.js';
import { WindowStream } from './common/context.js';
import { decodeGenerated, generateStreams, imagePromptWindows, partialImagePromptWindows, stopAfterImage, stopAfterLf, textPromptWindows, type SamplingOptions } from './common/generate.js';
import { captionAndImage, imageSsim, paperProtocol, perplexityOn, rowsOf, summarise } from './common/eval_protocol.js';
import { captionBleu } from './common/metrics.js';
import { renderHtml, writePng, type Page } from './common/report.js';
import { formatDuration } from './common/progress.js';
import type { Objective } from './common/windows.js';
import type { PixelBytesModel } from './common/model.js';
import { UsageError, runCommand } from '../src/util/cli.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | undefined>;

function parse(args: string[], options: Options): Values {
  try {
    return parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: false, strict: true }).values as Values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function num(v: Values, name: string, fallback: number, check: { integer?: boolean; min?: number; max?: number } = {}): number {
  const value = v[name];
  if (value === undefined) return fallback;
  const x = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(x) || (check.integer && !Number.isInteger(x)) ||
    (check.min !== undefined && x < check.min) || (check.max !== undefined && x > check.max)) {
    const range = [check.integer ? 'an integer' : 'a number', check.min !== undefined ? `≥ ${check.min}` : '', check.max !== undefined ? `≤ ${check.max}` : ''].filter(Boolean).join(' ');
    throw new UsageError(`--${name} ${JSON.stringify(value)}: expected ${range}`);
  }
  return x;
}
const str = (v: Values, name: string): string | undefined => (typeof v[name] === 'string' ? (v[name] as string) : undefined);


/**
 * CPU threads: --threads N, else PIXELBYTES_THREADS, else 1. Measured on the 2-core machine
 * (2026-11-25): the worker pool gave these models no speed-up (LSTM / Transformer steps ran as
 * fast on 1 thread). (A memory leak seen then with 2 threads — ~27 MB per step — was the pool's,
 * fixed in src/backend/cpu/threads.ts.)
 */
function applyThreads(v: Values): void {
  if (v.threads !== undefined) {
    const n = num(v, 'threads', 1, { integer: true, min: 1 });
    setNumThreads(n);
    setCpuNativeThreads(n);   // the native CPU pool (default: every core)
  } else if (!process.env.PIXELBYTES_THREADS) setNumThreads(1);
}

/**
 * --device NAME, else the fastest device here (cuda › cpu-native › cpu, see
 * src/backend/native/select.ts); says which and why, once, on stderr.
 */
function pickDevice(v: Values): string {
  const { device, why } = resolveDevice(str(v, 'device'));
  getDevice(device);   // an unknown or unavailable device fails here, with the reason
  const threads = device === 'cpu-native' ? `, ${getCpuNativeThreads()} thread(s)` : device === 'cpu' ? `, ${getNumThreads()} thread(s)` : '';
  process.stderr.write(`device: ${device}${threads} (${why})\n`);
  return device;
}

function openDataset(dir: string): LoadedDataset {
  if (!existsSync(join(dir, 'manifest.json'))) {
    throw new Error(`no dataset in ${dir}: build it with \`pixelbytes data build${dir === defaultOutDir('en') ? '' : ` --out ${dir}`}\` (or run \`npm start\`, which builds it)`);
  }
  return loadDataset(dir);
}

/** Ctrl-C: the first asks the trainer to save and stop; a second one exits at once. */
function installSigint(): { requested: () => boolean; remove: () => void } {
  let count = 0;
  const handler = () => {
    count++;
    if (count === 1) process.stderr.write('\nCtrl-C: finishing this step, saving the checkpoint… (Ctrl-C again to quit without saving)\n');
    else process.exit(130);
  };
  process.on('SIGINT', handler);
  return { requested: () => count > 0, remove: () => process.off('SIGINT', handler) };
}

// ---- model options ---------------------------------------------------------------------------------

const MODEL_OPTIONS: Options = {
  preset: { type: 'string' }, family: { type: 'string' }, dim: { type: 'string' }, state: { type: 'string' }, depth: { type: 'string' },
  uni: { type: 'boolean' }, bi: { type: 'boolean' }, embed: { type: 'string' }, causal: { type: 'boolean' }, positions: { type: 'string' },
  mamba: { type: 'string' }, dropout: { type: 'string' },
};

const MODEL_USAGE = `  model (a preset, then overrides):
    --preset NAME        one of the paper's 15 configurations (pixelbytes train --list), e.g.
                         rnn_bi_pxby_conv_81_dim_64_state_2_layer (the default)
    --family rnn|attention|ssm   --dim D   --state N   --depth K
    --uni | --bi         first LSTM/Mamba layer uni- or bidirectional
    --embed pxby|noconv|center   PxByEmbed with conv, without conv, centre id only
    --causal             Transformer with a causal mask (the original has none)
    --positions none|learned     Transformer positions (the original: none)
    --mamba original|residual    Mamba stacking (original: bi layer + LayerNorm, no residuals)
    --dropout P          Transformer dropout (0.1)`;

function modelFrom(v: Values, fallbackPreset: string): { name: string; model: ModelConfig; preset: Preset | null } {
  const preset = findPreset(str(v, 'preset') ?? fallbackPreset);
  const m: ModelConfig = { ...preset.model };
  const fam = str(v, 'family');
  if (fam !== undefined) {
    if (!['rnn', 'attention', 'ssm'].includes(fam)) throw new UsageError(`--family ${fam}: expected rnn, attention or ssm`);
    m.family = fam as ModelConfig['family'];
  }
  m.dim = num(v, 'dim', m.dim, { integer: true, min: 1 });
  m.dState = num(v, 'state', m.dState, { integer: true, min: 1 });
  m.depth = num(v, 'depth', m.depth, { integer: true, min: 1 });
  if (v.uni && v.bi) throw new UsageError('--uni and --bi exclude each other');
  if (v.uni) m.bidirectional = false;
  if (v.bi) m.bidirectional = true;
  const embed = str(v, 'embed');
  if (embed !== undefined) {
    if (!['pxby', 'noconv', 'center'].includes(embed)) throw new UsageError(`--embed ${embed}: expected pxby, noconv or center`);
    m.embed = embed as EmbedKind;
  }
  if (v.causal) m.causal = true;
  const pos = str(v, 'positions');
  if (pos !== undefined) {
    if (pos !== 'none' && pos !== 'learned') throw new UsageError(`--positions ${pos}: expected none or learned`);
    m.positions = pos;
  }
  const mv = str(v, 'mamba');
  if (mv !== undefined) {
    if (mv !== 'original' && mv !== 'residual') throw new UsageError(`--mamba ${mv}: expected original or residual`);
    m.mambaVariant = mv;
  }
  m.dropout = num(v, 'dropout', m.dropout, { min: 0, max: 0.99 });
  const name = configName(m);
  return { name, model: m, preset: PRESETS.find((p) => p.name === name) ?? null };
}

// ---- train -----------------------------------------------------------------------------------------

const TRAIN_USAGE = `usage: pixelbytes train [options]

${MODEL_USAGE}
  training (defaults: the paper's settings, spec §4.1):
    --eval-samples N     evaluate on N evenly spaced test samples only (default: all, as the paper)
    --objective last|dense   last: one target per 256-window sample (the paper); dense: every
                         position predicts the next centre (causal models only; ≈256× more signal)
    --epochs N (200)   --batch N (32)   --lr X (1e-3)   --weight-decay X (0.01)   --clip X (0 = off)
    --seq N (256)      --stride N (32; dense: = --seq)   --eval-every N (5)   --seed N (0)
    --minutes M          stop training after M minutes (then evaluate and save)
    --data DIR           dataset (default data/pixelbytes-en)
    --out DIR            run directory (default runs/<config>_<objective>)
    --resume             continue the run in --out exactly where its last checkpoint stopped
    --device NAME (default: the fastest here — cuda, cpu-native or cpu; doctor says which)
    --threads N (CPU threads; cpu-native default: every core)   --list (print the presets)`;

const TRAIN_OPTIONS: Options = {
  ...MODEL_OPTIONS, objective: { type: 'string' }, epochs: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' },
  'weight-decay': { type: 'string' }, clip: { type: 'string' }, seq: { type: 'string' }, stride: { type: 'string' },
  'eval-every': { type: 'string' }, 'eval-samples': { type: 'string' }, seed: { type: 'string' }, minutes: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' },
  resume: { type: 'boolean' }, device: { type: 'string' }, threads: { type: 'string' }, list: { type: 'boolean' },
};

function trainConfigFrom(v: Values, defaults: Partial<TrainConfig> = {}): TrainConfig {
  const objective = (str(v, 'objective') ?? defaults.objective ?? 'last') as Objective;
  if (objective !== 'last' && objective !== 'dense') throw new UsageError(`--objective ${objective}: expected last or dense`);
  const base = { ...DEFAULT_TRAIN, ...defaults };
  const seqLen = num(v, 'seq', base.seqLen, { integer: true, min: 1 });
  return {
    ...base, objective, seqLen,
    stride: num(v, 'stride', objective === 'dense' ? seqLen : base.stride, { integer: true, min: 1 }),
    batchSize: num(v, 'batch', base.batchSize, { integer: true, min: 1 }),
    lr: num(v, 'lr', base.lr, { min: 0 }),
    weightDecay: num(v, 'weight-decay', base.weightDecay, { min: 0 }),
    clipGradNorm: num(v, 'clip', base.clipGradNorm, { min: 0 }),
    epochs: num(v, 'epochs', base.epochs, { integer: true, min: 0 }),
    evalEvery: num(v, 'eval-every', base.evalEvery, { integer: true, min: 1 }),
    seed: num(v, 'seed', base.seed, { integer: true, min: 0 }),
  };
}

function listPresets(): string {
  const rows = PRESETS.map((p) => `  ${p.name.padEnd(52)} ${p.paper ? `${p.paper.params.toLocaleString('en-US').padStart(8)} params   paper best test loss ${p.paper.bestTestLoss.toFixed(4)} (epoch ${p.paper.bestTestLossEpoch})` : `(ours) ${p.note}`}`);
  return ['presets (the paper\'s 15, then ours):', ...rows].join('\n');
}

export async function trainCommand(args: string[]): Promise<number> {
  return runCommand('train', TRAIN_USAGE, async () => {
    const v = parse(args, TRAIN_OPTIONS);
    if (v.help) { console.log(TRAIN_USAGE); return 0; }
    if (v.list) { console.log(listPresets()); return 0; }
    applyThreads(v);
    const { name, model } = modelFrom(v, 'rnn_bi_pxby_conv_81_dim_64_state_2_layer');
    const train = trainConfigFrom(v);
    const problem = objectiveProblem(model, train.objective);
    if (problem) throw new UsageError(problem);
    const dataDir = str(v, 'data') ?? defaultOutDir('en');
    const out = str(v, 'out') ?? join('runs', `${name}_${train.objective}`);
    const ds = openDataset(dataDir);
    const minutes = v.minutes !== undefined ? num(v, 'minutes', 0, { min: 0 }) : undefined;
    console.log(`dataset ${dataDir}: ${ds.split.train.length} train / ${ds.split.test.length} test species`);
    const sig = installSigint();
    try {
      const r = await runTraining({
        name, model, train, trainRows: rowsOf(ds.split.train), testRows: rowsOf(ds.split.test), out, device: pickDevice(v),
        minutes, resume: Boolean(v.resume), shouldStop: sig.requested, extra: { dataset: resolve(dataDir) },
        evalSamples: v['eval-samples'] !== undefined ? num(v, 'eval-samples', 0, { integer: true, min: 1 }) : undefined,
      });
      console.log(`run directory ${out}: metrics.csv, training.svg, best/, last/`);
      return r.status === 'interrupted' ? 130 : 0;
    } catch (err) {
      if (err instanceof NanLossError) { console.error(`pixelbytes train: ${err.message}`); return 1; }
      throw err;
    } finally {
      sig.remove();
    }
  });
}

// ---- generate --------------------------------------------------------------------------------------

const GENERATE_USAGE = `usage: pixelbytes generate --checkpoint DIR [prompt] [options]

  --checkpoint DIR     a checkpoint (runs/<run>/best or …/last) or a run directory (uses best/)
  prompt (one of; none = free generation from "("):
    --text "CAPTION"     text → image (the caption, then the model writes "(H, W)" and the pixels)
    --image FILE.png     image → caption (pixelated to the palette first; a palette PNG is kept as is)
    --species KEY|NAME   a dataset species: both directions, beside the truth (--data DIR)
  decoding: greedy by default (the original); --temperature T  --top-k K  --seed N
    --structured         keep the stream well-formed: "(H, W)", H rows of W pixels, a caption
                         (masks the ids that would break it; the model picks colours and words)
    --max-tokens N  --context N (windows the model reads; default: all of them, as the original,
                         for a unidirectional LSTM, which reads them incrementally; else --seq)
  --out DIR (default <run>/generate)   --scale N (PNG upscale, 12)   --device NAME   --threads N`;

const GENERATE_OPTIONS: Options = {
  checkpoint: { type: 'string' }, text: { type: 'string' }, image: { type: 'string' }, species: { type: 'string' }, data: { type: 'string' },
  temperature: { type: 'string' }, 'top-k': { type: 'string' }, seed: { type: 'string' }, 'max-tokens': { type: 'string' },
  context: { type: 'string' }, out: { type: 'string' }, scale: { type: 'string' }, device: { type: 'string' }, threads: { type: 'string' },
  structured: { type: 'boolean' },
};

function checkpointDir(path: string): string {
  if (existsSync(join(path, 'config.json'))) return path;
  if (existsSync(join(path, 'best', 'config.json'))) return join(path, 'best');
  throw new Error(`${path} is not a checkpoint (no config.json) nor a run directory (no best/config.json)`);
}

export interface GenerationOutcome {
  htmlPath: string;
  pngPaths: string[];
  textPath: string;
  summary: string[];
}

/** Runs one generation job and writes PNG + text + HTML into outDir. */
export function generateJob(model: PixelBytesModel, job: {
  name: string; outDir: string; scale: number; context?: number; maxTokens?: number; device?: string;
  sampling: { temperature: number; topK: number; generator: Generator };
  /** Structured decoding (see SamplingOptions.structure); default false: the original's free stream. */
  structured?: boolean;
  text?: string; image?: number[][]; species?: DatasetRecord;
}): GenerationOutcome {
  mkdirSync(job.outDir, { recursive: true });
  const gen = (prompt: Int32Array, maxTokens: number, stop: (g: readonly number[]) => boolean, structure: SamplingOptions['structure']) =>
    generateStreams(model, [new WindowStream(prompt)], { maxTokens, stop, context: job.context, device: job.device, ...job.sampling, structure: job.structured ? structure : undefined })[0];
  const decoding = `${job.sampling.temperature > 0 ? `sampling at temperature ${job.sampling.temperature}${job.sampling.topK ? `, top-k ${job.sampling.topK}` : ''}` : 'greedy decoding'}` +
    `${job.structured ? ', structured (well-formed shape, rows and caption enforced; colours and words are the model\'s)' : ' (the original\'s free stream)'}`;
  const page: Page = { title: `PixelBytes — ${job.name}`, subtitle: `model ${configName(model.config)}; ${decoding}`, rows: [] };
  const pngPaths: string[] = [];
  const texts: string[] = [];
  const summary: string[] = [];
  const imgMax = job.maxTokens ?? 40 * 41 + 12, capMax = job.maxTokens ?? 400;
  const savePng = (name: string, ids: number[][]) => { const path = join(job.outDir, name); writePng(path, ids, job.scale); pngPaths.push(path); return path; };

  const textToImage = (caption: string, truth?: DatasetRecord) => {
    const ids = gen(textPromptWindows(caption), imgMax, stopAfterImage, { start: 'shape' });
    const d = decodeGenerated(ids);
    const png = d.image ? savePng('text_to_image.png', d.image.ids) : null;
    const note = d.image ? `${d.image.width}×${d.image.height}${d.image.declared ? `, declared (${d.image.declared.height}, ${d.image.declared.width})` : ''}` : 'the model wrote no pixels';
    const ssim = truth && d.image ? imageSsim(d.image.ids, truth.imageIds) : undefined;
    page.rows.push({ heading: 'text → image', panels: [
      { title: 'prompt (caption)', text: caption },
      { title: 'generated image', image: d.image?.ids ?? null, note: `${note}${ssim !== undefined ? `; SSIM vs truth ${ssim.toFixed(3)}` : ''}` },
      ...(truth ? [{ title: `true image (${truth.names.en})`, image: truth.imageIds }] : []),
    ] });
    texts.push(`# text → image\nprompt: ${caption}\ngenerated ids: ${ids.length}; image ${note}`);
    summary.push(`text → image: ${note}${png ? ` → ${png}` : ''}${ssim !== undefined ? ` (SSIM ${ssim.toFixed(3)})` : ''}`);
  };
  const completion = (truth: DatasetRecord) => {
    // caption, then "(H, W)" and the top half of the image (the paper's Fig. 1 is such a teacher-forced completion)
    const k = Math.ceil(truth.height / 2);
    const cap = textPromptWindows(truth.caption), part = partialImagePromptWindows(truth.imageIds, k);
    const prompt = new Int32Array(cap.length + part.length);
    prompt.set(cap); prompt.set(part, cap.length);
    const ids = gen(prompt, imgMax, stopAfterImage, { start: 'image', image: { H: truth.height, W: truth.width, row: k } });
    const img = decodeGenerated([...truth.imageIds.slice(0, k).flatMap((r) => [...r, TAB_ID]), ...ids]).image;
    const png = img ? savePng('completion.png', img.ids) : null;
    const ssim = img ? imageSsim(img.ids, truth.imageIds) : 0;
    page.rows.push({ heading: `image completion (caption + the top ${k} of ${truth.height} rows given)`, panels: [
      { title: 'prompt: top rows', image: truth.imageIds.slice(0, k) },
      { title: 'completed image', image: img?.ids ?? null, note: `SSIM vs truth ${ssim.toFixed(3)}` },
      { title: `true image (${truth.names.en})`, image: truth.imageIds },
    ] });
    texts.push(`# image completion\n${k} of ${truth.height} rows given; SSIM ${ssim.toFixed(3)}`);
    summary.push(`image completion (top ${k}/${truth.height} rows given): SSIM ${ssim.toFixed(3)}${png ? ` → ${png}` : ''}`);
  };
  const imageToCaption = (image: number[][], truth?: DatasetRecord) => {
    const ids = gen(imagePromptWindows(image), capMax, stopAfterLf(1), { start: 'caption' });
    const caption = decodeGenerated(ids).text.replace(/\n/g, ' ').trim();
    let bleu: number | undefined;
    if (truth) {
      const n = Math.max(1, caption.split(/\s+/).filter(Boolean).length);
      bleu = captionBleu(caption, truth.caption.split(/\s+/).slice(0, n).join(' '), 'add-epsilon');
    }
    page.rows.push({ heading: 'image → caption', panels: [
      { title: 'prompt (image)', image },
      { title: 'generated caption', text: caption, note: bleu !== undefined ? `BLEU-4 (smoothed) vs the true caption's first words: ${bleu.toFixed(3)}` : undefined },
      ...(truth ? [{ title: `true caption (${truth.names.en})`, text: truth.caption }] : []),
    ] });
    texts.push(`# image → caption\ngenerated: ${caption}${truth ? `\ntrue: ${truth.caption}` : ''}`);
    summary.push(`image → caption: "${caption.length > 160 ? caption.slice(0, 160) + '…' : caption}"`);
  };

  if (job.species) {
    textToImage(job.species.caption, job.species);
    completion(job.species);
    imageToCaption(job.species.imageIds, job.species);
  } else if (job.text !== undefined) {
    textToImage(job.text);
  } else if (job.image) {
    imageToCaption(job.image);
  } else {
    const ids = gen(Int32Array.from([0, 0, 0, 0, 6, 0, 0, 0, 0]), job.maxTokens ?? 2400, stopAfterLf(3), { start: 'shape' });
    const d = decodeGenerated([6, ...ids]);
    const png = d.image ? savePng('free.png', d.image.ids) : null;
    page.rows.push({ heading: 'free generation (from "(")', panels: [{ title: 'image', image: d.image?.ids ?? null }, { title: 'text', text: d.text }] });
    texts.push(`# free generation\n${d.text}`);
    summary.push(`free generation: ${d.image ? `${d.image.width}×${d.image.height} image → ${png}` : 'no image'}; text "${d.text.slice(0, 120)}"`);
  }
  const textPath = join(job.outDir, 'result.txt');
  writeFileAtomic(textPath, `${page.title}\n${page.subtitle}\n\n${texts.join('\n\n')}\n`);
  const htmlPath = join(job.outDir, 'index.html');
  writeFileAtomic(htmlPath, renderHtml(page, job.scale));
  return { htmlPath, pngPaths, textPath, summary };
}

/** Windows read while generating: all of them for a model that reads incrementally, else the training length. */
function defaultContext(model: PixelBytesModel, seqLen: number): number | undefined {
  const st = model.stepper();
  if (st) { st.dispose(); return undefined; }
  return seqLen;
}

function findSpecies(ds: LoadedDataset, q: string): DatasetRecord {
  const key = q.padStart(4, '0');
  const r = ds.records.find((x) => x.key === key || x.names.en.toLowerCase() === q.toLowerCase() || x.names.fr.toLowerCase() === q.toLowerCase());
  if (!r) throw new Error(`no species '${q}' in ${ds.dir} (give a national number or an English/French name)`);
  return r;
}

export async function generateCommand(args: string[]): Promise<number> {
  return runCommand('generate', GENERATE_USAGE, () => {
    const v = parse(args, GENERATE_OPTIONS);
    if (v.help) { console.log(GENERATE_USAGE); return 0; }
    applyThreads(v);
    const ckArg = str(v, 'checkpoint');
    if (!ckArg) throw new UsageError('--checkpoint is required');
    const given = ['text', 'image', 'species'].filter((k) => v[k] !== undefined);
    if (given.length > 1) throw new UsageError(`give one prompt, not ${given.map((g) => `--${g}`).join(' and ')}`);
    const dir = checkpointDir(ckArg);
    const device = pickDevice(v);
    const { model, meta } = loadCheckpoint(dir, { device });
    const outDir = str(v, 'out') ?? join(dirname(resolve(dir)), 'generate');
    const job = {
      name: meta.name, outDir, scale: num(v, 'scale', 12, { integer: true, min: 1, max: 64 }),
      context: v.context !== undefined ? num(v, 'context', 0, { integer: true, min: 1 }) : defaultContext(model, meta.train.seqLen), device, structured: Boolean(v.structured),
      maxTokens: v['max-tokens'] !== undefined ? num(v, 'max-tokens', 0, { integer: true, min: 1 }) : undefined,
      sampling: { temperature: num(v, 'temperature', 0, { min: 0 }), topK: num(v, 'top-k', 0, { integer: true, min: 0 }), generator: new Generator(num(v, 'seed', 0, { integer: true, min: 0 })) },
    };
    let outcome: GenerationOutcome;
    if (v.species !== undefined) {
      const ds = openDataset(str(v, 'data') ?? (typeof meta.dataset === 'string' ? meta.dataset : defaultOutDir('en')));
      outcome = generateJob(model, { ...job, species: findSpecies(ds, str(v, 'species')!) });
    } else if (v.text !== undefined) {
      const text = foldText(str(v, 'text')!);
      if (!text) throw new UsageError('--text is empty after folding to the vocabulary');
      outcome = generateJob(model, { ...job, text });
    } else if (v.image !== undefined) {
      const png = readPng(str(v, 'image')!);
      let ids: number[][];
      try { ids = imageToIds(png); } catch { ids = pixelate(png).ids; }
      outcome = generateJob(model, { ...job, image: ids });
    } else {
      outcome = generateJob(model, job);
    }
    for (const s of outcome.summary) console.log(s);
    console.log(`wrote ${outcome.htmlPath} (prompt and result side by side), ${outcome.textPath}${outcome.pngPaths.length ? `, ${outcome.pngPaths.join(', ')}` : ''}`);
    return 0;
  });
}

// ---- eval ------------------------------------------------------------------------------------------

const EVAL_USAGE = `usage: pixelbytes eval --checkpoint DIR [options]

  The paper's protocol (spec §5.3): per row, prompts of 64 windows at starts 0, 80, 160, …, 16
  greedy tokens, Hamming / cosine / BLEU over the 144 ids, printed beside the paper's numbers;
  plus perplexity on the test split, caption BLEU and image SSIM (not in the paper).
  --checkpoint DIR   --data DIR
  --split test|all   rows of the paper protocol (default test; the paper used all 964 rows)
  --rows N           only the first N rows of that split
  --species N        species for caption BLEU / SSIM (default 8; 0 = skip)   --caption-tokens N (200)
  --context N        windows read while generating captions/images (default the training --seq)
  --batch N (32)     --device NAME   --threads N   --out DIR (default <checkpoint>/eval)`;

const EVAL_OPTIONS: Options = {
  checkpoint: { type: 'string' }, data: { type: 'string' }, split: { type: 'string' }, rows: { type: 'string' }, species: { type: 'string' },
  'caption-tokens': { type: 'string' }, context: { type: 'string' }, batch: { type: 'string' }, device: { type: 'string' }, threads: { type: 'string' }, out: { type: 'string' },
};

export async function evalCommand(args: string[]): Promise<number> {
  return runCommand('eval', EVAL_USAGE, () => {
    const v = parse(args, EVAL_OPTIONS);
    if (v.help) { console.log(EVAL_USAGE); return 0; }
    applyThreads(v);
    const ckArg = str(v, 'checkpoint');
    if (!ckArg) throw new UsageError('--checkpoint is required');
    const dir = checkpointDir(ckArg);
    const device = pickDevice(v);
    const { model, meta } = loadCheckpoint(dir, { device });
    const ds = openDataset(str(v, 'data') ?? (typeof meta.dataset === 'string' ? meta.dataset : defaultOutDir('en')));
    const split = str(v, 'split') ?? 'test';
    if (split !== 'test' && split !== 'all') throw new UsageError(`--split ${split}: expected test or all`);
    const batch = num(v, 'batch', 32, { integer: true, min: 1 });
    const recs = (split === 'all' ? ds.records : ds.split.test).slice(0, v.rows !== undefined ? num(v, 'rows', 0, { integer: true, min: 1 }) : undefined);
    const outDir = str(v, 'out') ?? join(dir, 'eval');
    mkdirSync(outDir, { recursive: true });
    const t0 = Date.now();
    const log = (s: string) => console.log(s);
    log(`${meta.name} (${meta.paramCount.toLocaleString('en-US')} params, trained ${meta.train.objective}) on ${ds.dir}`);

    // 1. the paper's protocol
    let last = 0;
    const results = paperProtocol(model, rowsOf(recs), { batchSize: batch, device, onProgress: (d, n) => {
      if (Date.now() - last > 5000) { last = Date.now(); process.stderr.write(`  paper protocol: ${d}/${n} prompts\n`); }
    } });
    const s = summarise(results);
    writeFileAtomic(join(outDir, 'paper_protocol.csv'), ['row,key,n_seq,hamming,cosine,bleu', ...results.map((r) => [r.row, r.key, r.n_seq, r.hamming, r.cosine, r.bleu].join(','))].join('\n') + '\n');
    const paper = PRESETS.find((p) => p.name === meta.name)?.paper;
    const f = (x: { mean: number; std: number }) => `${x.mean.toFixed(4)} ± ${x.std.toFixed(4)}`;
    const pf = (x?: [number, number]) => (x ? `${x[0].toFixed(4)} ± ${x[1].toFixed(4)}` : '—');
    log(`\npaper protocol (64-window prompts, 16 greedy tokens, 144 ids) on ${recs.length} ${split} rows, ${results.length} prompts:`);
    log(`  metric     ours                 paper (${paper ? meta.name : 'no paper number for this config'})`);
    log(`  Hamming ↓  ${f(s.hamming).padEnd(20)} ${pf(paper?.hamming)}`);
    log(`  cosine ↑   ${f(s.cosine).padEnd(20)} ${pf(paper?.cosine)}`);
    log(`  BLEU ↑     ${f(s.bleu).padEnd(20)} ${pf(paper?.bleu)}`);

    // 2. perplexity on the test split
    const ppl = perplexityOn(model, rowsOf(ds.split.test), { seqLen: meta.train.seqLen, stride: meta.train.stride, objective: meta.train.objective, batchSize: batch, device });
    log(`\ntest split (${ds.split.test.length} species, ${ppl.n} targets, objective ${meta.train.objective}): loss ${ppl.loss.toFixed(4)} nats, perplexity ${ppl.perplexity.toFixed(3)}, accuracy ${ppl.accuracy.toFixed(2)}%, weighted F1 ${ppl.f1.toFixed(4)}`);
    if (paper) log(`  paper: best test loss ${paper.bestTestLoss.toFixed(4)} (perplexity ${Math.exp(paper.bestTestLoss).toFixed(3)}) at epoch ${paper.bestTestLossEpoch}, final ${paper.finalTestLoss.toFixed(4)} (perplexity ${Math.exp(paper.finalTestLoss).toFixed(2)}); never reported as perplexity`);

    // 3. caption BLEU and image SSIM on test species
    const nSpecies = num(v, 'species', 8, { integer: true, min: 0 });
    let ci: ReturnType<typeof captionAndImage> = [];
    if (nSpecies > 0) {
      const species = ds.split.test.slice(0, nSpecies);
      let lastP = 0;
      ci = captionAndImage(model, species, { context: v.context !== undefined ? num(v, 'context', 0, { integer: true, min: 1 }) : defaultContext(model, meta.train.seqLen), captionTokens: num(v, 'caption-tokens', 200, { integer: true, min: 1 }),
        device, batchSize: batch, onProgress: (what, d, n) => { if (Date.now() - lastP > 5000) { lastP = Date.now(); process.stderr.write(`  ${what}: token ${d}/${n}\n`); } } });
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      log(`\ngeneration on ${species.length} test species (greedy):`);
      log(`  image → caption BLEU-4 (words, vs the true caption's first words): ${mean(ci.map((r) => r.bleu)).toFixed(4)} (NLTK default), ${mean(ci.map((r) => r.bleuSmoothed)).toFixed(4)} (method1 smoothing)`);
      log(`  caption → image SSIM (RGB, skimage defaults): ${mean(ci.map((r) => r.ssim)).toFixed(4)}; ${ci.filter((r) => r.sizeMatch).length}/${ci.length} at the true size; ${ci.filter((r) => !r.generatedImage).length} without an image`);
      for (const r of ci) log(`    #${r.key} ${r.name.padEnd(12)} SSIM ${r.ssim.toFixed(3)}  BLEU ${r.bleuSmoothed.toFixed(3)}  "${r.generatedCaption.slice(0, 70)}"`);
      const page: Page = { title: `PixelBytes eval — ${meta.name}`, rows: ci.map((r) => ({ heading: `#${r.key} ${r.name}`, panels: [
        { title: 'generated from the caption', image: r.generatedImage, note: `SSIM ${r.ssim.toFixed(3)}` },
        { title: 'true image', image: species.find((x) => x.key === r.key)!.imageIds },
        { title: 'caption generated from the image', text: r.generatedCaption, note: `BLEU ${r.bleu.toFixed(3)} / smoothed ${r.bleuSmoothed.toFixed(3)}` },
        { title: 'true caption', text: r.trueCaption.slice(0, 600) },
      ] })) };
      writeFileAtomic(join(outDir, 'index.html'), renderHtml(page, 8));
    }
    const summary = {
      checkpoint: dir, name: meta.name, split, rows: recs.length, prompts: results.length,
      paperProtocol: { hamming: s.hamming, cosine: s.cosine, bleu: s.bleu }, paper: paper ?? null,
      test: { loss: ppl.loss, perplexity: ppl.perplexity, accuracy: ppl.accuracy, f1: ppl.f1, targets: ppl.n },
      generation: ci.map(({ generatedImage: _g, ...rest }) => rest),
      seconds: (Date.now() - t0) / 1000,
    };
    writeFileAtomic(join(outDir, 'summary.json'), JSON.stringify(summary, null, 1) + '\n');
    log(`\nwrote ${outDir}/ (paper_protocol.csv, summary.json${nSpecies > 0 ? ', index.html' : ''}) in ${formatDuration(summary.seconds)}`);
    return 0;
  });
}

// ---- start (npm start) ----------------------------------------------------------------------------

const START_USAGE = `usage: pixelbytes start [--minutes M] [options]

  The main job on a fresh CPU machine: builds data/pixelbytes-en if missing, trains the default
  causal model (${START_PRESET}) with the dense objective for a bounded time, then
  generates a held-out species from its prompts (text → image, image completion, image → caption)
  with structured sampling, into <out>/generate/ (PNG, text, HTML).
  --minutes M (10)   training time budget        --preset NAME   another causal preset
  --seq N (128)   --batch N (16)   --lr X (6e-3)   --epochs N (100)   --seed N (0)
  --eval-samples N (64)   test samples per evaluation (evenly spaced)
  --temperature T (0.7)   --top-k K (10)   decoding of the final generation (0 = greedy)
  --out DIR (runs/start)   --resume   --data DIR   --threads N   --device NAME`;

const START_OPTIONS: Options = {
  minutes: { type: 'string' }, preset: { type: 'string' }, seq: { type: 'string' }, batch: { type: 'string' }, seed: { type: 'string' },
  out: { type: 'string' }, resume: { type: 'boolean' }, data: { type: 'string' }, threads: { type: 'string' }, device: { type: 'string' },
  epochs: { type: 'string' }, lr: { type: 'string' }, 'eval-samples': { type: 'string' }, temperature: { type: 'string' }, 'top-k': { type: 'string' },
};

export async function startCommand(args: string[]): Promise<number> {
  return runCommand('start', START_USAGE, async () => {
    const v = parse(args, START_OPTIONS);
    if (v.help) { console.log(START_USAGE); return 0; }
    applyThreads(v);
    const t0 = Date.now();
    const dataDir = str(v, 'data') ?? defaultOutDir('en');
    if (!existsSync(join(dataDir, 'manifest.json'))) {
      console.log(`building the dataset into ${dataDir} (once)…`);
      const { report, out } = buildDataset({ out: dataDir });
      console.log(formatReport(report, out));
    }
    const ds = loadDataset(dataDir);
    const preset = findPreset(str(v, 'preset') ?? START_PRESET);
    if (!isCausal(preset.model)) throw new UsageError(`--preset ${preset.name} is not causal; the dense objective needs a causal model`);
    const seqLen = num(v, 'seq', 128, { integer: true, min: 2 });
    const train: TrainConfig = {
      ...DEFAULT_TRAIN, objective: 'dense', seqLen, stride: seqLen, batchSize: num(v, 'batch', 16, { integer: true, min: 1 }),
      epochs: num(v, 'epochs', 100, { integer: true, min: 1 }), evalEvery: 1, seed: num(v, 'seed', 0, { integer: true, min: 0 }),
      lr: num(v, 'lr', 6e-3, { min: 0 }),
    };
    const minutes = num(v, 'minutes', 10, { min: 0 });
    const out = str(v, 'out') ?? join('runs', 'start');
    const device = pickDevice(v);
    console.log(`training ${preset.name} (dense objective, seq ${seqLen}, batch ${train.batchSize}, lr ${train.lr}) for ${minutes} min on ${device}; Ctrl-C saves and stops`);
    const sig = installSigint();
    let result;
    try {
      result = await runTraining({
        name: preset.name, model: preset.model, train, trainRows: rowsOf(ds.split.train), testRows: rowsOf(ds.split.test), out, device,
        minutes, resume: Boolean(v.resume) && existsSync(join(out, 'last', 'config.json')), shouldStop: sig.requested, extra: { dataset: resolve(dataDir) },
        evalSamples: num(v, 'eval-samples', 64, { integer: true, min: 1 }),
      });
    } finally {
      sig.remove();
    }
    // one held-out species: the test species with the shortest caption (a quick, readable page)
    const bestDir = join(out, 'best');
    const { model, meta } = loadCheckpoint(existsSync(join(bestDir, 'config.json')) ? bestDir : join(out, 'last'), { device });
    const species = [...ds.split.test].sort((a, b) => a.caption.length - b.caption.length || a.id - b.id)[0];
    console.log(`\ngenerating #${species.key} ${species.names.en} (held out: never seen in training) from its caption and from its image…`);
    const outcome = generateJob(model, {
      name: `${species.names.en} (#${species.key}, held out) — ${meta.name}`, outDir: join(out, 'generate'), scale: 12, device,
      context: defaultContext(model, seqLen), structured: true,
      sampling: { temperature: num(v, 'temperature', 0.7, { min: 0 }), topK: num(v, 'top-k', 10, { integer: true, min: 0 }), generator: new Generator(train.seed) }, species,
    });
    for (const s of outcome.summary) console.log(`  ${s}`);
    const bestLoss = result.best ? `${result.best.testLoss.toFixed(4)} (perplexity ${Math.exp(result.best.testLoss).toFixed(2)})` : '—';
    console.log(`\ndone in ${formatDuration((Date.now() - t0) / 1000)}: ${result.globalStep} steps, ${Math.round(result.tokensPerSec)} tokens/s, best test loss ${bestLoss}`);
    console.log(`PNG:  ${outcome.pngPaths.join(', ') || '(no image generated)'}`);
    console.log(`text: ${outcome.textPath}`);
    console.log(`HTML: ${outcome.htmlPath}`);
    console.log(`plot: ${join(out, 'training.svg')}   metrics: ${join(out, 'metrics.csv')}`);
    return result.status === 'interrupted' ? 130 : 0;
  });
}

