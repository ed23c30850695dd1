import { defineConfig } from 'vitest/config';

// `pnpm --filter @stepflow-packs/interop test -- math` runs `vitest run -- math`, and vitest
// ignores what follows `--`: those names select the pack folders' test files here instead.
const dashes = process.argv.indexOf('--');
const folders = dashes >= 0 ? process.argv.slice(dashes + 1).filter((a) => !a.startsWith('-')) : [];

export default defineConfig({
  test: {
    include: folders.length ? folders.map((name) => `test/${name}.test.ts`) : ['test/**/*.test.ts'],
    // Provisions the stepflow-server binaries (cached in .cache/stepflow at the repo root).
    globalSetup: ['test/global-setup.ts'],
    // A pack folder runs all its flows on one or more real servers: minutes, not seconds.
    testTimeout: 240_000,
    hookTimeout: 240_000,
    // Real orchestrators and workers on a small machine: one pack folder at a time.
    fileParallelism: false,
  },
});
