import { randomUUID } from 'node:crypto';
import { SettingsError } from '../../settings.js';
import type { GrpcWorkerOptions } from '../grpc/worker.js';
import type { NatsWorkerOptions } from './worker.js';

/** Flags of the NATS transport, for `parseArgs`. */
export const NATS_FLAGS = {
  'nats-url': { type: 'string' },
  'nats-stream': { type: 'string' },
  'nats-consumer': { type: 'string' },
} as const;

/** Settings (flag, variable, meaning): the Python SDK's names. */
export const NATS_SETTINGS = [
  ['--nats-url', 'STEPFLOW_NATS_URL', 'NATS server (default nats://127.0.0.1:4222)'],
  [
    '--nats-stream',
    'STEPFLOW_NATS_STREAM',
    'JetStream stream; tasks on <stream>.tasks (default STEPFLOW_TASKS)',
  ],
  [
    '--nats-consumer',
    'STEPFLOW_NATS_CONSUMER',
    'durable consumer shared by replicas (default: the pack name)',
  ],
] as const;

/** `--transport auto` picks NATS when the orchestrator's launch environment says so. */
export function launchedForNats(env: Record<string, string | undefined>): boolean {
  return env.STEPFLOW_TRANSPORT === 'nats' || Boolean(env.STEPFLOW_NATS_URL);
}

const NAME = /^[A-Za-z0-9_-]+$/;

/** Resolve the NATS worker's settings on top of the gRPC ones (blobs, concurrency, limits). */
export function natsOptionsFrom(
  flags: Record<string, unknown>,
  env: Record<string, string | undefined>,
  grpc: Omit<GrpcWorkerOptions, 'log'>,
  defaultConsumer: string,
): Omit<NatsWorkerOptions, 'log'> {
  const pick = (flag: string, variable: string) => {
    const value = flags[flag];
    return typeof value === 'string' ? value : env[variable] || undefined;
  };
  const natsUrl = pick('nats-url', 'STEPFLOW_NATS_URL') ?? 'nats://127.0.0.1:4222';
  if (!/^(nats|tls|wss?):\/\/[^\s]+$/.test(natsUrl) && !/^[^\s:/]+:\d+$/.test(natsUrl)) {
    throw new SettingsError([
      `STEPFLOW_NATS_URL (--nats-url): expected nats://host:port, got ${JSON.stringify(natsUrl)}`,
    ]);
  }
  const stream = pick('nats-stream', 'STEPFLOW_NATS_STREAM') ?? 'STEPFLOW_TASKS';
  const consumer = pick('nats-consumer', 'STEPFLOW_NATS_CONSUMER') ?? defaultConsumer;
  for (const [name, value] of [
    ['STEPFLOW_NATS_STREAM (--nats-stream)', stream],
    ['STEPFLOW_NATS_CONSUMER (--nats-consumer)', consumer],
  ] as const) {
    if (!NAME.test(value)) {
      throw new SettingsError([
        `${name}: letters, digits, "_" and "-" only, got ${JSON.stringify(value)}`,
      ]);
    }
  }
  return {
    natsUrl,
    stream,
    consumer,
    blobUrl: grpc.blobUrl ?? grpc.tasksUrl,
    workerId: grpc.workerId ?? randomUUID(),
    maxConcurrent: grpc.maxConcurrent,
    blobTimeoutMs: grpc.blobTimeoutMs,
    ...(grpc.maxMessageBytes ? { maxMessageBytes: grpc.maxMessageBytes } : {}),
    shutdownGraceMs: grpc.shutdownGraceMs,
    reconnectTimeoutMs: grpc.reconnectTimeoutMs,
  };
}
