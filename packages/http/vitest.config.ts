import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Fault tests measure wall time and RSS on a small shared machine: one file at a time.
    fileParallelism: false,
  },
});
