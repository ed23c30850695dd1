import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One throwaway PostgreSQL (or DATABASE_URL) for the whole run; each file gets a database.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Fault tests measure wall time on a small shared machine: one file at a time.
    fileParallelism: false,
  },
});
