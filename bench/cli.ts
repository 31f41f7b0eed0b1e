/**
 * `pixelbytes bench [--filter REGEX] [--quick] [--threads N] [--device NAME] [--out FILE] [--list] [--json]`:
 * runs every registered suite (bench/suites/index.ts) on our engine — its TypeScript kernels and,
 * when built, the native CPU device 'cpu-native' (1 and N threads each) — and on the peers: tfjs
 * ('cpu' and 'wasm' backends) and, for matmul, numpy's OpenBLAS (a python3 subprocess, 1 and N
 * threads); prints a table (median ms, GFLOP/s, speed-up vs the TypeScript kernels and vs each
 * peer) and writes the results as JSON to bench-results/<timestamp>.json (or --out FILE).
 * With --device NAME (cuda, cuda-emu): each of our cases on the CPU (N threads) and on that device
 * (inputs moved with .to(NAME), the device synchronised before the clock stops), device ms vs CPU ms.
 */
import { parseArgs } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import os from 'node:os';
import { getNumThreads, setNumThreads, hasDevice, getDevice, listDevices, unavailableDevices, Tensor, nn } from '../src/index.js';
import { nativeLoads } from '../src/backend/native/index.js';
import { suites } from './suites/index.js';
import { makeEngines, loadTfjs, type Engine } from './engines.js';
import { runAll, addRatios, fmt, PEERS, type Selected } from './runner.js';
import type { BenchResult, EngineId, Impl, Tfjs } from './types.js';

const HELP = `usage: pixelbytes bench [options]

  --filter REGEX   run only (case, engine) pairs whose "suite/op shape engine" matches,
                   e.g. --filter 'matmul 256', --filter 'tfjs-wasm', --filter '^conv2d/'
  --quick          fewer samples, and only the cases marked quick
  --threads N      thread count of the multi-threaded run of our engine (default ${getNumThreads()}:
                   PIXELBYTES_THREADS or os.availableParallelism())
  --device NAME    also run each of our cases on device NAME (cuda, cpu-native, cuda-emu): prints device ms,
                   CPU ms (--threads threads) and CPU ms / device ms; no tfjs rows. Exit 2 (with
                   the reason) if the device is unavailable
  --out FILE       where to write the JSON results (default bench-results/<timestamp>.json)
  --list           list the cases and exit
  --json           print the JSON instead of the table

Engines: ours (TS) = the TypeScript kernels; cpu-native = the native CPU device (SIMD, threads);
tfjs-cpu / tfjs-wasm; openblas = numpy's OpenBLAS sgemm (matmul only; python3 + numpy needed).
Columns: median ms over the samples; GFLOP/s = flops / median; "vs TS" (cpu-native rows) = the
TypeScript kernels' median at the same thread count / this median; "vs <peer>" = that peer's
median (at the same thread count where it has one) / this median (> 1: faster than the peer).`;

export async function benchCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: {
      filter: { type: 'string' },
      quick: { type: 'boolean', default: false },
      threads: { type: 'string' },
      device: { type: 'string' },
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

  const device = values.device ?? null;
  let deviceName = device;
  if (device !== null) {
    if (!hasDevice(device) || device === 'cpu') {
      const reason = device === 'cpu' ? 'the CPU is the baseline; name an accelerator'
        : unavailableDevices().find(([n]) => n === device)?.[1] ?? `unknown device (known: ${listDevices().join(', ')})`;
      console.error(`bench: device '${device}' is unavailable: ${reason}`);
      return 2;
    }
    deviceName = nativeLoads.find((l) => l.device === device)?.info?.name || device;
  }
  // With --device: ours at N threads on the CPU (the baseline) and ours on the device.
  const engines = device === null ? makeEngines(threads) : [makeEngines(threads).filter((e) => e.id === 'ours').at(-1)!, deviceEngine(device, threads)];
  const all: Selected[] = suites.flatMap((s) => s.cases().map((c) => ({ suite: s.name, c })));
  const picked = all.filter(({ c }) => !values.quick || c.quick);
  const key = (s: Selected, engine: string) => `${s.suite}/${s.c.op} ${s.c.shape} ${engine}`;
  const pairs = engines.map((e) => ({ engine: e, sel: picked.filter((s) => s.c.impls[e.family] && (!filter || filter.test(key(s, e.id)))) }));
  if (device !== null) {
    // the device engine runs the CPU engine's cases (so that every device row has its CPU row)
    pairs[1].sel = pairs[0].sel.map((s) => ({ suite: s.suite, c: { ...s.c, impls: { ours: onDevice(s.c.impls.ours!, device) } } }));
  } else {
    // cpu-native rows: our cases with their tensors and modules moved to the native CPU device
    for (const p of pairs) if (p.engine.id === 'cpu-native') p.sel = p.sel.map((s) => ({ suite: s.suite, c: { ...s.c, impls: { ours: onDevice(s.c.impls.ours!, 'cpu-native') } } }));
    if (!hasDevice('cpu-native')) console.error(`  cpu-native: not benchmarked (${unavailableDevices().find(([n]) => n === 'cpu-native')?.[1] ?? 'not registered'})`);
  }

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
  if (device !== null) {   // JSON: a device row's vs.ours = CPU median / device median
    for (const r of results) {
      const cpu = results.find((q) => q.suite === r.suite && q.op === r.op && q.shape === r.shape && q.engine === 'ours' && !q.error);
      if (r.engine === (device as EngineId) && cpu && !r.error) r.vs.ours = cpu.medianMs / r.medianMs;
    }
  }
  const seconds = (performance.now() - t0) / 1e3;

  const tfVersion = pairs.some((p) => p.engine.family === 'tfjs' && p.sel.length) ? (await loadTfjs()).version.tfjs : null;
  const cpus = os.cpus();
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: { model: cpus[0]?.model ?? 'unknown', count: cpus.length, availableParallelism: os.availableParallelism() },
    tfjs: tfVersion,
    options: { filter: values.filter ?? null, quick: values.quick, threads, device },
    device: device === null ? null : { name: device, detail: deviceName },
    seconds,
    results,
  };
  const out = resolve(values.out ?? `bench-results/${report.date.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');

  if (values.json) console.log(JSON.stringify(report, null, 2));
  else if (device !== null) {
    console.log(`device: ${device} (${deviceName}); CPU: ours at ${threads} thread${threads > 1 ? 's' : ''}`);
    console.log(deviceTable(results, all, device));
    const epochs = epochLines(results, all);
    if (epochs.length) console.log(`\nOne training epoch (steps × median step):\n${epochs.join('\n')}`);
    console.log(`\n${results.length} benchmarks in ${seconds.toFixed(0)} s; node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? '?'}. JSON: ${out}`);
  } else {
    console.log(table(results, all));
    const epochs = epochLines(results, all);
    if (epochs.length) console.log(`\nOne training epoch (steps × median step):\n${epochs.join('\n')}`);
    console.log(`\n${results.length} benchmarks in ${seconds.toFixed(0)} s; node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? '?'}${tfVersion ? `, tfjs ${tfVersion}` : ''}. JSON: ${out}`);
  }
  return 0;
}

function table(results: BenchResult[], order: Selected[]): string {
  const header = ['op', 'shape', 'engine', 'threads', 'median ms', 'GFLOP/s', 'vs TS', ...PEERS.map((p) => `vs ${p}`)];
  const caseIndex = (r: BenchResult) => order.findIndex((s) => s.suite === r.suite && s.c.op === r.op && s.c.shape === r.shape);
  const engineRank = (r: BenchResult) => (r.engine === 'ours' ? r.threads : r.engine === 'cpu-native' ? 100 + r.threads : 1000 + 10 * PEERS.indexOf(r.engine) + r.threads);
  const ratio = (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(2)}×`);
  const rows = [...results].sort((a, b) => caseIndex(a) - caseIndex(b) || engineRank(a) - engineRank(b)).map((r) => [
    r.op, r.shape, r.engine === 'ours' ? 'ours (TS)' : r.engine, String(r.threads),
    r.error ? `error: ${r.error.slice(0, 60)}` : fmt(r.medianMs),
    r.gflops === null ? '—' : r.gflops.toFixed(2),
    ratio(r.vs.ts),
    ...PEERS.map((p) => ratio(r.vs[p])),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const right = new Set([3, 4, 5, 6, 7, 8, 9]);
  const line = (cells: string[]) => `| ${cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (right.has(i) ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|')}|`, ...rows.map(line)].join('\n');
}

function epochLines(results: BenchResult[], order: Selected[]): string[] {
  const out: string[] = [];
  for (const s of order) {
    const steps = s.c.epochSteps;
    if (!steps) continue;
    const rows = results.filter((r) => r.suite === s.suite && r.op === s.c.op && r.shape === s.c.shape && !r.error);
    if (!rows.length) continue;
    const cells = rows.map((r) => `${r.engine === 'ours' ? 'ours (TS)' : r.engine}×${r.threads} ${formatSeconds(steps * r.medianMs / 1e3)}`);
    out.push(`  ${s.c.shape} (${steps} steps): ${cells.join(' · ')}`);
  }
  return out;
}

function formatSeconds(s: number): string {
  return s >= 120 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`;
}

/** Our engine on another device: host threads as the CPU run (for any host-side work). */
function deviceEngine(device: string, threads: number): Engine {
  return {
    id: device as EngineId, family: 'ours', threads: 1,
    prepare: async () => { setNumThreads(threads); return { engine: 'ours', threads: 1, tf: null as unknown as Tfjs }; },
  };
}

/** Moves the tensors and modules of a setup state (its values, one level of arrays) to `device`, in place. */
function moveTo(v: unknown, device: string, depth = 0): void {
  if (v instanceof Tensor) { if (v.device !== device) v.adopt(v.to(device)); return; }
  if (v instanceof nn.Module) { v.to(device); return; }
  if (depth > 1 || v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) { for (const x of v) moveTo(x, device, depth + 1); return; }
  if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) moveTo(x, device, depth + 1);
}

/** A case's `ours` implementation on `device`: inputs moved after setup, the device synchronised after each run. */
function onDevice(impl: Impl, device: string): Impl {
  const dev = getDevice(device);
  return {
    setup: async (ctx) => { const s = await impl.setup(ctx); moveTo(s, device); dev.synchronize?.(); return s; },
    run: (s) => { impl.run(s); dev.synchronize?.(); },
    teardown: impl.teardown ? (s) => impl.teardown!(s) : undefined,
  };
}

function deviceTable(results: BenchResult[], order: Selected[], device: string): string {
  const caseIndex = (r: BenchResult) => order.findIndex((s) => s.suite === r.suite && s.c.op === r.op && s.c.shape === r.shape);
  const header = ['op', 'shape', 'CPU ms', `${device} ms`, `${device} GFLOP/s`, `CPU / ${device}`];
  const rows = results.filter((r) => r.engine === (device as EngineId)).sort((a, b) => caseIndex(a) - caseIndex(b)).map((r) => {
    const cpu = results.find((q) => q.suite === r.suite && q.op === r.op && q.shape === r.shape && q.engine === 'ours');
    const cell = (x: BenchResult | undefined) => (!x ? '—' : x.error ? `error: ${x.error.slice(0, 60)}` : fmt(x.medianMs));
    const ratio = cpu && !cpu.error && !r.error ? `${(cpu.medianMs / r.medianMs).toFixed(2)}×` : '—';
    return [r.op, r.shape, cell(cpu), cell(r), r.gflops === null ? '—' : r.gflops.toFixed(2), ratio];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (i >= 2 ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|')}|`, ...rows.map(line)].join('\n');
}
