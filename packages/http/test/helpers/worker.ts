import { fileURLToPath } from 'node:url';
import { MemoryBlobStore, type WorkerClient } from '@stepflow-packs/core/client';
import { startBuiltWorker } from '@stepflow-packs/core/testing';

export const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

export type Mode = 'stdio' | 'http-subprocess';
export type Dialect = 'v0.8' | 'v0.11';

export interface StartedWorker {
  worker: WorkerClient;
  blobs: MemoryBlobStore;
  /** Every frame received from the worker (stdout in stdio mode, HTTP bodies otherwise). */
  received: string[];
  /** stdout lines that were not protocol frames. */
  junk: string[];
  /** Everything the process wrote to stdout and stderr (raw). */
  stdout: () => string;
  stderr: () => string;
}

/** Start the built `stepflow-pack-http` binary through core/client. */
export async function startHttpWorker(
  mode: Mode,
  dialect: Dialect,
  options: { args?: string[]; env?: Record<string, string>; requestTimeoutMs?: number } = {},
): Promise<StartedWorker> {
  const blobs = new MemoryBlobStore();
  const received: string[] = [];
  const junk: string[] = [];
  const worker = await startBuiltWorker(BIN, mode, {
    ...(options.args ? { args: options.args } : {}),
    ...(options.env ? { env: options.env } : {}),
    dialect,
    blobStore: blobs,
    requestTimeoutMs: options.requestTimeoutMs ?? 20_000,
    tap: (direction, frame) => {
      if (direction === 'received') received.push(frame);
    },
    onJunk: (line) => junk.push(line),
  });
  let stdout = '';
  let stderr = '';
  worker.process?.child.stdout?.on(
    'data',
    (chunk: Buffer | string) => (stdout += chunk.toString()),
  );
  worker.process?.child.stderr?.on(
    'data',
    (chunk: Buffer | string) => (stderr += chunk.toString()),
  );
  return { worker, blobs, received, junk, stdout: () => stdout, stderr: () => stderr };
}

/** Resident-set peak (VmHWM) and current size (VmRSS) of a process, in bytes (Linux /proc). */
export async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

export async function rpcError(
  promise: Promise<unknown>,
): Promise<{ code: number; message: string; data: Record<string, unknown> }> {
  try {
    const value = await promise;
    throw new Error(`expected an error, got ${JSON.stringify(value)}`);
  } catch (err) {
    const e = err as { code?: unknown; message: string; data?: unknown };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, message: e.message, data: (e.data ?? {}) as Record<string, unknown> };
  }
}
