import { fileURLToPath } from 'node:url';
import { MemoryBlobStore, RpcError, type WorkerClient } from '@stepflow-packs/core/client';
import { startBuiltWorker } from '@stepflow-packs/core/testing';

export const binPath = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

export interface PackWorker {
  worker: WorkerClient;
  blobs: MemoryBlobStore;
  /** Every frame the worker wrote to stdout. */
  received: string[];
  close(): Promise<void>;
}

/** The built binary over stdio, with the given environment (PATH added). */
export async function startPackWorker(
  env: Record<string, string>,
  options: { dialect?: 'v0.8' | 'v0.11'; args?: string[]; requestTimeoutMs?: number } = {},
): Promise<PackWorker> {
  const blobs = new MemoryBlobStore();
  const received: string[] = [];
  const worker = await startBuiltWorker(binPath, 'stdio', {
    // The pack's default log level (info), so tests see what operators would.
    env: { STEPFLOW_LOG_LEVEL: 'info', ...env },
    ...(options.args ? { args: options.args } : {}),
    dialect: options.dialect ?? 'v0.11',
    blobStore: blobs,
    requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
    tap: (direction, frame) => {
      if (direction === 'received') received.push(frame);
    },
  });
  return { worker, blobs, received, close: () => worker.close() };
}

export interface Outcome {
  ok: boolean;
  output?: Record<string, unknown>;
  error?: { code: number; message: string; data: Record<string, unknown> };
  ms: number;
}

/** Execute and capture the outcome and wall time without throwing worker errors. */
export async function run(
  worker: WorkerClient,
  component: string,
  input: unknown,
): Promise<Outcome> {
  const started = performance.now();
  try {
    const output = (await worker.execute(component, input)) as Record<string, unknown>;
    return { ok: true, output, ms: performance.now() - started };
  } catch (err) {
    if (err instanceof RpcError) {
      return {
        ok: false,
        error: {
          code: err.code,
          message: err.message,
          data: (err.data ?? {}) as Record<string, unknown>,
        },
        ms: performance.now() - started,
      };
    }
    throw err;
  }
}

export function isAlive(worker: WorkerClient): boolean {
  return worker.process !== undefined && worker.process.exitInfo === undefined;
}
