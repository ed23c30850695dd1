import { ErrorCodeRanges, ErrorCodes, inErrorRange, type Logger } from '@stepflow-packs/core';
import {
  RpcError,
  startWorker,
  TransportError,
  type WorkerClient,
  type WorkerSpec,
} from '@stepflow-packs/core/client';
import type { RunnerBlobStore } from '../blobs/store.js';
import type { StepflowPluginConfig } from '../config/types.js';
import { success, type StepResult } from '../execute/result.js';
import type { Version } from '../flow/model.js';
import type { Json } from '../json/value.js';
import { launchSettings, resolveCommand } from './command.js';
import { WorkerStartError, type WorkerLaunch } from './start-error.js';
import { StepCallError, type CallContext, type ListedComponent, type Plugin } from './types.js';

export interface WorkerPluginOptions {
  name: string;
  config: StepflowPluginConfig;
  version: Version;
  workingDirectory: string;
  blobStore: RunnerBlobStore;
  blobApiUrl: string | undefined;
  /** Source of `${VAR}` substitutions and of PATH for command lookup. */
  processEnv: Readonly<Record<string, string | undefined>>;
  requestTimeoutMs: number;
  /** Bound on a start: the port announcement (HTTP subprocess) and the `initialize` answer. */
  startupTimeoutMs: number;
  /** Runner extension: launch `command` workers over this transport whatever the release. */
  transportOverride?: 'stdio' | 'http' | undefined;
  warn(message: string): void;
}

const QUIET = new Set([
  'ignored a line that is not a valid protocol message',
  'worker stdout line before the port announcement',
]);

/** How a worker is reached, per emulated release (stdio in v0.8, HTTP in v0.11). */
export function workerMode(
  config: StepflowPluginConfig,
  version: Version,
  override?: 'stdio' | 'http',
): 'stdio' | 'http-subprocess' | 'http' {
  if (override && config.command !== undefined)
    return override === 'stdio' ? 'stdio' : 'http-subprocess';
  if (version === 'v0.11') return config.command !== undefined ? 'http-subprocess' : 'http';
  if (config.transport === 'http') return config.url !== undefined ? 'http' : 'http-subprocess';
  return config.command !== undefined ? 'stdio' : 'http';
}

/**
 * A `type: stepflow` plugin: one worker process (or URL) shared by every step routed to it,
 * restarted and re-initialised before a transport retry.
 */
export class WorkerPlugin implements Plugin {
  readonly type = 'stepflow';
  readonly mode: 'stdio' | 'http-subprocess' | 'http';
  #current: { client: Promise<WorkerClient> } | undefined;
  #closed = false;
  restarts = 0;
  junkLines = 0;
  readonly pids: number[] = [];

  constructor(private readonly options: WorkerPluginOptions) {
    this.mode = workerMode(options.config, options.version, options.transportOverride);
  }

  async start(): Promise<void> {
    this.#current = { client: this.#launch() };
    await this.#current.client;
  }

  #spec(): WorkerSpec {
    const { config, workingDirectory, processEnv } = this.options;
    if (this.mode === 'http') {
      if (!config.url) throw new Error('a remote worker needs "url"');
      return { transport: 'http', url: config.url };
    }
    const command = resolveCommand(config.command!, workingDirectory, processEnv.PATH ?? '');
    const { args, env } = launchSettings(config.args, config.env, processEnv);
    if (this.mode === 'stdio') {
      return {
        transport: 'stdio',
        command,
        args,
        env,
        cwd: workingDirectory,
        lifeline: true,
      };
    }
    const hc = config.healthCheck;
    return {
      transport: 'http-subprocess',
      command,
      args,
      env,
      cwd: workingDirectory,
      ...(hc
        ? { healthCheck: { path: hc.path, timeoutMs: hc.timeoutMs, retryDelayMs: hc.retryDelayMs } }
        : {}),
    };
  }

  async #launch(): Promise<WorkerClient> {
    let spec: WorkerSpec;
    try {
      spec = this.#spec();
    } catch (err) {
      const { config, workingDirectory } = this.options;
      throw new WorkerStartError(
        `cannot launch the worker: ${(err as Error).message}`,
        config.command !== undefined
          ? { command: config.command, args: config.args ?? [], cwd: workingDirectory }
          : undefined,
        undefined,
        [],
        /not found on PATH|does not exist/.test((err as Error).message),
      );
    }
    const launch: WorkerLaunch | undefined =
      spec.transport === 'http'
        ? undefined
        : { command: spec.command, args: spec.args ?? [], cwd: spec.cwd ?? '' };
    const { startupTimeoutMs } = this.options;
    let client: WorkerClient;
    try {
      client = await startWorker(
        spec.transport === 'http-subprocess' ? { ...spec, portTimeoutMs: startupTimeoutMs } : spec,
        {
          dialect: this.options.version === 'v0.8' ? 'v0.8' : 'v0.11',
          log: this.#log,
          blobStore: this.options.blobStore,
          ...(this.options.version === 'v0.11'
            ? this.options.blobApiUrl
              ? { blobApiUrl: this.options.blobApiUrl }
              : {}
            : {}),
          requestTimeoutMs: this.options.requestTimeoutMs,
          initialize: false,
          onJunk: () => {
            if (this.junkLines++ === 0)
              this.options.warn(
                `worker "${this.options.name}" wrote a stdout line that is not a protocol message; skipping such lines`,
              );
          },
        },
      );
    } catch (err) {
      throw startFailure(err, launch);
    }
    if (client.pid !== undefined) this.pids.push(client.pid);
    try {
      await initializeWithin(client, startupTimeoutMs);
    } catch (err) {
      const ownExit = client.process?.exitInfo; // undefined when it hung (start-up timeout)
      client.kill('SIGKILL');
      // The exit status and the last stderr lines arrive shortly after the failure.
      await Promise.race([client.exited, new Promise((r) => setTimeout(r, 500))]);
      await new Promise((r) => setTimeout(r, 50));
      await client.close(0);
      throw startFailure(err, launch, client, ownExit);
    }
    if (this.#closed) {
      await client.close(0);
      throw new TransportError('the environment is shutting down');
    }
    return client;
  }

  /** Client-side warnings (unknown-id or duplicate responses, …) reach the runner's warnings. */
  readonly #log: Logger = (() => {
    const warn = (msg: string, fields?: Record<string, unknown>) => {
      if (QUIET.has(msg)) return; // junk lines are counted and reported once
      this.options.warn(
        `worker "${this.options.name}": ${msg}${fields ? ` ${JSON.stringify(fields)}` : ''}`,
      );
    };
    const logger: Logger = {
      level: 'warn',
      trace: () => {},
      debug: () => {},
      info: () => {},
      warn,
      error: warn,
      child: () => logger,
      isEnabled: (level) => level === 'warn' || level === 'error',
    };
    return logger;
  })();

  async execute(component: string, input: Json, ctx: CallContext): Promise<StepResult> {
    const current = this.#current ?? (this.#current = { client: this.#launch() });
    let client: WorkerClient;
    try {
      client = await current.client;
    } catch (err) {
      throw this.#transportFailure(err, current, undefined);
    }
    try {
      const output = await client.execute(component, input, {
        attempt: ctx.attempt,
        observability: {
          run_id: ctx.runId,
          step_id: ctx.stepId,
          ...(ctx.flowId ? { flow_id: ctx.flowId } : {}),
        },
      });
      return success(output as Json);
    } catch (err) {
      if (
        err instanceof RpcError &&
        !(err instanceof TransportError) &&
        !inErrorRange(err.code, ErrorCodeRanges.TRANSPORT)
      ) {
        return Promise.reject(
          new StepCallError(
            'component',
            err.code,
            err.message,
            (err.data ?? undefined) as Json | undefined,
          ),
        );
      }
      if (err instanceof RpcError && err.code === ErrorCodes.TRANSPORT_TIMEOUT)
        client.kill('SIGKILL'); // a hung worker: kill its process group
      // A dying worker: give its exit status a moment to arrive so the report can name it.
      if (client.process && !client.process.exitInfo)
        await Promise.race([client.exited, new Promise((r) => setTimeout(r, 300))]);
      throw this.#transportFailure(err, current, client);
    }
  }

  #transportFailure(err: unknown, origin: object, client: WorkerClient | undefined): StepCallError {
    const rpc = err instanceof RpcError ? err : undefined;
    const code =
      rpc && inErrorRange(rpc.code, ErrorCodeRanges.TRANSPORT)
        ? rpc.code
        : ErrorCodes.TRANSPORT_ERROR;
    const message = err instanceof Error ? err.message : String(err);
    const info = (rpc?.data ?? {}) as {
      signal?: string | null;
      exit_code?: number | null;
      stderr?: string[];
    };
    const exit = client?.process?.exitInfo;
    if (exit && info.signal === undefined && info.exit_code === undefined) {
      info.signal = exit.signal;
      info.exit_code = exit.code;
    }
    const stderr = client?.stderrTail(20) ?? info.stderr ?? [];
    const how = info.signal
      ? `; the worker was killed by ${info.signal}`
      : info.exit_code !== undefined && info.exit_code !== null
        ? `; the worker exited with code ${info.exit_code}`
        : '';
    const details = [
      `worker "${this.options.name}"${client?.pid ? ` (pid ${client.pid})` : ''}: ${message}${message.includes('killed by') || message.includes('exited with') ? '' : how}`,
      ...stderr.map((line) => `stderr: ${line}`),
    ];
    const data: Record<string, Json> = { worker: this.options.name };
    if (client?.pid !== undefined) data.pid = client.pid;
    if (info.signal) data.signal = info.signal;
    if (info.exit_code !== undefined && info.exit_code !== null) data.exit_code = info.exit_code;
    if (stderr.length > 0) data.stderr = stderr;
    return new StepCallError('transport', code, message, data, details, origin);
  }

  /** Restart the worker unless another failed step already did since `failure`. */
  async recover(failure: StepCallError): Promise<void> {
    if (this.#closed || !this.#current || failure.origin !== this.#current) return;
    const old = this.#current;
    this.restarts++;
    this.#current = {
      client: (async () => {
        await old.client.then(
          (c) => this.#discard(c),
          () => undefined,
        );
        return this.#launch();
      })(),
    };
    this.#current.client.catch(() => undefined);
  }

  async #discard(client: WorkerClient): Promise<void> {
    // Like the runtime: SIGTERM to the group, then SIGKILL at once.
    client.kill('SIGTERM');
    client.kill('SIGKILL');
    await client.close(0);
  }

  async list(): Promise<ListedComponent[]> {
    const client = await (this.#current ?? (this.#current = { client: this.#launch() })).client;
    return (await client.list()) as ListedComponent[];
  }

  async close(): Promise<void> {
    this.#closed = true;
    const current = this.#current;
    if (!current) return;
    await current.client.then(
      (c) => c.close(500),
      () => undefined,
    );
  }
}

/** `initialize`, bounded by the start-up timeout. */
async function initializeWithin(client: WorkerClient, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new TransportError(
            `the worker did not answer initialize within ${timeoutMs} ms (start-up timeout: --startup-timeout-ms or startupTimeoutMs)`,
            undefined,
            ErrorCodes.TRANSPORT_SPAWN_ERROR,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    await Promise.race([client.initialize(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A failed start as a WorkerStartError naming the launch, exit and stderr tail. */
function startFailure(
  err: unknown,
  launch: WorkerLaunch | undefined,
  client?: WorkerClient,
  exitInfo = client?.process?.exitInfo,
): WorkerStartError {
  if (err instanceof WorkerStartError) return err;
  const data = (err instanceof RpcError ? err.data : undefined) as
    { exit_code?: number | null; signal?: string | null; stderr?: string[] } | undefined;
  const exit = exitInfo
    ? { code: exitInfo.code, signal: exitInfo.signal }
    : data && (data.exit_code !== undefined || data.signal !== undefined)
      ? { code: data.exit_code ?? null, signal: data.signal ?? null }
      : undefined;
  const stderr = client?.stderrTail(20) ?? data?.stderr ?? [];
  let reason = err instanceof Error ? err.message : String(err);
  if (exitInfo && !/exited with|killed by/.test(reason))
    reason += exitInfo.signal
      ? ` (the worker was killed by ${exitInfo.signal})`
      : ` (the worker exited with code ${exitInfo.code})`;
  return new WorkerStartError(reason, launch, exit, stderr);
}
