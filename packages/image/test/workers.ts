import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, expect } from 'vitest';
import { MemoryBlobStore, type WorkerClient } from '@stepflow-packs/core/client';
import { startBuiltWorker } from '@stepflow-packs/core/testing';

export const IMAGE_BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

export type Mode = 'stdio' | 'http-subprocess';
export type Dialect = 'v0.8' | 'v0.11';

const violations: string[] = [];
let frames = 0;

/** The v0.8 runtime's strict frame rules (ids string or integer, never null; integer codes). */
function checkFrame(frame: string): void {
  frames++;
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(frame) as Record<string, unknown>;
  } catch {
    violations.push(`not JSON: ${frame.slice(0, 80)}`);
    return;
  }
  if (m.jsonrpc !== '2.0') violations.push('jsonrpc != 2.0');
  if ('id' in m && !(typeof m.id === 'string' || Number.isSafeInteger(m.id)))
    violations.push(`bad id ${JSON.stringify(m.id)}`);
  if (!('method' in m)) {
    if ('result' in m === 'error' in m) violations.push('needs exactly one of result/error');
    if ('error' in m && !Number.isInteger((m.error as { code?: unknown }).code))
      violations.push('non-integer error code');
  }
}

/** Start the built worker through core/client, checking every frame it sends. */
export async function start(
  mode: Mode,
  dialect: Dialect,
  options: { args?: string[]; env?: Record<string, string>; blobStore?: MemoryBlobStore } = {},
): Promise<{ worker: WorkerClient; blobs: MemoryBlobStore }> {
  const blobs = options.blobStore ?? new MemoryBlobStore();
  const worker = await startBuiltWorker(IMAGE_BIN, mode, {
    ...(options.args ? { args: options.args } : {}),
    ...(options.env ? { env: options.env } : {}),
    dialect,
    blobStore: blobs,
    requestTimeoutMs: 20_000,
    tap: (direction, frame) => {
      if (direction === 'received') checkFrame(frame);
    },
  });
  return { worker, blobs };
}

export function assertCleanFrames(): void {
  afterAll(() => {
    expect(frames).toBeGreaterThan(0);
    expect(violations).toEqual([]);
  });
}

/** Resident set size and its high-water mark of a process, in bytes (Linux /proc). */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}
