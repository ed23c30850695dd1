import { defineConfig } from 'vitest/config';

// Integration tests spawn the built runner and real workers on a shared 2-core machine.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
