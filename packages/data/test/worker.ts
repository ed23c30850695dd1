import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startWorker, type WorkerClient } from '@stepflow-packs/core/client';
import type { Dialect } from '@stepflow-packs/core';

/** The built binary (integration tests run it as a real subprocess). */
export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

export type Transport = 'stdio' | 'http-subprocess';

export async function startData(
  transport: Transport,
  dialect: Dialect,
  env: Record<string, string> = {},
): Promise<WorkerClient> {
  if (!existsSync(BIN))
    throw new Error(`${BIN} is missing: build the pack first (npx tsc -p tsconfig.build.json)`);
  const spec = {
    command: process.execPath,
    args: [BIN, '--transport', transport === 'stdio' ? 'stdio' : 'http'],
    env: { PATH: process.env.PATH ?? '', STEPFLOW_LOG_LEVEL: 'warn', ...env },
  };
  return startWorker({ transport, ...spec }, { dialect, requestTimeoutMs: 15_000 });
}
