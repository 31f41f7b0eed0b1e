// Interop check with Python's `safetensors` (run by hand; CI has no Python safetensors):
//   npm run build && node scripts/safetensors-interop.mjs /tmp/x && python3 scripts/safetensors_interop.py /tmp/x
// Writes an nn.LSTM state dict plus float64 / int32 / scalar tensors with our writer, and a JSON of
// the exact values; the Python side loads the file with safetensors.numpy and compares bit for bit.
import * as P from '../dist/src/index.js';
import { join } from 'node:path';
const dir = process.argv[2] ?? '/tmp';
import { writeFileSync } from 'node:fs';
const gen = new P.Generator(5);
const lstm = new P.nn.LSTM(9, 8, { numLayers: 2, bidirectional: true, batchFirst: true, generator: gen });
const sd = lstm.stateDict();
sd.set('extra.f64', P.randn([3, 2], { dtype: 'float64', generator: gen }));
sd.set('extra.i32', P.fromArray([1, -2, 3, 2147483647], [2, 2], { dtype: 'int32' }));
sd.set('extra.scalar', P.scalar(3.5));
P.saveSafetensors(join(dir, 'ours.safetensors'), sd, { producer: 'pixelbytes.ts' });
const dump = {};
for (const [k, t] of sd) dump[k] = { shape: t.shape, dtype: t.dtype, values: t.toArray() };
writeFileSync(join(dir, 'ours.json'), JSON.stringify(dump));
console.log('wrote', sd.size, 'tensors');
