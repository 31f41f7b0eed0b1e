/**
 * A small persistent worker_threads pool for CPU kernels that split their output rows.
 *
 * - Size: setNumThreads(n), else env PIXELBYTES_THREADS, else os.availableParallelism(). The main
 *   thread is one of the n and does its share; n − 1 workers are started lazily, on the first op
 *   big enough to split, and are unref'ed (they never keep the process alive).
 * - Kernels ship to the workers as source text: registerWorkerTask(name, [entry, ...helpers],
 *   newWorkspace) stores the functions, and the worker is built from a string
 *   (`new Worker(code, { eval: true })`) holding their Function.prototype.toString(), so a kernel
 *   has ONE source that works from dist/ and under vitest alike. Such functions must be
 *   self-contained: no imports, no module-level bindings besides each other.
 * - Per op there is no postMessage: each worker has a control block (Int32Array on a
 *   SharedArrayBuffer) holding the task id, the row range, the ints and, per buffer, a slot
 *   number, dtype, offset and length; the main thread bumps a sequence number and
 *   Atomics.notify()s; the worker Atomics.wait()s on it, runs, stores DONE and notifies back.
 * - The SharedArrayBuffers themselves reach a worker once: a small LRU table of slots (the same
 *   for every worker) maps buffers to slot numbers; a buffer not yet in a slot is posted on the
 *   worker's MessagePort and drained synchronously with receiveMessageOnPort when it wakes.
 *   Ordinary (non-shared) buffers are copied into pool-owned shared scratch (and outputs copied
 *   back), so any TypedArray works.
 * - Rows are handed out in chunks from a shared counter (Atomics.add), so a worker that wakes late
 *   (or is descheduled on a busy machine) costs nothing: the main thread takes the chunks left.
 *   A worker first claims the op (compare-exchange on its CLAIM word); when the main thread runs
 *   out of chunks it cancels the claims not yet taken and waits only for workers that did claim.
 * - Threads poll for SPIN_MS before sleeping in Atomics.wait: a futex wake-up costs 0.1–0.5 ms
 *   on a VM, as much as a whole 128³ product.
 * - Workers that have not finished booting are not waited for: until every worker reports ready,
 *   parallelRows() returns false and the caller runs single-threaded.
 */
import { Worker, MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { TypedArray } from '../../dtype.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFn = (...args: any[]) => any;
/** A task entry: (workspace, buffers, ints, rowStart, rowEnd). */
export type RowTask<W> = (ws: W, bufs: TypedArray[], ints: readonly number[], r0: number, r1: number) => void;

interface Task { name: string; id: number; fns: AnyFn[]; newWs: () => unknown; mainWs: unknown }
const tasks: Task[] = [];
const taskByName = new Map<string, Task>();

/**
 * Registers a row-split task: `fns[0]` is the entry (a RowTask), the rest the helpers it calls;
 * `newWorkspace` makes the per-thread scratch object it receives.
 */
export function registerWorkerTask<W>(name: string, fns: [RowTask<W>, ...AnyFn[]], newWorkspace: () => W): void {
  if (taskByName.has(name)) throw new Error(`registerWorkerTask: task '${name}' is already registered`);
  // the worker source declares each function by its name: an anonymous one would make every worker
  // fail to boot, and the pool would silently stay single-threaded
  for (const f of [...fns, newWorkspace]) {
    if (!/^[A-Za-z_$][\w$]*$/.test(f.name)) throw new Error(`registerWorkerTask('${name}'): every function must be a named function declaration (got ${f.name ? `'${f.name}'` : 'an anonymous function'})`);
  }
  const t: Task = { name, id: tasks.length, fns, newWs: newWorkspace, mainWs: undefined };
  tasks.push(t);
  taskByName.set(name, t);
  if (pool && pool.taskCount !== tasks.length) shutdownPool();   // rebuilt with the new task on next use
}

// ---- size --------------------------------------------------------------------------------------

function defaultThreads(): number {
  const env = process.env.PIXELBYTES_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 1) return n;
  }
  return Math.max(1, availableParallelism());
}
let numThreads = defaultThreads();

/** Threads used by CPU kernels, the main thread included (1 = no workers). */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setNumThreads: expected an integer ≥ 1, got ${n}`);
  if (n === numThreads) return;
  numThreads = n;
  shutdownPool();
}
export function getNumThreads(): number { return numThreads; }

// ---- control block layout (Int32 indices) ------------------------------------------------------
const SEQ = 0, DONE = 1, CMD = 2, TASK = 3, CHUNK = 4, ROWS = 5, NBUF = 6, NINT = 7, ERR = 8, READY = 9, CLAIM = 10;
const BUF0 = 16, MAX_BUFS = 8;                 // 4 ints per buffer: slot, dtype, element offset, length
const INT0 = BUF0 + 4 * MAX_BUFS, MAX_INTS = 256;
const CTL_INTS = INT0 + MAX_INTS;
const NSLOTS = 16;
/** How long a thread polls before it sleeps in Atomics.wait (a futex wake-up costs ~0.1–0.5 ms on a VM). */
const SPIN_MS = 2;

const dtypeCode = (a: TypedArray) => (a instanceof Float32Array ? 0 : a instanceof Float64Array ? 1 : 2);

function workerSource(): string {
  const fnSources: string[] = [];
  const seen = new Set<AnyFn>();
  for (const t of tasks) for (const f of [...t.fns, t.newWs]) if (!seen.has(f)) { seen.add(f); fnSources.push(sourceOf(f)); }
  const table = tasks.map((t) => `{ entry: ${t.fns[0].name}, newWs: ${t.newWs.name}, ws: null }`).join(',\n  ');
  return `'use strict';
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
// A worker allocates almost nothing on its own heap, so V8 would never collect the wrappers of the
// shared buffers it has been handed and dropped: their backing stores (the tensors' bytes) would stay
// alive forever. Collect them ourselves after every few replaced slots.
require('node:v8').setFlagsFromString('--expose_gc');
const collectGarbage = require('node:vm').runInNewContext('gc');
let droppedSlots = 0;
${fnSources.join('\n\n')}

const TASKS = [
  ${table}
];
const CTORS = [Float32Array, Float64Array, Int32Array];
const ctl = workerData.ctl, work = workerData.work, port = workerData.port, slots = [];
Atomics.store(ctl, ${READY}, 1);
let seen = 0;
for (;;) {
  let s;
  // spin a little before sleeping: back-to-back ops then start without a futex wake-up
  const spinEnd = performance.now() + ${SPIN_MS};
  while ((s = Atomics.load(ctl, ${SEQ})) === seen) if (performance.now() > spinEnd) Atomics.wait(ctl, ${SEQ}, seen, 1000);
  seen = s;
  let m;
  while ((m = receiveMessageOnPort(port)) !== undefined) {
    if (slots[m.message.slot]) droppedSlots++;
    slots[m.message.slot] = m.message.buffer;
  }
  if (droppedSlots >= ${NSLOTS}) { droppedSlots = 0; collectGarbage(); }
  if (ctl[${CMD}] === 1) break;
  // claim this op; fails if the main thread already finished it alone (or a newer op is posted)
  if (Atomics.compareExchange(ctl, ${CLAIM}, seen, -seen) !== seen) continue;
  try {
    const bufs = [];
    for (let i = 0; i < ctl[${NBUF}]; i++) {
      const b = ${BUF0} + 4 * i;
      bufs.push(new CTORS[ctl[b + 1]](slots[ctl[b]], ctl[b + 2] * CTORS[ctl[b + 1]].BYTES_PER_ELEMENT, ctl[b + 3]));
    }
    const ints = Array.from(ctl.subarray(${INT0}, ${INT0} + ctl[${NINT}]));
    const t = TASKS[ctl[${TASK}]];
    if (t.ws === null) t.ws = t.newWs();
    const chunk = ctl[${CHUNK}], rows = ctl[${ROWS}];
    for (;;) {   // take chunks of rows until none are left
      const r0 = Atomics.add(work, 0, 1) * chunk;
      if (r0 >= rows) break;
      t.entry(t.ws, bufs, ints, r0, Math.min(rows, r0 + chunk));
      Atomics.add(work, 1, 1);
    }
    ctl[${ERR}] = 0;
  } catch (e) {
    ctl[${ERR}] = 1;
    port.postMessage(String((e && e.stack) || e));
  }
  Atomics.store(ctl, ${DONE}, seen);
  Atomics.notify(ctl, ${DONE});
}
port.close();
`;
}

/** A function's source as a declaration named like the function (methods / arrows are wrapped). */
function sourceOf(f: AnyFn): string {
  const src = f.toString();
  if (/^(async\s+)?function[\s*]/.test(src)) return src;
  return `const ${f.name} = ${src};`;
}

// ---- the pool ----------------------------------------------------------------------------------

interface Pool {
  workers: Worker[];
  ports: MessagePort[];
  ctls: Int32Array[];
  /** work[0]: the next chunk of rows to take (shared by every thread of the op); work[1]: chunks run by workers, ever. */
  work: Int32Array;
  taskCount: number;
  seq: number;
  ready: boolean;
  slotOf: WeakMap<SharedArrayBuffer, number>;
  /**
   * The buffer in each slot, held strongly: at most NSLOTS buffers stay alive because of the pool.
   * (Not WeakRefs: a WeakRef keeps its target alive until the current job ends, and a synchronous
   * training loop is one job, so every buffer ever seen would stay alive.)
   */
  slotBufs: (SharedArrayBuffer | null)[];
  slotStamp: number[];
  stamp: number;
  scratch: (SharedArrayBuffer | null)[];
}
let pool: Pool | null = null;

function startPool(): Pool {
  const code = workerSource();
  const p: Pool = {
    workers: [], ports: [], ctls: [], work: new Int32Array(new SharedArrayBuffer(64)), taskCount: tasks.length, seq: 0, ready: false,
    slotOf: new WeakMap(), slotBufs: new Array(NSLOTS).fill(null), slotStamp: new Array(NSLOTS).fill(0), stamp: 0,
    scratch: new Array(MAX_BUFS).fill(null),
  };
  for (let w = 0; w < numThreads - 1; w++) {
    const ctl = new Int32Array(new SharedArrayBuffer(CTL_INTS * 4));
    const { port1, port2 } = new MessageChannel();
    // execArgv: [] — the worker source is CommonJS; a parent started with --input-type=module must not pass that on
    const worker = new Worker(code, { eval: true, execArgv: [], workerData: { ctl, work: p.work, port: port2 }, transferList: [port2], stdout: false, stderr: false });
    worker.unref();
    port1.unref();
    worker.on('error', (e) => { if (process.env.PIXELBYTES_DEBUG) console.error('cpu worker died:', e); if (pool === p) pool = null; });   // a dead pool is rebuilt on next use
    p.workers.push(worker); p.ports.push(port1); p.ctls.push(ctl);
  }
  return p;
}

function shutdownPool(): void {
  const p = pool;
  pool = null;
  if (!p) return;
  for (let w = 0; w < p.workers.length; w++) {
    Atomics.store(p.ctls[w], CMD, 1);
    Atomics.add(p.ctls[w], SEQ, 1);
    Atomics.notify(p.ctls[w], SEQ);
    p.ports[w].close();
    void p.workers[w].terminate();
  }
}

/** Starts the workers now (they boot in the background); parallelRows() also does this lazily. */
export function warmUpThreads(): void {
  if (numThreads > 1 && !pool) pool = startPool();
}

let parallelOps = 0;
/** Counters for tests and tuning: ops split so far, and row chunks the workers (not the main thread) ran in the current pool. */
export function threadStats(): { parallelOps: number; workerChunks: number } {
  return { parallelOps, workerChunks: pool ? Atomics.load(pool.work, 1) : 0 };
}

/** Starts the workers if needed and resolves once all have booted (false on timeout or 1 thread). */
export async function whenThreadsReady(timeoutMs = 10_000): Promise<boolean> {
  if (numThreads < 2) return false;
  warmUpThreads();
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const p = pool;
    if (p && p.ctls.every((c) => Atomics.load(c, READY) === 1)) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}

/** The slot of a shared buffer in every worker, posting it to the workers on first use. */
function slotFor(p: Pool, buf: SharedArrayBuffer): number {
  const s = p.slotOf.get(buf);
  p.stamp++;
  if (s !== undefined && p.slotBufs[s] === buf) { p.slotStamp[s] = p.stamp; return s; }
  let victim = 0;
  for (let i = 1; i < NSLOTS; i++) if (p.slotStamp[i] < p.slotStamp[victim]) victim = i;
  p.slotBufs[victim] = buf;
  p.slotStamp[victim] = p.stamp;
  p.slotOf.set(buf, victim);
  for (const port of p.ports) port.postMessage({ slot: victim, buffer: buf });
  return victim;
}

function scratchView(p: Pool, i: number, like: TypedArray): TypedArray {
  const bytes = like.byteLength;
  let sab = p.scratch[i];
  if (!sab || sab.byteLength < bytes) {
    sab = new SharedArrayBuffer(Math.max(1024, 2 ** Math.ceil(Math.log2(Math.max(bytes, 1)))));
    p.scratch[i] = sab;
  }
  switch (dtypeCode(like)) {
    case 0: return new Float32Array(sab, 0, like.length);
    case 1: return new Float64Array(sab, 0, like.length);
    default: return new Int32Array(sab, 0, like.length);
  }
}

/**
 * Runs task `name` over rows [0, rows), in chunks (multiples of `grain`) taken by the main thread
 * and the workers from a shared counter. `isOutput[i]` marks the buffers the task writes;
 * `readsOutputs` says whether it also reads them first (accumulate). Returns false (having done
 * nothing) when the pool cannot run it now: one thread, workers still booting, too many buffers,
 * fewer than two chunks.
 */
export function parallelRows(name: string, bufs: TypedArray[], ints: readonly number[], rows: number, grain: number,
  isOutput: boolean[], readsOutputs: boolean): boolean {
  if (numThreads < 2 || bufs.length > MAX_BUFS || ints.length > MAX_INTS) return false;
  const task = taskByName.get(name);
  if (!task) throw new Error(`parallelRows: no worker task '${name}' is registered`);
  if (!pool) pool = startPool();
  const p = pool;
  if (!p.ready) {
    if (!p.ctls.every((c) => Atomics.load(c, READY) === 1)) return false;
    p.ready = true;
  }
  // two chunks per thread: balanced when all run, cheap to take over when one is late
  const n = p.workers.length + 1;
  const chunk = Math.ceil(rows / (2 * n) / grain) * grain;
  if (chunk >= rows) return false;

  // buffers the workers can see: shared ones as they are, others through scratch
  // Every buffer goes through the pool's own shared scratch, even one that is already shared:
  // handing a tensor's SharedArrayBuffer to a worker ties its lifetime to two isolates' garbage
  // collectors, and V8 does not count shared bytes as memory pressure, so a training loop's
  // tensors were never collected (≈ 2 MB leaked per op). The copies cost a few % of a GEMM.
  const views = bufs.map((b, i) => {
    const v = scratchView(p, i, b);
    if (!isOutput[i] || readsOutputs) v.set(b as never);
    return v;
  });
  const seq = p.seq = p.seq >= 0x3fffffff ? 1 : p.seq + 1;   // stays a positive int32
  parallelOps++;
  Atomics.store(p.work, 0, 0);
  const active = p.workers.length > rows / chunk - 1 ? Math.ceil(rows / chunk) - 1 : p.workers.length;
  for (let w = 0; w < active; w++) {
    const ctl = p.ctls[w];
    ctl[TASK] = task.id; ctl[CHUNK] = chunk; ctl[ROWS] = rows; ctl[NBUF] = views.length; ctl[NINT] = ints.length;
    for (let i = 0; i < views.length; i++) {
      const v = views[i], b = BUF0 + 4 * i;
      ctl[b] = slotFor(p, v.buffer as SharedArrayBuffer);
      ctl[b + 1] = dtypeCode(v); ctl[b + 2] = v.byteOffset / v.BYTES_PER_ELEMENT; ctl[b + 3] = v.length;
    }
    for (let i = 0; i < ints.length; i++) ctl[INT0 + i] = ints[i];
    Atomics.store(ctl, CLAIM, seq);
    Atomics.store(ctl, SEQ, seq);
    Atomics.notify(ctl, SEQ);
  }

  if (task.mainWs === undefined) task.mainWs = task.newWs();
  let mainError: unknown = null;
  try {
    const entry = task.fns[0] as RowTask<unknown>;
    for (;;) {
      const r0 = Atomics.add(p.work, 0, 1) * chunk;
      if (r0 >= rows) break;
      entry(task.mainWs, views, ints, r0, Math.min(rows, r0 + chunk));
    }
  } catch (e) { mainError = e; Atomics.store(p.work, 0, rows); }

  const errors: string[] = [];
  for (let w = 0; w < active; w++) {
    const ctl = p.ctls[w];
    if (Atomics.compareExchange(ctl, CLAIM, seq, 0) === seq) continue;   // never started: nothing to wait for
    let v: number;
    const spinEnd = performance.now() + SPIN_MS;
    while ((v = Atomics.load(ctl, DONE)) !== seq) if (performance.now() > spinEnd) Atomics.wait(ctl, DONE, v, 1000);
    if (ctl[ERR]) errors.push(String(receiveMessageOnPort(p.ports[w])?.message ?? 'unknown error'));
  }
  if (mainError) throw mainError;
  if (errors.length) throw new Error(`worker task '${name}' failed: ${errors.join('\n')}`);
  for (let i = 0; i < bufs.length; i++) if (isOutput[i] && views[i] !== bufs[i]) bufs[i].set(views[i] as never);
  return true;
}
