import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { startCluster } from '../../scripts/embedded-pg.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the test server. */
    pgUrl: string;
    /** The server's log file when it is our embedded cluster, else ''. */
    pgLogFile: string;
  }
}

/**
 * One PostgreSQL for the whole test run: DATABASE_URL (or TEST_DATABASE_URL) when set,
 * otherwise a throwaway embedded cluster (a few hundred ms to start).
 */
export default async function setup(project: TestProject) {
  const external = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (external) {
    project.provide('pgUrl', external);
    project.provide('pgLogFile', '');
    return;
  }
  const cluster = await startCluster({ password: `pw-${randomBytes(8).toString('hex')}` });
  project.provide('pgUrl', cluster.url);
  project.provide('pgLogFile', cluster.logFile);
  return async () => {
    await cluster.stop();
  };
}
