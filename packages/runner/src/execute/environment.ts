import { serveBlobApi, type BlobApiServer } from '@stepflow-packs/core/client';
import { RunnerBlobStore } from '../blobs/store.js';
import type { RouteTable } from '../config/routes.js';
import type { RetryConfig, RunnerConfig } from '../config/types.js';
import type { Flow, Version } from '../flow/model.js';
import { parseFlow } from '../flow/parse.js';
import type { Json, JsonObject } from '../json/value.js';
import { BuiltinPlugin } from '../plugins/builtin/index.js';
import { MockPlugin } from '../plugins/mock.js';
import type { Plugin } from '../plugins/types.js';
import { WorkerPlugin } from '../plugins/worker.js';
import { failed, type StepResult } from './result.js';
import { FlowRun, type RunHost, type StepEvent } from './run.js';

export interface EnvironmentOptions {
  version: Version;
  config: RunnerConfig;
  /** Warnings (unknown keys, junk stdout lines, …). */
  warn?: (message: string) => void;
  /** Default per-request timeout for workers (never infinite). */
  requestTimeoutMs?: number;
  /** Overrides parts of the config's retry settings (tests use millisecond backoffs). */
  retry?: Partial<RetryConfig>;
  /** Environment used for `${VAR}` substitution and command lookup (default: process.env). */
  processEnv?: Readonly<Record<string, string | undefined>>;
  /** Runner extension: launch every `command` worker over stdio or HTTP, whatever the release. */
  workerTransport?: 'stdio' | 'http';
  onStepEvent?: (event: StepEvent) => void;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;

/**
 * A runtime environment: plugins launched and initialised, one blob store (and, in v0.11, one
 * Blob HTTP API on 127.0.0.1 advertised to every worker). One per `run`, one per flow file in
 * `test` (spec config.md §1.2).
 */
export class Environment implements RunHost {
  readonly blobStore = new RunnerBlobStore();
  readonly plugins = new Map<string, Plugin>();
  readonly version: Version;
  readonly config: RunnerConfig;
  readonly routes: RouteTable;
  readonly retry: RetryConfig;
  readonly onStepEvent: ((event: StepEvent) => void) | undefined;
  readonly #warn: (message: string) => void;
  #blobApi: BlobApiServer | undefined;
  #closed: Promise<void> | undefined;

  private constructor(options: EnvironmentOptions) {
    this.version = options.version;
    this.config = options.config;
    this.routes = options.config.routes;
    this.retry = { ...options.config.retry, ...options.retry };
    this.onStepEvent = options.onStepEvent;
    this.#warn = options.warn ?? (() => {});
  }

  static async start(options: EnvironmentOptions): Promise<Environment> {
    const env = new Environment(options);
    try {
      await env.#startPlugins(options);
    } catch (err) {
      await env.close();
      throw err;
    }
    return env;
  }

  async #startPlugins(options: EnvironmentOptions): Promise<void> {
    const { config, version } = options;
    const needsApi =
      version === 'v0.11' &&
      config.blobApi.enabled &&
      !config.blobApi.url &&
      [...config.plugins.values()].some((p) => p.type === 'stepflow');
    if (needsApi) this.#blobApi = await serveBlobApi(this.blobStore);
    const blobApiUrl = config.blobApi.url ?? this.#blobApi?.url;
    for (const [name, plugin] of config.plugins) {
      switch (plugin.type) {
        case 'builtin':
          this.plugins.set(name, new BuiltinPlugin(this.#builtinHost()));
          break;
        case 'mock':
          this.plugins.set(name, new MockPlugin(plugin));
          break;
        case 'stepflow':
          this.plugins.set(
            name,
            new WorkerPlugin({
              name,
              config: plugin,
              version,
              workingDirectory: config.workingDirectory,
              blobStore: this.blobStore,
              blobApiUrl,
              processEnv: options.processEnv ?? process.env,
              requestTimeoutMs:
                plugin.requestTimeoutMs ?? options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
              transportOverride: options.workerTransport,
              warn: this.#warn,
            }),
          );
          break;
        case 'mcp':
          throw new Error(`plugin "${name}": unsupported plugin type "mcp"`);
      }
    }
    const started = await Promise.allSettled(
      [...this.plugins].map(async ([name, p]) => {
        try {
          await p.start();
        } catch (err) {
          throw new Error(`plugin "${name}" failed to start: ${(err as Error).message}`);
        }
      }),
    );
    const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  }

  plugin(name: string): Plugin | undefined {
    return this.plugins.get(name);
  }

  #builtinHost() {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const env = this;
    return {
      version: env.version,
      blobStore: env.blobStore,
      workingDirectory: env.config.workingDirectory,
      checkFlow(doc: Json) {
        parseFlow(doc, { version: env.version, file: '<nested flow>' });
      },
      async runFlow(doc: Json, input: Json, inputFloat = false) {
        let flow: Flow;
        try {
          flow = parseFlow(doc, { version: env.version, file: '<nested flow>' }).flow;
        } catch (err) {
          return {
            result: failed(env.version === 'v0.8' ? 500 : -32202, (err as Error).message),
            runId: '',
          };
        }
        const run = new FlowRun(env, flow, input, {}, inputFloat);
        return { result: await run.run(), runId: run.runId };
      },
    };
  }

  /** Run a parsed flow once. */
  async run(
    flow: Flow,
    input: Json,
    variables?: JsonObject,
  ): Promise<{ result: StepResult; run: FlowRun }> {
    const run = new FlowRun(this, flow, input, variables);
    return { result: await run.run(), run };
  }

  /** Stop every worker (and the Blob API); idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await Promise.allSettled([...this.plugins.values()].map((p) => p.close()));
      await this.#blobApi?.close();
    })();
    return this.#closed;
  }

  /** Worker statistics for reports. */
  workerStats(): {
    name: string;
    transport: string;
    restarts: number;
    junkLines: number;
    pids: number[];
  }[] {
    const out = [];
    for (const [name, p] of this.plugins) {
      if (p instanceof WorkerPlugin)
        out.push({
          name,
          transport: p.mode,
          restarts: p.restarts,
          junkLines: p.junkLines,
          pids: [...p.pids],
        });
    }
    return out;
  }
}
