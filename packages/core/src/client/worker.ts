import { request as httpRequest } from 'node:http';
import type { MemoryBlobStore } from '../blobs.js';
import { TransportError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import {
  ErrorCodes,
  type JsonRpcDialect as Dialect,
  type JsonValue,
  type Observability,
} from '../protocol.js';
import { serveBlobApi, type BlobApiServer } from './blob-api.js';
import type { Channel, FrameTap } from './channel.js';
import { HttpChannel } from './http-channel.js';
import { spawnError, WorkerProcess, type ExitInfo, type ProcessSpec } from './process.js';
import { StdioChannel } from './stdio-channel.js';

export interface HealthCheckOptions {
  path?: string;
  timeoutMs?: number;
  retryDelayMs?: number;
}

export type WorkerSpec =
  | ({ transport: 'stdio' } & ProcessSpec)
  | ({
      transport: 'http-subprocess';
      healthCheck?: HealthCheckOptions;
      portTimeoutMs?: number;
    } & ProcessSpec)
  | { transport: 'http'; url: string };

export interface WorkerOptions {
  /**
   * Which runtime to imitate: v0.8 (snake_case, blob callbacks) or v0.11 (camelCase, Blob HTTP
   * API).
   */
  dialect: Dialect;
  /** Blob store serving v0.8 callbacks and, in v0.11, the Blob HTTP API started for this worker. */
  blobStore?: MemoryBlobStore;
  /** v0.11: advertise this Blob API URL instead of starting one. */
  blobApiUrl?: string;
  /** Default per-request timeout (never infinite). */
  requestTimeoutMs?: number;
  /** Send initialize + initialized on start (default true). */
  initialize?: boolean;
  log?: Logger;
  tap?: FrameTap;
  /** Called for each stdout line of a stdio worker that is not a protocol message. */
  onJunk?: (line: string) => void;
}

export interface ExecuteOptions {
  attempt?: number;
  observability?: Observability;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ComponentInfo {
  component: string;
  description?: string | null;
  input_schema?: unknown;
  output_schema?: unknown;
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;

/** A connection to one worker process or URL, speaking one dialect. */
export class WorkerClient {
  readonly spec: WorkerSpec;
  readonly dialect: Dialect;
  readonly process: WorkerProcess | undefined;
  readonly #channel: Channel;
  readonly #timeoutMs: number;
  readonly #blobApi: BlobApiServer | undefined;
  readonly #blobApiUrl: string | undefined;

  constructor(init: {
    spec: WorkerSpec;
    dialect: Dialect;
    channel: Channel;
    process?: WorkerProcess;
    timeoutMs: number;
    blobApi?: BlobApiServer;
    blobApiUrl?: string;
  }) {
    this.spec = init.spec;
    this.dialect = init.dialect;
    this.#channel = init.channel;
    this.process = init.process;
    this.#timeoutMs = init.timeoutMs;
    this.#blobApi = init.blobApi;
    this.#blobApiUrl = init.blobApiUrl;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Resolves when the worker process exits (never for URL workers). */
  get exited(): Promise<ExitInfo> {
    return this.process?.exited ?? new Promise(() => {});
  }

  /** The worker's last stderr lines (at most 500). */
  stderrTail(lines?: number): string[] {
    return this.process?.stderrTail(lines) ?? [];
  }

  /** Stdout lines of a stdio worker that were skipped as not being protocol messages. */
  get junkLines(): number {
    return this.#channel instanceof StdioChannel ? this.#channel.junkLines : 0;
  }

  request(
    method: string,
    params: Record<string, unknown>,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<unknown> {
    return this.#channel.request(method, params, {
      timeoutMs: options.timeoutMs ?? this.#timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  notify(method: string, params: Record<string, unknown> = {}): Promise<void> {
    return this.#channel.notify(method, params);
  }

  /** `initialize` in this client's dialect, then the `initialized` notification. */
  async initialize(): Promise<void> {
    const params =
      this.dialect === 'v0.8'
        ? { runtime_protocol_version: 1 }
        : {
            runtimeProtocolVersion: 1,
            ...(this.#blobApiUrl
              ? { capabilities: { blobApiUrl: this.#blobApiUrl, blobThreshold: 1_048_576 } }
              : {}),
          };
    const result = (await this.request('initialize', params)) as Record<string, unknown> | null;
    const key = this.dialect === 'v0.8' ? 'server_protocol_version' : 'serverProtocolVersion';
    const version = result?.[key];
    if (!Number.isSafeInteger(version) || (version as number) < 0) {
      throw new TransportError(
        `initialize result lacks ${key}`,
        { result },
        ErrorCodes.TRANSPORT_PROTOCOL_ERROR,
      );
    }
    await this.notify('initialized', {});
  }

  /** Run a component; returns its output. Worker errors throw RpcError with the worker's code. */
  async execute(
    component: string,
    input: JsonValue | unknown,
    options: ExecuteOptions = {},
  ): Promise<unknown> {
    const result = (await this.request(
      'components/execute',
      {
        component,
        input: input === undefined ? null : input,
        attempt: options.attempt ?? 1,
        observability: options.observability ?? {},
      },
      options,
    )) as Record<string, unknown> | null;
    if (result === null || typeof result !== 'object' || !('output' in result)) {
      throw new TransportError(
        `the execute result for ${component} has no output member`,
        { result },
        ErrorCodes.TRANSPORT_PROTOCOL_ERROR,
      );
    }
    return result.output;
  }

  async list(): Promise<ComponentInfo[]> {
    const result = (await this.request('components/list', {})) as { components?: ComponentInfo[] };
    return result.components ?? [];
  }

  async info(component: string): Promise<ComponentInfo> {
    const result = (await this.request('components/info', { component })) as {
      info: ComponentInfo;
    };
    return result.info;
  }

  /** Close the link and stop the process (stdio: EOF first, then SIGTERM/SIGKILL the group). */
  async close(graceMs = 2000): Promise<void> {
    this.#channel.close();
    if (this.process && !this.process.exitInfo) {
      const timer = setTimeout(
        () => void this.process!.stop(graceMs),
        this.spec.transport === 'stdio' ? graceMs : 0,
      );
      await this.process.exited;
      clearTimeout(timer);
    }
    await this.#blobApi?.close();
  }

  /** Kill the worker's whole process group immediately. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.process?.killGroup(signal);
  }
}

/** Start (or connect to) a worker and, unless told otherwise, initialize it. */
export async function startWorker(spec: WorkerSpec, options: WorkerOptions): Promise<WorkerClient> {
  const log = options.log ?? silentLogger;
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  let blobApi: BlobApiServer | undefined;
  let blobApiUrl = options.blobApiUrl;
  if (options.dialect === 'v0.11' && !blobApiUrl && options.blobStore) {
    blobApi = await serveBlobApi(options.blobStore);
    blobApiUrl = blobApi.url;
  }
  const channelOptions = {
    log,
    ...(options.blobStore ? { blobStore: options.blobStore } : {}),
    ...(options.tap ? { tap: options.tap } : {}),
  };
  let client: WorkerClient;
  try {
    let channel: Channel;
    let proc: WorkerProcess | undefined;
    if (spec.transport === 'stdio') {
      proc = new WorkerProcess(spec, { stdin: 'pipe', log });
      channel = new StdioChannel(proc, {
        ...channelOptions,
        ...(options.onJunk ? { onJunk: options.onJunk } : {}),
      });
    } else if (spec.transport === 'http-subprocess') {
      proc = new WorkerProcess(spec, { stdin: 'devnull', log });
      let port: number;
      try {
        port = await waitForPort(proc, spec.portTimeoutMs ?? 30_000, log);
        await waitForHealth(port, spec.healthCheck ?? {}, proc);
      } catch (err) {
        await proc.stop(500);
        throw err;
      }
      channel = new HttpChannel(`http://127.0.0.1:${port}`, channelOptions);
    } else {
      channel = new HttpChannel(spec.url, channelOptions);
    }
    client = new WorkerClient({
      spec,
      dialect: options.dialect,
      channel,
      timeoutMs,
      ...(proc ? { process: proc } : {}),
      ...(blobApi ? { blobApi } : {}),
      ...(blobApiUrl ? { blobApiUrl } : {}),
    });
  } catch (err) {
    await blobApi?.close();
    throw err;
  }
  if (options.initialize !== false) {
    try {
      await client.initialize();
    } catch (err) {
      await client.close(200);
      throw err;
    }
  }
  return client;
}

/**
 * Wait for the `{"port":N}` announcement line a v0.11 HTTP worker prints on stdout; other lines are
 * tolerated.
 */
function waitForPort(proc: WorkerProcess, timeoutMs: number, log: Logger): Promise<number> {
  const stdout = proc.child.stdout!;
  stdout.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let buffer = '';
    let announced = false;
    const timer = setTimeout(() => {
      cleanup();
      reject(
        spawnError(`the worker did not announce its port within ${timeoutMs} ms`, {
          stderr: proc.stderrTail(20),
        }),
      );
    }, timeoutMs);
    const onData = (text: string) => {
      if (announced) return log.debug('worker stdout', { text: text.slice(0, 200) });
      buffer += text;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        try {
          const value = JSON.parse(line) as { port?: unknown };
          if (
            Number.isInteger(value?.port) &&
            (value.port as number) > 0 &&
            (value.port as number) <= 65535
          ) {
            announced = true;
            clearTimeout(timer);
            resolve(value.port as number);
            return;
          }
        } catch {
          /* not the announcement */
        }
        log.warn('worker stdout line before the port announcement', { line: line.slice(0, 200) });
      }
    };
    const onExit = () => {
      cleanup();
      reject(proc.crashError('the worker exited before announcing its port'));
    };
    const cleanup = () => {
      clearTimeout(timer);
      stdout.off('data', onData);
    };
    stdout.on('data', onData);
    void proc.exited.then(() => {
      if (!announced) onExit();
    });
  });
}

async function waitForHealth(
  port: number,
  options: HealthCheckOptions,
  proc: WorkerProcess,
): Promise<void> {
  const path = options.path ?? '/health';
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const delay = options.retryDelayMs ?? 100;
  for (;;) {
    if (proc.exitInfo) throw proc.crashError('the worker exited before its health check passed');
    const status = await new Promise<number>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(0));
      req.end();
    });
    if (status >= 200 && status < 300) return;
    if (Date.now() + delay > deadline) {
      throw spawnError(
        `the worker's health check ${path} did not pass within ${options.timeoutMs ?? 60_000} ms`,
        { port, lastStatus: status },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
