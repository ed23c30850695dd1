import { fileURLToPath } from 'node:url';
import type { WorkerClient } from '@stepflow-packs/core/client';
import { startBuiltWorker } from '@stepflow-packs/core/testing';
import type { JsonRpcDialect as Dialect } from '@stepflow-packs/core';

/** The built binary (integration tests run it as a real subprocess). */
export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

export type Transport = 'stdio' | 'http-subprocess';

export async function startData(
  transport: Transport,
  dialect: Dialect,
  env: Record<string, string> = {},
): Promise<WorkerClient> {
  return startBuiltWorker(BIN, transport, { env, dialect, requestTimeoutMs: 15_000 });
}
