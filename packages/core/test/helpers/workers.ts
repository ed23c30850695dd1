import { fileURLToPath } from 'node:url';
import { afterAll, expect } from 'vitest';
import {
  MemoryBlobStore,
  startWorker,
  type WorkerClient,
  type WorkerSpec,
} from '../../src/client/index.js';
import type { JsonRpcDialect as Dialect } from '../../src/protocol.js';
import { ProtocolTap, type Violation } from './protocol-validator.js';

export const FIXTURE_BIN = fileURLToPath(new URL('../fixtures/fixture-pack.mjs', import.meta.url));

export type Mode = 'stdio' | 'http-subprocess';

const taps: ProtocolTap[] = [];

/**
 * Start a built worker through core/client with a schema-validating frame tap; every test file
 * using this asserts at the end that no frame violated the official protocol schema.
 */
export async function start(
  bin: string,
  mode: Mode,
  dialect: Dialect,
  options: {
    args?: string[];
    env?: Record<string, string>;
    blobStore?: MemoryBlobStore;
    requestTimeoutMs?: number;
  } = {},
): Promise<{ worker: WorkerClient; tap: ProtocolTap; blobs: MemoryBlobStore }> {
  const tap = new ProtocolTap(dialect);
  taps.push(tap);
  const blobs = options.blobStore ?? new MemoryBlobStore();
  const spec: WorkerSpec = {
    transport: mode,
    command: process.execPath,
    args: [bin, ...(options.args ?? [])],
    env: { PATH: process.env.PATH ?? '', STEPFLOW_LOG_LEVEL: 'warn', ...options.env },
  };
  const worker = await startWorker(spec, {
    dialect,
    blobStore: blobs,
    tap: tap.tap,
    requestTimeoutMs: options.requestTimeoutMs ?? 20_000,
  });
  return { worker, tap, blobs };
}

export function assertNoProtocolViolations(): void {
  afterAll(() => {
    const violations: Violation[] = taps.flatMap((t) => t.violations);
    const frames = taps.reduce((n, t) => n + t.frames, 0);
    expect(frames).toBeGreaterThan(0);
    expect(violations).toEqual([]);
  });
}
