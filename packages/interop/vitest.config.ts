import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Provisions the stepflow-server binaries (cached in .cache/stepflow at the repo root).
    globalSetup: ['test/global-setup.ts'],
    // A pack folder runs all its flows on one or more real servers: minutes, not seconds.
    testTimeout: 240_000,
    hookTimeout: 240_000,
    // Real orchestrators and workers on a small machine: one pack folder at a time.
    fileParallelism: false,
  },
});
