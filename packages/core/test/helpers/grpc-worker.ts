import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const grpcPack = fileURLToPath(new URL('../fixtures/grpc-pack.mjs', import.meta.url));

export interface StartedWorker {
  child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Everything written to stdout (must stay empty). */
  stdout(): string;
  /** Log lines parsed from stderr. */
  logs(): Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start a pack binary as a 0.13 orchestrator would: the launch environment, no stdin. */
export function startGrpcWorker(
  tasksUrl: string,
  env: Record<string, string> = {},
  args: string[] = [],
  script = grpcPack,
): StartedWorker {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      STEPFLOW_TRANSPORT: 'grpc',
      STEPFLOW_TASKS_URL: tasksUrl,
      STEPFLOW_QUEUE_NAME: 'fixture',
      STEPFLOW_BLOB_URL: tasksUrl,
      STEPFLOW_LOG_LEVEL: 'info',
      ...env,
    },
  });
  let err = '';
  let out = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    logs: () =>
      err
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Poll a condition (every 20 ms) until it holds; fails with `what` after `timeoutMs`. */
export async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
