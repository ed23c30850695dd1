import { ErrorCodes } from '@stepflow-packs/core';
import { serveBlobApi, type BlobApiServer } from '@stepflow-packs/core/client';
import { RunnerBlobStore } from '../blobs/store.js';
import { ComponentTrie, type RouteTable } from '../config/routes.js';
import type { RetryConfig, RunnerConfig } from '../config/types.js';
import { TaskBroker } from '../grpc/broker.js';
import { SubRuns } from '../grpc/runs.js';
import { OrchestratorServer } from '../grpc/server.js';
import { GrpcPlugin } from '../plugins/grpc.js';
import { NatsPlugin } from '../plugins/nats.js';
import type { Flow, Version } from '../flow/model.js';
import { parseFlow } from '../flow/parse.js';
import type { Json, JsonObject } from '../json/value.js';
import { BuiltinPlugin } from '../plugins/builtin/index.js';
import { MockPlugin } from '../plugins/mock.js';
import type { Plugin } from '../plugins/types.js';
import { PluginStartError } from '../plugins/start-error.js';
import { WorkerPlugin } from '../plugins/worker.js';
import { V08_RUN_ERROR } from './codes.js';
import { failed, type StepResult } from './result.js';
import { FlowRun, type RouteTarget, type RunHost, type StepEvent } from './run.js';

export interface EnvironmentOptions {
  version: Version;
  config: RunnerConfig;
  /** Warnings (unknown keys, junk stdout lines, …). */
  warn?: (message: string) => void;
  /** Default per-request timeout for workers (never infinite). */
  requestTimeoutMs?: number;
  /**
   * Bound on a worker's start (default 30 s): the v0.8 `initialize` answer, the v0.11 port
   * announcement and `initialize`, the 0.13 `PullTasks` registration.
   */
  startupTimeoutMs?: number;
  /** Overrides parts of the config's retry settings (tests use millisecond backoffs). */
  retry?: Partial<RetryConfig>;
  /** Environment used for `${VAR}` substitution and command lookup (default: process.env). */
  processEnv?: Readonly<Record<string, string | undefined>>;
  /** Runner extension: launch every `command` worker over stdio or HTTP, whatever the release. */
  workerTransport?: 'stdio' | 'http';
  /** 0.13: the orchestrator port (default 0, an ephemeral one, as `stepflow run`/`test`). */
  grpcPort?: number;
  /** 0.13: called with `127.0.0.1:<port>` once the orchestrator listens, before plugins start. */
  onGrpcListening?: (address: string) => void;
  /** 0.13 worker stderr lines (default: passed through to the runner's stderr). */
  workerStderr?: (plugin: string, line: string) => void;
  onStepEvent?: (event: StepEvent) => void;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;
/** Default bound on a worker's start (as the v0.11 port announcement and 0.13 connection waits). */
export const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;
/** 0.13 `wait_ready_timeout` before routing a step. */
export const READINESS_WAIT_MS = 30_000;

/**
 * A runtime environment: plugins launched and initialised, one blob store (and, in v0.11, one
 * Blob HTTP API on 127.0.0.1 advertised to every worker). One per `run`, one per flow file in
 * `test`.
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
  #grpc: { broker: TaskBroker; server: OrchestratorServer } | undefined;
  readonly #tries = new Map<string, ComponentTrie>();
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
    checkGeneration(config, version);
    if (version === 'v0.13') return this.#startV013(options);
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
              startupTimeoutMs: options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS,
              transportOverride: options.workerTransport,
              warn: this.#warn,
            }),
          );
          break;
        case 'mcp':
          throw new Error(`plugin "${name}": unsupported plugin type "mcp"`);
        default:
          throw new Error(`plugin "${name}": type ${plugin.type} needs --emulate v0.13`);
      }
    }
    const started = await Promise.allSettled(
      [...this.plugins].map(async ([name, p]) => {
        try {
          await p.start();
        } catch (err) {
          throw new PluginStartError(name, err);
        }
      }),
    );
    const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  }

  /**
   * Stepflow 0.13: one h2c port for the task queues, claims and blobs;
   * plugins initialised one after another in config order; component paths from discovery.
   */
  async #startV013(options: EnvironmentOptions): Promise<void> {
    const { config } = options;
    for (const [name, plugin] of config.plugins) {
      if (plugin.type === 'mcp')
        throw new Error(
          `plugin "${name}": type ${plugin.type} is not supported by this runner yet`,
        );
    }
    const needsServer = [...config.plugins.values()].some(
      (p) => p.type === 'grpc' || p.type === 'nats',
    );
    if (needsServer) {
      const broker = new TaskBroker({
        onConnect: () => {
          // Every PullTasks connection starts background discovery of every plugin (NATS ones
          // included), as upstream.
          for (const p of this.plugins.values())
            if (p instanceof GrpcPlugin || p instanceof NatsPlugin) void p.discover();
        },
      });
      const runs = new SubRuns(this.blobStore, async (doc, input) => {
        const flow = parseFlow(doc, { version: 'v0.13', file: '<sub-run flow>' }).flow;
        return new FlowRun(this, flow, input).run();
      });
      const server = await OrchestratorServer.start({
        broker,
        blobs: this.blobStore,
        runs,
        port: options.grpcPort ?? 0,
      });
      this.#grpc = { broker, server };
      options.onGrpcListening?.(server.address);
    }
    let discovery = 0;
    const stderr =
      options.workerStderr ??
      ((_plugin: string, line: string) => process.stderr.write(`${line}\n`));
    for (const [name, plugin] of config.plugins) {
      let instance: Plugin;
      if (plugin.type === 'builtin') instance = new BuiltinPlugin(this.#builtinHost());
      else if (plugin.type === 'mock') instance = new MockPlugin(plugin);
      else if (plugin.type === 'grpc' || plugin.type === 'nats') {
        // What a 0.13 plugin shares with the others: the orchestrator's broker and address.
        const shared = {
          name,
          broker: this.#grpc!.broker,
          address: this.#grpc!.server.address,
          workingDirectory: config.workingDirectory,
          processEnv: options.processEnv ?? process.env,
          nextDiscoveryId: () => `discovery-${discovery++}`,
          warn: this.#warn,
          stderr: (line: string) => stderr(name, line),
        };
        instance =
          plugin.type === 'grpc'
            ? new GrpcPlugin({
                ...shared,
                config: plugin,
                connectTimeoutMs: options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS,
              })
            : new NatsPlugin({ ...shared, config: plugin });
      } else throw new Error(`plugin "${name}": type ${plugin.type} is not a Stepflow 0.13 plugin`);
      this.plugins.set(name, instance);
      try {
        await instance.start();
      } catch (err) {
        throw new PluginStartError(name, err);
      }
      if (!(instance instanceof GrpcPlugin || instance instanceof NatsPlugin)) {
        const listed = await instance.list();
        this.#tries.set(
          name,
          new ComponentTrie(listed.map((c) => ({ path: c.path ?? c.component, id: c.component }))),
        );
      }
    }
  }

  plugin(name: string): Plugin | undefined {
    return this.plugins.get(name);
  }

  /**
   * Upstream's readiness wait: before routing, a step waits up to 30 s for
   * every plugin to report at least one component, then goes ahead anyway.
   */
  async beforeRoute(): Promise<void> {
    if (this.version !== 'v0.13') return;
    const pending = () =>
      [...this.plugins.values()].some(
        (p) => (p instanceof GrpcPlugin || p instanceof NatsPlugin) && !p.trie?.size,
      );
    const deadline = Date.now() + READINESS_WAIT_MS;
    while (pending() && Date.now() < deadline && !this.#closed)
      await new Promise((resolve) => setTimeout(resolve, 50));
  }

  route(path: string, input: Json): RouteTarget {
    if (this.version !== 'v0.13') return this.routes.resolve(path, input);
    const hit = this.config.prefixRoutes.resolve(path, input, (name) => {
      const plugin = this.plugins.get(name);
      return plugin instanceof GrpcPlugin || plugin instanceof NatsPlugin
        ? plugin.trie
        : this.#tries.get(name);
    });
    const { queueName: queue, stream } = hit.routeParams;
    return {
      ...hit,
      ...(typeof queue === 'string' ? { queue } : {}),
      ...(typeof stream === 'string' ? { stream } : {}),
    };
  }

  /** The 0.13 orchestrator address (`127.0.0.1:<port>`), when a grpc or nats plugin is configured. */
  get grpcAddress(): string | undefined {
    return this.#grpc?.server.address;
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
            result: failed(
              env.version === 'v0.8' ? V08_RUN_ERROR : ErrorCodes.ORCHESTRATOR_ERROR,
              (err as Error).message,
            ),
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
      this.#grpc?.broker.close();
      await Promise.allSettled([...this.plugins.values()].map((p) => p.close()));
      await this.#blobApi?.close();
      await this.#grpc?.server.close();
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
      if (p instanceof GrpcPlugin || p instanceof NatsPlugin)
        out.push({
          name,
          transport: p.type,
          restarts: p.restarts,
          junkLines: 0,
          pids: [...p.pids],
        });
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

/** A config and the emulated release must agree on the format (a 0.13 config only with 0.13). */
function checkGeneration(config: RunnerConfig, version: Version): void {
  if (
    config.file === undefined &&
    config.routes.patterns.length === 0 &&
    config.prefixRoutes.size === 0
  )
    return; // the default config (builtins, no routes) serves every release
  if (version === 'v0.13' && config.generation !== 'v0.13') {
    const legacy = [...config.plugins].find(([, p]) => p.type === 'stepflow');
    throw new Error(
      legacy
        ? `${config.source}: plugins.${legacy[0]}: unknown variant \`stepflow\`, expected one of \`builtin\`, \`mock\`, \`mcp\`, \`grpc\`, \`nats\``
        : `${config.source}: a v0.8/v0.11 config cannot be used with Stepflow 0.13`,
    );
  }
  if (version !== 'v0.13' && config.generation === 'v0.13')
    throw new Error(
      `${config.source} is a Stepflow 0.13 config (grpc plugins, one-segment routes); it cannot be used with ${version} (use --emulate v0.13)`,
    );
}
