import { create } from '@bufbuild/protobuf';
import {
  TaskAssignmentSchema,
  type ComponentInfo,
  type TaskAssignment,
} from '@stepflow-packs/core/grpc';
import { ComponentTrie } from '../config/routes.js';
import type { GrpcPluginConfig } from '../config/types.js';
import { failed, success, type StepResult } from '../execute/result.js';
import type { TaskBroker, TaskOutcome } from '../grpc/broker.js';
import { toWire } from '../grpc/values.js';
import type { Json } from '../json/value.js';
import { resolveCommand } from './command.js';
import { WorkerProcess } from './grpc-process.js';
import { WorkerStartError } from './start-error.js';
import { StepCallError, type CallContext, type ListedComponent, type Plugin } from './types.js';

export interface GrpcPluginOptions {
  name: string;
  config: GrpcPluginConfig;
  broker: TaskBroker;
  /** The orchestrator's gRPC address, `127.0.0.1:<port>`. */
  address: string;
  workingDirectory: string;
  /** The environment the worker inherits (and where `command` is looked up). */
  processEnv: Readonly<Record<string, string | undefined>>;
  /** A process-wide discovery counter (`discovery-<n>`). */
  nextDiscoveryId(): string;
  warn(message: string): void;
  /** Worker stderr lines (upstream lets them through to its own stderr). */
  stderr(line: string): void;
  /** How long to wait for the worker's `PullTasks` registration (default 30 s, as upstream). */
  connectTimeoutMs?: number;
}

export const CONNECT_DEADLINE_MS = 30_000;
export const DISCOVERY_TIMEOUT_MS = 5_000;

/**
 * A Stepflow 0.13 `type: grpc` plugin: a queue on the orchestrator, a
 * worker spawned with the launch environment (or none: a remote worker), discovery of its
 * component paths, and tasks dispatched through the queue.
 */
export class GrpcPlugin implements Plugin {
  readonly type = 'grpc';
  restarts = 0;
  readonly pids: number[] = [];
  readonly #discovered: DiscoveredComponents;
  #process: WorkerProcess | undefined;
  /** Identifies the current worker incarnation, so concurrent failures restart it once. */
  #incarnation: object = {};
  #closed = false;
  #restarting: Promise<void> | undefined;

  constructor(private readonly options: GrpcPluginOptions) {
    options.broker.ensureQueue(options.config.queueName);
    this.#discovered = new DiscoveredComponents(options.name, options.warn);
  }

  get queueName(): string {
    return this.options.config.queueName;
  }

  async start(): Promise<void> {
    if (this.options.config.command !== undefined) {
      const ok = await this.#spawn();
      if (!ok) throw this.#startError();
    }
    await this.discover();
  }

  /** Spawn and wait for the PullTasks registration (30 s); false when it never came. */
  async #spawn(): Promise<boolean> {
    const { config, broker, workingDirectory, processEnv, address } = this.options;
    const before = broker.connections(config.queueName);
    const proc = spawnWorker(
      config,
      {
        STEPFLOW_TRANSPORT: 'grpc',
        STEPFLOW_TASKS_URL: address,
        STEPFLOW_QUEUE_NAME: config.queueName,
        STEPFLOW_BLOB_URL: address,
      },
      { workingDirectory, processEnv, stderr: this.options.stderr },
    );
    this.#process = proc;
    if (proc.pid !== undefined) this.pids.push(proc.pid);
    const died = new AbortController();
    void proc.exited.then(() => died.abort());
    const ok = await broker.waitForConnection(
      config.queueName,
      before,
      this.#connectTimeoutMs,
      died.signal,
    );
    if (!ok) await proc.kill();
    return ok;
  }

  get #connectTimeoutMs(): number {
    return this.options.connectTimeoutMs ?? CONNECT_DEADLINE_MS;
  }

  #connectFailure(): string {
    return this.#startError().describe();
  }

  /** Why the worker did not connect, with its command, working folder and stderr tail. */
  #startError(): WorkerStartError {
    const proc = this.#process;
    const exit = proc?.exit;
    const how = exit
      ? exit.signal
        ? ` (the worker was killed by ${exit.signal})`
        : ` (the worker exited with code ${exit.code} before connecting)`
      : '';
    const ms = this.#connectTimeoutMs;
    const within = ms % 1000 === 0 ? `${ms / 1000} seconds` : `${ms} ms`;
    const { config, workingDirectory } = this.options;
    return new WorkerStartError(
      `gRPC worker did not connect within ${within}${how}`,
      { command: config.command ?? '', args: config.args, cwd: workingDirectory },
      exit ? { code: exit.code, signal: exit.signal } : undefined,
      proc?.stderrTail(10) ?? [],
    );
  }

  /** One `list_components` round: 5 s from dispatch; the trie is rebuilt on change. */
  async discover(): Promise<void> {
    const assignment = discoveryAssignment(this.options.nextDiscoveryId(), this.options.address);
    const outcome = await this.options.broker.dispatch(this.queueName, assignment, {
      queueTimeoutMs: DISCOVERY_TIMEOUT_MS,
    });
    if (outcome.kind === 'components') this.#discovered.set(outcome.components);
  }

  get trie(): ComponentTrie | undefined {
    return this.#discovered.trie;
  }

  get components(): ListedComponent[] {
    return this.#discovered.components;
  }

  async execute(component: string, input: Json, ctx: CallContext): Promise<StepResult> {
    const { config, broker, address } = this.options;
    const incarnation = this.#incarnation;
    const assignment = executeAssignment(component, input, ctx, address);
    const outcome: TaskOutcome = await broker.dispatch(
      ctx.queue ?? config.queueName,
      assignment,
      taskTimeouts(config),
    );
    return stepResult(outcome, this.#process?.stderrTail(10) ?? [], incarnation);
  }

  /**
   * Before a TIMEOUT/UNREACHABLE retry: kill and respawn a `command` worker (remote workers are
   * left alone).
   */
  recover(failure: StepCallError): Promise<void> {
    if (this.#closed || this.options.config.command === undefined) return Promise.resolve();
    // Steps that failed on an incarnation already being replaced wait for that restart.
    if (failure.origin !== this.#incarnation) return this.#restarting ?? Promise.resolve();
    this.#incarnation = {}; // tasks dispatched from now on belong to the new worker
    this.restarts++;
    this.#restarting = (async () => {
      await this.#process?.kill();
      if (this.#closed) return;
      const ok = await this.#spawn();
      if (!ok) this.options.warn(`plugin "${this.options.name}": ${this.#connectFailure()}`);
    })();
    return this.#restarting;
  }

  async list(): Promise<ListedComponent[]> {
    return this.components;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#process?.kill();
  }
}

/** The `list_components` task (no heartbeats; answered through `CompleteTask`). */
export function discoveryAssignment(taskId: string, address: string): TaskAssignment {
  return create(TaskAssignmentSchema, {
    taskId,
    task: { case: 'listComponents', value: {} },
    context: { orchestratorServiceUrl: address, rootRunId: '' },
    heartbeatIntervalSecs: 0,
  });
}

/** The `execute` task for one attempt of a step (the task id is the same on every attempt). */
export function executeAssignment(
  component: string,
  input: Json,
  ctx: CallContext,
  address: string,
): TaskAssignment {
  return create(TaskAssignmentSchema, {
    taskId: ctx.taskId,
    task: {
      case: 'execute',
      value: {
        componentId: component,
        input: toWire(input),
        attempt: ctx.attempt,
        observability: {
          runId: ctx.runId,
          stepId: ctx.stepId,
          ...(ctx.flowId ? { flowId: ctx.flowId } : {}),
        },
        pathParams: ctx.pathParams,
      },
    },
    context: { orchestratorServiceUrl: address, rootRunId: ctx.runId },
    heartbeatIntervalSecs: 1,
  });
}

export function taskTimeouts(config: { queueTimeoutSecs: number; executionTimeoutSecs?: number }): {
  queueTimeoutMs: number;
  executionTimeoutMs: number | undefined;
} {
  return {
    queueTimeoutMs: config.queueTimeoutSecs * 1000,
    executionTimeoutMs:
      config.executionTimeoutSecs === undefined ? undefined : config.executionTimeoutSecs * 1000,
  };
}

/** A task's end as a step result; a timeout or cancellation is a retryable transport failure. */
export function stepResult(outcome: TaskOutcome, stderrTail: string[], origin: object): StepResult {
  switch (outcome.kind) {
    case 'output':
      return success(outcome.value);
    case 'error':
      return failed(outcome.code, outcome.message, outcome.data);
    case 'components':
      return failed('WORKER_ERROR', 'the worker answered an execute task with a component list');
    case 'timeout':
    case 'cancelled':
      throw new StepCallError(
        'transport',
        outcome.kind === 'timeout' ? 'TIMEOUT' : 'UNREACHABLE',
        outcome.message,
        undefined,
        stderrTail.map((l) => `stderr: ${l}`),
        origin,
      );
  }
}

/**
 * Spawn a `command` worker as 0.13 does: the runner's whole environment, then the launch
 * variables of its transport, then the plugin's `env`.
 */
export function spawnWorker(
  config: { command?: string; args: string[]; env: Record<string, string> },
  launch: Record<string, string>,
  options: {
    workingDirectory: string;
    processEnv: Readonly<Record<string, string | undefined>>;
    stderr(line: string): void;
  },
): WorkerProcess {
  const { workingDirectory, processEnv } = options;
  let command: string;
  try {
    command = resolveCommand(config.command!, workingDirectory, processEnv.PATH ?? '');
  } catch (err) {
    throw new WorkerStartError(
      (err as Error).message,
      { command: config.command!, args: config.args, cwd: workingDirectory },
      undefined,
      [],
      true,
    );
  }
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(processEnv)) if (v !== undefined) env[k] = v;
  Object.assign(env, launch, config.env);
  return WorkerProcess.spawn({
    command,
    args: config.args,
    cwd: workingDirectory,
    env,
    stderr: options.stderr,
  });
}

/** A plugin's discovered component paths; the trie is rebuilt only when they change. */
export class DiscoveredComponents {
  trie: ComponentTrie | undefined;
  components: ListedComponent[] = [];
  #key = '';

  constructor(
    private readonly plugin: string,
    private readonly warn: (message: string) => void,
  ) {}

  set(infos: ComponentInfo[]): void {
    const key = JSON.stringify(infos.map((c) => [c.componentId, c.path]));
    if (key === this.#key) return;
    const listed = infos.map((info) => ({
      component: info.componentId,
      path: info.path === '' ? `/${info.componentId}` : info.path,
      ...(info.description ? { description: info.description } : {}),
      ...schema('input_schema', info.inputSchema),
      ...schema('output_schema', info.outputSchema),
    }));
    try {
      this.trie = new ComponentTrie(listed.map((c) => ({ path: c.path, id: c.component })));
      this.components = listed;
      this.#key = key;
    } catch (err) {
      this.warn(
        `plugin "${this.plugin}": the reported component paths conflict, routing keeps the previous ones: ${(err as Error).message}`,
      );
    }
  }
}

function schema(
  key: 'input_schema' | 'output_schema',
  text: string | undefined,
): Record<string, Json> {
  if (text === undefined) return {};
  try {
    return { [key]: JSON.parse(text) as Json };
  } catch {
    return {}; // invalid JSON is dropped silently upstream
  }
}
