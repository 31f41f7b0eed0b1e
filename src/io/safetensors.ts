/**
 * safetensors files (https://github.com/huggingface/safetensors), read and written without
 * dependencies. The format, as the reference implementation (the Rust crate behind
 * `safetensors.torch.save_file`) writes and validates it:
 *
 *   bytes 0..8      N, the header length: unsigned 64-bit little-endian
 *   bytes 8..8+N    the header: UTF-8 JSON object, starting with '{'. The reference writer emits
 *                   it compact (no whitespace) and pads it with spaces (0x20) so that N is a
 *                   multiple of 8 (the data section then starts 8-byte aligned). Keys:
 *                     "__metadata__" (optional, first): {string: string}
 *                     "<tensor name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}
 *                   in data order; offsets are byte offsets relative to the start of the data
 *                   section, end exclusive.
 *   bytes 8+N..     the data section: each tensor's elements row-major, little-endian, no gaps.
 *
 * The reference writer orders tensors by descending dtype (F64 before F32 before I32: larger
 * alignment first), then by name; for a file of one dtype that is simply by name. Validation (as
 * the reference reader): the data_offsets, sorted, must tile the data section exactly — the first
 * begins at 0, each begins where the previous ended (no gap, no overlap), the last ends at the end
 * of the file — and each span must be exactly numel(shape)·sizeof(dtype) bytes.
 *
 * Engine dtypes map to F32 (float32), F64 (float64), I32 (int32). Loading any other dtype is an
 * error that names it. Every error names the file and the fault; nothing is returned unless the
 * whole file is valid.
 */
import { openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync, readFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { endianness } from 'node:os';
import { Tensor } from '../tensor.js';
import { CpuStorage } from '../storage.js';
import { allocTyped, BYTES_PER_ELEMENT, type DType, type TypedArray } from '../dtype.js';
import { shapeStr } from '../util/shape.js';

export class SafetensorsError extends Error {
  constructor(readonly file: string, readonly fault: string) {
    super(`safetensors ${file}: ${fault}`);
    this.name = 'SafetensorsError';
  }
}

const TO_ST: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32' };
const FROM_ST: Record<string, DType> = { F32: 'float32', F64: 'float64', I32: 'int32' };
/** Every dtype the format defines (so an unsupported one is told apart from garbage). */
const KNOWN_ST = new Set(['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64', 'C64']);
/** Write order rank: descending dtype as the reference writer sorts (F64, then F32, then I32). */
const ORDER: Record<DType, number> = { float64: 0, float32: 1, int32: 2 };
/** The reference reader's limit on the header size. */
const MAX_HEADER = 100_000_000;
const LITTLE = endianness() === 'LE';

/** The bytes of a host array, little-endian. */
function leBytes(a: TypedArray): Uint8Array {
  const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (LITTLE) return view;
  const out = new Uint8Array(view.length), w = a.BYTES_PER_ELEMENT;
  for (let i = 0; i < view.length; i += w) for (let j = 0; j < w; j++) out[i + j] = view[i + w - 1 - j];
  return out;
}

/**
 * The file's bytes for these tensors (host copies are taken of device tensors): the 8-byte
 * length, the space-padded header, then the data, in the reference writer's order.
 */
export function serializeSafetensors(tensors: Map<string, Tensor>, metadata?: Record<string, string>, file = '<memory>'): Uint8Array {
  const entries = [...tensors.entries()];
  for (const [name, t] of entries) {
    if (typeof name !== 'string' || name.length === 0) throw new SafetensorsError(file, 'a tensor name is empty');
    if (name === '__metadata__') throw new SafetensorsError(file, "'__metadata__' cannot be a tensor name");
    if (!TO_ST[t.dtype]) throw new SafetensorsError(file, `tensor '${name}' has dtype ${t.dtype}, which has no safetensors code`);
  }
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(file, `metadata '${k}' must be a string, got ${typeof v}`);
    }
  }
  entries.sort(([na, a], [nb, b]) => ORDER[a.dtype] - ORDER[b.dtype] || (na < nb ? -1 : na > nb ? 1 : 0));
  // The header is assembled by hand: a JS object would move integer-like keys ("0", "1") first.
  const parts: string[] = [];
  if (metadata) {
    const keys = Object.keys(metadata).sort();
    parts.push(`"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  const datas: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    const host = t.device === 'cpu' ? t.data : t.toTyped();
    const bytes = leBytes(host);
    parts.push(`${JSON.stringify(name)}:{"dtype":"${TO_ST[t.dtype]}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + bytes.length}]}`);
    datas.push(bytes);
    offset += bytes.length;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let pos = 8 + padded;
  for (const d of datas) { out.set(d, pos); pos += d.length; }
  return out;
}

/**
 * Writes a safetensors file atomically: into a temporary file in the same directory, fsync, then
 * rename over `path` (a crash leaves either the old file or the new one, never a torn one).
 */
export function saveSafetensors(path: string, tensors: Map<string, Tensor>, metadata?: Record<string, string>): void {
  const bytes = serializeSafetensors(tensors, metadata, path);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd = -1;
  try {
    fd = openSync(tmp, 'w', 0o644);
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) try { closeSync(fd); } catch { /* already failing */ }
    try { unlinkSync(tmp); } catch { /* never created */ }
    throw new SafetensorsError(path, `could not write: ${(e as Error).message}`);
  }
  // make the rename itself durable (not possible on every platform: best effort)
  try { const dfd = openSync(dir, 'r'); try { fsyncSync(dfd); } finally { closeSync(dfd); } } catch { /* ignore */ }
}

export interface SafetensorsContents {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

interface Entry { name: string; dtype: DType; shape: number[]; begin: number; end: number }

const isNonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Parses and validates a whole safetensors image; throws SafetensorsError naming `file` and the fault. */
export function parseSafetensors(buf: Uint8Array, file = '<memory>'): SafetensorsContents {
  const fail = (fault: string): never => { throw new SafetensorsError(file, fault); };
  if (buf.length < 8) fail(`file is ${buf.length} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) fail(`header length ${n64} exceeds the ${MAX_HEADER}-byte limit`);
  const n = Number(n64);
  if (8 + n > buf.length) fail(`header length ${n} goes beyond the end of the file (${buf.length - 8} bytes after the length prefix)`);
  let text = '';
  try { text = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + n)); } catch { fail('header is not valid UTF-8'); }
  if (!text.startsWith('{')) fail(`header does not start with '{' (starts with ${JSON.stringify(text.slice(0, 10))})`);
  let header: unknown;
  try { header = JSON.parse(text); } catch (e) { fail(`header is not valid JSON: ${(e as Error).message}`); }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const h = header as Record<string, unknown>;

  const metadata: Record<string, string> = {};
  if ('__metadata__' in h) {
    const m = h.__metadata__;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) fail("'__metadata__' is not an object of strings");
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
      if (typeof v !== 'string') fail(`'__metadata__' entry '${k}' is not a string`);
      metadata[k] = v as string;
    }
  }

  const dataLen = buf.length - 8 - n;
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(h)) {
    if (name === '__metadata__') continue;
    if (typeof info !== 'object' || info === null || Array.isArray(info)) fail(`tensor '${name}': entry is not an object`);
    const { dtype, shape, data_offsets: offs } = info as Record<string, unknown>;
    if (typeof dtype !== 'string') fail(`tensor '${name}': missing dtype`);
    const dt = FROM_ST[dtype as string];
    if (!dt) {
      fail(KNOWN_ST.has(dtype as string)
        ? `tensor '${name}': dtype ${dtype} is not supported (this engine reads F32, F64, I32)`
        : `tensor '${name}': unknown dtype '${dtype}'`);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) fail(`tensor '${name}': shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isNonNegInt)) fail(`tensor '${name}': data_offsets ${JSON.stringify(offs)} is not a pair of non-negative integers`);
    const [begin, end] = offs as number[];
    if (end < begin) fail(`tensor '${name}': data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) fail(`tensor '${name}': data_offsets [${begin}, ${end}] go past the end of the data section (${dataLen} bytes)`);
    let count = 1;
    for (const d of shape as number[]) count *= d;
    const want = count * BYTES_PER_ELEMENT[dt];
    if (!Number.isSafeInteger(want) || want !== end - begin) {
      fail(`tensor '${name}': shape ${shapeStr(shape as number[])} of ${dtype} needs ${want} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
    }
    entries.push({ name, dtype: dt, shape: shape as number[], begin, end });
  }

  // the spans must tile [0, dataLen) exactly
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin < cursor) fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (which ends at ${cursor})`);
    if (e.begin > cursor) fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] leave a gap after byte ${cursor} of the data section`);
    cursor = e.end;
  }
  if (cursor !== dataLen) fail(`the tensors cover ${cursor} bytes but the data section has ${dataLen}: ${dataLen - cursor} trailing bytes`);

  // valid: build the tensors (each a copy: aligned, and independent of the file buffer)
  const tensors = new Map<string, Tensor>();
  const base = 8 + n;
  for (const e of entries) {
    const count = (e.end - e.begin) / BYTES_PER_ELEMENT[e.dtype];
    const arr = allocTyped(e.dtype, count);
    const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
    bytes.set(buf.subarray(base + e.begin, base + e.end));
    if (!LITTLE) {
      const w = arr.BYTES_PER_ELEMENT;
      for (let i = 0; i < bytes.length; i += w) bytes.subarray(i, i + w).reverse();
    }
    tensors.set(e.name, new Tensor(new CpuStorage(arr), e.shape));
  }
  return { tensors, metadata };
}

/** Reads and validates a safetensors file; tensors come back on the CPU. */
export function loadSafetensors(path: string): SafetensorsContents {
  let buf: Buffer;
  try { buf = readFileSync(path); } catch (e) { throw new SafetensorsError(path, `could not read: ${(e as Error).message}`); }
  return parseSafetensors(buf, path);
}
