import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Kernels are CPU-bound; two forks match the 2-core machines we run on.
    pool: 'forks',
    maxWorkers: 2,
    // global.gc for the tests of finalizer backstops (test/native/memory.test.ts)
    execArgv: ['--expose-gc'],
  },
});
