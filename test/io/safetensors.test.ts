// safetensors: round trip, a golden file assembled byte by byte, and one malformed file per fault.
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, fromArray, randn, nn, saveSafetensors, loadSafetensors, serializeSafetensors, SafetensorsError, type Tensor } from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'pxb-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const enc = (s: string) => new TextEncoder().encode(s);

/** 8-byte LE length + header text (padded with spaces to a multiple of 8 unless pad = false) + data. */
function build(header: string, data: number[] = [], pad = true, declared?: number): Uint8Array {
  let h = enc(header);
  if (pad && h.length % 8) h = enc(header + ' '.repeat(8 - (h.length % 8)));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(declared ?? h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}
let fileNo = 0;
function load(bytes: Uint8Array) {
  const p = join(dir, `bad${fileNo++}.safetensors`);
  writeFileSync(p, bytes);
  return { p, run: () => loadSafetensors(p) };
}

describe('save / load', () => {
  it('round trip: float32, float64, int32, scalars, empty tensors, metadata', () => {
    const ts = new Map<string, Tensor>([
      ['embed.weight', randn([113, 9])],
      ['x64', fromArray([Math.PI, -1e-300, 1e300], [3], { dtype: 'float64' })],
      ['ids', fromArray([0, -5, 2147483647], [3, 1], { dtype: 'int32' })],
      ['scalar', tensor(2.5)],
      ['empty', fromArray([], [0, 4])],
    ]);
    const p = join(dir, 'rt.safetensors');
    saveSafetensors(p, ts, { format: 'pt', note: 'héllo' });
    const { tensors, metadata } = loadSafetensors(p);
    expect(metadata).toEqual({ format: 'pt', note: 'héllo' });
    expect([...tensors.keys()].sort()).toEqual([...ts.keys()].sort());
    for (const [k, t] of ts) {
      const u = tensors.get(k)!;
      expect(u.dtype).toBe(t.dtype);
      expect(u.shape).toEqual(t.shape);
      expect(u.toArray()).toEqual(t.toArray());
    }
    // no temporary file is left behind
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('golden: the bytes of a small file, written by hand', () => {
    // header (compact JSON, __metadata__ first, then tensors in data order), 141 bytes + 3 spaces = 144
    const header = '{"__metadata__":{"format":"pt"},'
      + '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
      + '"b":{"dtype":"I32","shape":[1,1],"data_offsets":[8,12]}}';
    expect(header.length).toBe(141);
    const want = new Uint8Array([
      0x90, 0, 0, 0, 0, 0, 0, 0,                 // N = 144, u64 little-endian
      ...enc(header), 0x20, 0x20, 0x20,          // header padded to a multiple of 8
      0x00, 0x00, 0x80, 0x3f,                    // a[0] = 1.0f
      0x00, 0x00, 0x00, 0xc0,                    // a[1] = −2.0f
      0x07, 0x00, 0x00, 0x00,                    // b[0][0] = 7
    ]);
    // given in the "wrong" order: the writer sorts (by dtype F64 > F32 > I32, then by name)
    const ts = new Map<string, Tensor>([['b', fromArray([7], [1, 1], { dtype: 'int32' })], ['a', tensor([1, -2])]]);
    const p = join(dir, 'golden.safetensors');
    saveSafetensors(p, ts, { format: 'pt' });
    expect(new Uint8Array(readFileSync(p))).toEqual(want);
    expect(serializeSafetensors(ts, { format: 'pt' })).toEqual(want);
  });

  it('golden: F64 is written before F32 even when its name sorts later; no metadata key without metadata', () => {
    const header = '{"w":{"dtype":"F64","shape":[],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}';
    const bytes = serializeSafetensors(new Map<string, Tensor>([['a', tensor([0])], ['w', fromArray([1], [], { dtype: 'float64' })]]));
    expect(bytes).toEqual(build(header, [0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0]));
  });

  it('a module state dict round-trips under PyTorch names', () => {
    const l = new nn.Linear(4, 3);
    const p = join(dir, 'linear.safetensors');
    saveSafetensors(p, l.stateDict());
    const m = new nn.Linear(4, 3);
    m.loadStateDict(loadSafetensors(p).tensors);
    expect(m.weight.toArray()).toEqual(l.weight.toArray());
    expect([...loadSafetensors(p).tensors.keys()]).toEqual(['bias', 'weight']);
  });

  it('overwrites atomically; a write into a missing directory fails cleanly', () => {
    const p = join(dir, 'over.safetensors');
    saveSafetensors(p, new Map([['a', tensor([1])]]));
    saveSafetensors(p, new Map([['a', tensor([2, 3])]]));
    expect(loadSafetensors(p).tensors.get('a')!.toArray()).toEqual([2, 3]);
    const q = join(dir, 'no-such-dir', 'x.safetensors');
    expect(() => saveSafetensors(q, new Map([['a', tensor([1])]]))).toThrow(SafetensorsError);
    expect(() => saveSafetensors(q, new Map([['a', tensor([1])]]))).toThrow(q);
  });

  it('refuses bad names and metadata on save', () => {
    expect(() => serializeSafetensors(new Map([['__metadata__', tensor([1])]]))).toThrow(/cannot be a tensor name/);
    expect(() => serializeSafetensors(new Map([['a', tensor([1])]]), { n: 3 as unknown as string })).toThrow(/metadata 'n' must be a string/);
  });
});

describe('malformed files: each fault has its error, naming the file', () => {
  const okHeader = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  const cases: [string, Uint8Array, RegExp][] = [
    ['shorter than 8 bytes', new Uint8Array([1, 2, 3, 4, 5]), /file is 5 bytes, shorter than the 8-byte header length/],
    ['header length beyond the file', build(okHeader, new Array(8).fill(0), true, 1000), /header length 1000 goes beyond the end of the file/],
    ['absurd header length', build(okHeader, [], true, 2 ** 40), /exceeds the 100000000-byte limit/],
    ['invalid UTF-8', build('{"ab":1}').map((b, i) => (i === 10 ? 0xff : b)), /not valid UTF-8/],
    ['not starting with {', build('[1, 2]'), /does not start with '\{'/],
    ['invalid JSON', build('{"a": {"dtype": "F32",'), /header is not valid JSON/],
    ['unknown dtype', build('{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}', [0, 0, 0, 0]), /tensor 'a': unknown dtype 'F33'/],
    ['unsupported dtype', build('{"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}', [0, 0, 0, 0]), /tensor 'a': dtype BF16 is not supported/],
    ['bad shape', build('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', [0, 0, 0, 0]), /shape \[-1\] is not a list of non-negative integers/],
    ['bad offsets', build('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}', [0, 0, 0, 0]), /data_offsets \[0\] is not a pair/],
    ['size mismatch', build('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', [0, 0, 0, 0]), /shape \[2\] of F32 needs 8 bytes but data_offsets \[0, 4\] span 4/],
    ['out of bounds', build('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', [0, 0, 0, 0]), /data_offsets \[0, 8\] go past the end of the data section \(4 bytes\)/],
    ['overlap', build('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', new Array(8).fill(0)),
      /tensor 'b': data_offsets \[4, 8\] overlap the previous tensor/],
    ['gap', build('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', new Array(8).fill(0)), /leave a gap after byte 0/],
    ['trailing bytes', build(okHeader, new Array(12).fill(0)), /cover 8 bytes but the data section has 12: 4 trailing bytes/],
    ['metadata not strings', build('{"__metadata__":{"x":1}}'), /'__metadata__' entry 'x' is not a string/],
    ['header not an object of objects', build('{"a":5}'), /tensor 'a': entry is not an object/],
  ];
  it.each(cases)('%s', (_name, bytes, re) => {
    const { p, run } = load(bytes);
    let err: unknown;
    try { run(); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(SafetensorsError);
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).toContain(p);
  });

  it('a missing file', () => {
    expect(() => loadSafetensors(join(dir, 'nope.safetensors'))).toThrow(/nope\.safetensors: could not read/);
  });

  it('the well-formed counterpart of these files loads', () => {
    const { run } = load(build(okHeader, [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]));
    expect(run().tensors.get('a')!.toArray()).toEqual([1, 2]);
  });
});
