/**
 * `pixelbytes bench [--filter REGEX] [--quick] [--threads N] [--out FILE] [--list] [--json]`:
 * runs every registered suite (bench/suites/index.ts) on our engine (1 and N threads) and on
 * tfjs ('cpu' and 'wasm' backends), prints a table (median ms, GFLOP/s, speed-up vs each tfjs
 * backend) and writes the results as JSON to bench-results/<timestamp>.json (or --out FILE).
 */
import { parseArgs } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import os from 'node:os';
import { getNumThreads, setNumThreads } from '../src/index.js';
import { suites } from './suites/index.js';
import { makeEngines, loadTfjs } from './engines.js';
import { runAll, addRatios, fmt, PEERS, type Selected } from './runner.js';
import type { BenchResult } from './types.js';

const HELP = `usage: pixelbytes bench [options]

  --filter REGEX   run only (case, engine) pairs whose "suite/op shape engine" matches,
                   e.g. --filter 'matmul 256', --filter 'tfjs-wasm', --filter '^conv2d/'
  --quick          fewer samples, and only the cases marked quick
  --threads N      thread count of the multi-threaded run of our engine (default ${getNumThreads()}:
                   PIXELBYTES_THREADS or os.availableParallelism())
  --out FILE       where to write the JSON results (default bench-results/<timestamp>.json)
  --list           list the cases and exit
  --json           print the JSON instead of the table

Columns: median ms over the samples; GFLOP/s = flops / median; "vs tfjs-cpu" / "vs tfjs-wasm" =
that peer's median / this median (> 1: faster than the peer).`;

export async function benchCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: {
      filter: { type: 'string' },
      quick: { type: 'boolean', default: false },
      threads: { type: 'string' },
      out: { type: 'string' },
      list: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    } }));
  } catch (e) {
    console.error(`bench: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) { console.log(HELP); return 0; }
  const threads = values.threads === undefined ? getNumThreads() : Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1) { console.error(`bench: --threads must be an integer ≥ 1, got ${values.threads}`); return 2; }
  let filter: RegExp | null = null;
  try { filter = values.filter ? new RegExp(values.filter) : null; } catch (e) { console.error(`bench: bad --filter: ${(e as Error).message}`); return 2; }

  const engines = makeEngines(threads);
  const all: Selected[] = suites.flatMap((s) => s.cases().map((c) => ({ suite: s.name, c })));
  const picked = all.filter(({ c }) => !values.quick || c.quick);
  const key = (s: Selected, engine: string) => `${s.suite}/${s.c.op} ${s.c.shape} ${engine}`;
  const pairs = engines.map((e) => ({ engine: e, sel: picked.filter((s) => s.c.impls[e.family] && (!filter || filter.test(key(s, e.id)))) }));

  if (values.list) {
    for (const s of all) {
      const es = engines.filter((e) => s.c.impls[e.family]).map((e) => (e.threads > 1 ? `${e.id}×${e.threads}` : e.id));
      console.log(`${s.suite.padEnd(10)} ${s.c.op.padEnd(14)} ${s.c.shape.padEnd(22)} ${(s.c.flops / 1e6).toFixed(1).padStart(9)} MFLOP  ${s.c.quick ? 'quick ' : '      '} ${es.join(', ')}`);
    }
    return 0;
  }
  if (pairs.every((p) => p.sel.length === 0)) { console.error(`bench: nothing matches${filter ? ` --filter ${values.filter}` : ''}`); return 2; }

  const before = getNumThreads();
  const t0 = performance.now();
  const results: BenchResult[] = [];
  try {
    for (const { engine, sel } of pairs) results.push(...await runAll(sel, [engine], { quick: values.quick, log: (l) => console.error(`  ${l}`) }));
  } finally {
    setNumThreads(before);
  }
  addRatios(results);
  const seconds = (performance.now() - t0) / 1e3;

  const tfVersion = pairs.some((p) => p.engine.family === 'tfjs' && p.sel.length) ? (await loadTfjs()).version.tfjs : null;
  const cpus = os.cpus();
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: { model: cpus[0]?.model ?? 'unknown', count: cpus.length, availableParallelism: os.availableParallelism() },
    tfjs: tfVersion,
    options: { filter: values.filter ?? null, quick: values.quick, threads },
    seconds,
    results,
  };
  const out = resolve(values.out ?? `bench-results/${report.date.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');

  if (values.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(table(results, all));
    console.log(`\n${results.length} benchmarks in ${seconds.toFixed(0)} s; node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? '?'}${tfVersion ? `, tfjs ${tfVersion}` : ''}. JSON: ${out}`);
  }
  return 0;
}

function table(results: BenchResult[], order: Selected[]): string {
  const header = ['op', 'shape', 'engine', 'threads', 'median ms', 'GFLOP/s', ...PEERS.map((p) => `vs ${p}`)];
  const caseIndex = (r: BenchResult) => order.findIndex((s) => s.suite === r.suite && s.c.op === r.op && s.c.shape === r.shape);
  const engineRank = (r: BenchResult) => (r.engine === 'ours' ? r.threads : 1000 + PEERS.indexOf(r.engine));
  const rows = [...results].sort((a, b) => caseIndex(a) - caseIndex(b) || engineRank(a) - engineRank(b)).map((r) => [
    r.op, r.shape, r.engine, String(r.threads),
    r.error ? `error: ${r.error.slice(0, 60)}` : fmt(r.medianMs),
    r.gflops === null ? '—' : r.gflops.toFixed(2),
    ...PEERS.map((p) => (r.vs[p] === undefined ? '—' : `${r.vs[p]!.toFixed(2)}×`)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const right = new Set([3, 4, 5, 6, 7]);
  const line = (cells: string[]) => `| ${cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (right.has(i) ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|')}|`, ...rows.map(line)].join('\n');
}
