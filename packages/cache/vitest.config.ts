import { defineConfig } from 'vitest/config';

// Files run one at a time: the fault tests measure latencies on a shared 2-core machine.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 90_000,
    fileParallelism: false,
  },
});
