import { randomUUID } from 'node:crypto';
import { SettingsError } from '../../settings.js';
import { normalizeGrpcUrl, ORCHESTRATOR_MAX_MESSAGE_BYTES } from './channels.js';
import type { GrpcWorkerOptions } from './worker.js';

/** Flags of the gRPC transport, for `parseArgs`. */
export const GRPC_FLAGS = {
  'tasks-url': { type: 'string' },
  'queue-name': { type: 'string' },
  'max-concurrent': { type: 'string' },
  'blob-url': { type: 'string' },
  'worker-id': { type: 'string' },
  'reconnect-timeout-secs': { type: 'string' },
  'grpc-max-message-bytes': { type: 'string' },
} as const;

/** Settings (flag, variable, default): the Python SDK's names where it has them. */
export const GRPC_SETTINGS = [
  ['--tasks-url', 'STEPFLOW_TASKS_URL', 'orchestrator gRPC address (default 127.0.0.1:7840)'],
  ['--queue-name', 'STEPFLOW_QUEUE_NAME', "the plugin's queueName (default: the pack name)"],
  ['--max-concurrent', 'STEPFLOW_MAX_CONCURRENT', 'components running at once (default 16)'],
  ['--blob-url', 'STEPFLOW_BLOB_URL', 'gRPC BlobService address (default: the tasks URL)'],
  ['--worker-id', 'STEPFLOW_WORKER_ID', 'worker id in PullTasks and heartbeats (default: a UUID)'],
  [
    '--reconnect-timeout-secs',
    'STEPFLOW_RECONNECT_TIMEOUT_SECS',
    'exit 1 after this long without a task stream (default 60, 0 = never)',
  ],
  [
    '--grpc-max-message-bytes',
    'STEPFLOW_GRPC_MAX_MESSAGE_BYTES',
    `largest message sent to the orchestrator (default ${ORCHESTRATOR_MAX_MESSAGE_BYTES})`,
  ],
] as const;

/** `--transport auto` picks gRPC when the orchestrator's launch environment says so. */
export function launchedForGrpc(env: Record<string, string | undefined>): boolean {
  return env.STEPFLOW_TRANSPORT === 'grpc' || Boolean(env.STEPFLOW_TASKS_URL);
}

function integer(
  raw: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new SettingsError([
      `${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    ]);
  }
  return n;
}

function url(raw: string, name: string): string {
  try {
    return normalizeGrpcUrl(raw);
  } catch (err) {
    throw new SettingsError([`${name}: ${err instanceof Error ? err.message : String(err)}`]);
  }
}

/** Resolve the gRPC worker's settings; flags win over the environment. Throws SettingsError. */
export function grpcOptionsFrom(
  flags: Record<string, unknown>,
  env: Record<string, string | undefined>,
  defaults: { queueName: string; shutdownGraceMs: number; blobTimeoutMs: number },
): Omit<GrpcWorkerOptions, 'log'> {
  const pick = (flag: string, variable: string) => {
    const value = flags[flag];
    return typeof value === 'string' ? value : env[variable] || undefined;
  };
  const tasksUrl = url(
    pick('tasks-url', 'STEPFLOW_TASKS_URL') ?? '127.0.0.1:7840',
    'STEPFLOW_TASKS_URL (--tasks-url)',
  );
  const blobUrl = url(
    pick('blob-url', 'STEPFLOW_BLOB_URL') ?? tasksUrl,
    'STEPFLOW_BLOB_URL (--blob-url)',
  );
  const queueName = pick('queue-name', 'STEPFLOW_QUEUE_NAME') ?? defaults.queueName;
  if (!/^\S+$/.test(queueName)) {
    throw new SettingsError([
      `STEPFLOW_QUEUE_NAME (--queue-name): must be a non-empty name without spaces, got ${JSON.stringify(queueName)}`,
    ]);
  }
  const workerId = pick('worker-id', 'STEPFLOW_WORKER_ID') ?? randomUUID();
  return {
    tasksUrl,
    blobUrl,
    queueName,
    workerId,
    maxConcurrent: integer(
      pick('max-concurrent', 'STEPFLOW_MAX_CONCURRENT'),
      'STEPFLOW_MAX_CONCURRENT (--max-concurrent)',
      16,
      1,
      1024,
    ),
    reconnectTimeoutMs:
      integer(
        pick('reconnect-timeout-secs', 'STEPFLOW_RECONNECT_TIMEOUT_SECS'),
        'STEPFLOW_RECONNECT_TIMEOUT_SECS (--reconnect-timeout-secs)',
        60,
        0,
        86_400,
      ) * 1000,
    maxMessageBytes: integer(
      pick('grpc-max-message-bytes', 'STEPFLOW_GRPC_MAX_MESSAGE_BYTES'),
      'STEPFLOW_GRPC_MAX_MESSAGE_BYTES (--grpc-max-message-bytes)',
      ORCHESTRATOR_MAX_MESSAGE_BYTES,
      1024,
      2 ** 31 - 1,
    ),
    shutdownGraceMs: defaults.shutdownGraceMs,
    blobTimeoutMs: defaults.blobTimeoutMs,
  };
}
