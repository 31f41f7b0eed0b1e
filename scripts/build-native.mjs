#!/usr/bin/env node
// `npm install` (the prepare script) builds the native addon when it can, so that `npm start`
// trains on the native CPU device (and on CUDA where nvcc and a GPU exist) with no extra step.
// It never fails the install: without cmake or a C++ compiler it says so in one sentence and the
// engine uses its TypeScript kernels. `npm run build:native` is the strict build (CI uses it).
//
//   PIXELBYTES_SKIP_NATIVE_BUILD=1   skip it (TypeScript kernels only)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.env.PIXELBYTES_SKIP_NATIVE_BUILD && process.env.PIXELBYTES_SKIP_NATIVE_BUILD !== '0') {
  console.log('pixelbytes: native addon not built (PIXELBYTES_SKIP_NATIVE_BUILD is set); the TypeScript kernels will be used.');
  process.exit(0);
}
const cmakeJs = join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
if (!existsSync(cmakeJs)) {
  console.log('pixelbytes: native addon not built (cmake-js is not installed); the TypeScript kernels will be used.');
  process.exit(0);
}
const cmake = spawnSync('cmake', ['--version'], { encoding: 'utf8' });
if (cmake.error || cmake.status !== 0) {
  console.log('pixelbytes: native addon not built (cmake was not found: install cmake and a C++ compiler, then run npm run build:native); the TypeScript kernels will be used.');
  process.exit(0);
}
console.log('pixelbytes: building the native addon (npm run build:native: the native CPU device, the CUDA emulator and, with nvcc, the CUDA kernels)…');
const t0 = Date.now();
const r = spawnSync(process.execPath, [cmakeJs, 'compile'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.log('pixelbytes: the native build failed (above); the TypeScript kernels will be used. Fix it and run npm run build:native.');
  process.exit(0);
}
console.log(`pixelbytes: native addon built in ${((Date.now() - t0) / 1000).toFixed(0)} s (npx pixelbytes doctor lists the devices).`);
