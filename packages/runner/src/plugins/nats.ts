import { toBinary } from '@bufbuild/protobuf';
import {
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { TaskAssignmentSchema, type TaskAssignment } from '@stepflow-packs/core/grpc';
import type { ComponentTrie } from '../config/routes.js';
import type { NatsPluginConfig } from '../config/types.js';
import { failed, type StepResult } from '../execute/result.js';
import type { TaskBroker, TaskOutcome } from '../grpc/broker.js';
import type { Json } from '../json/value.js';
import {
  DISCOVERY_TIMEOUT_MS,
  DiscoveredComponents,
  discoveryAssignment,
  executeAssignment,
  spawnWorker,
  stepResult,
  taskTimeouts,
} from './grpc.js';
import type { WorkerProcess } from './grpc-process.js';
import type { CallContext, ListedComponent, Plugin } from './types.js';

export interface NatsPluginOptions {
  name: string;
  config: NatsPluginConfig;
  /** The orchestrator's task table: claims, heartbeats and completions arrive over gRPC. */
  broker: TaskBroker;
  /** The orchestrator's gRPC address, `127.0.0.1:<port>` (`STEPFLOW_BLOB_URL`, `orchestrator_service_url`). */
  address: string;
  workingDirectory: string;
  processEnv: Readonly<Record<string, string | undefined>>;
  nextDiscoveryId(): string;
  warn(message: string): void;
  stderr(line: string): void;
}

/** Subject suffix of the task stream (`<stream>.tasks`), as upstream's `TASK_SUBJECT`. */
export const TASK_SUBJECT = 'tasks';
/** Delay between publish attempts while NATS is unreachable (until the task's queue timeout). */
const PUBLISH_RETRY_MS = 500;
/** How long one JetStream publish waits for its ack. */
const PUBLISH_ACK_TIMEOUT_MS = 5_000;

/**
 * A Stepflow 0.13 `type: nats` plugin: each task is a protobuf `TaskAssignment` published with a
 * JetStream ack to `<stream>.tasks` of a WorkQueue stream (created on first publish); workers
 * read it through their durable consumer and claim, heartbeat and complete it over the
 * orchestrator's gRPC port, tracked by the same task table as the gRPC queues. A `command`
 * worker is spawned with the NATS launch environment and neither awaited nor restarted.
 */
export class NatsPlugin implements Plugin {
  readonly type = 'nats';
  readonly restarts = 0;
  readonly pids: number[] = [];
  readonly #discovered: DiscoveredComponents;
  readonly #streams = new Map<string, Promise<void>>();
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #jsm: JetStreamManager | undefined;
  #process: WorkerProcess | undefined;
  #closed = false;
  #publishFailing = false;
  /** Tasks fail on a worker incarnation; there is only one (no restarts). */
  readonly #incarnation = {};

  constructor(private readonly options: NatsPluginOptions) {
    this.#discovered = new DiscoveredComponents(options.name, options.warn);
  }

  get trie(): ComponentTrie | undefined {
    return this.#discovered.trie;
  }

  get components(): ListedComponent[] {
    return this.#discovered.components;
  }

  async start(): Promise<void> {
    const { config } = this.options;
    try {
      this.#nc = await connect({
        servers: config.url,
        name: `stepflow-packs-runner-${this.options.name}`,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
      });
    } catch (err) {
      throw new Error(`cannot connect to NATS at ${config.url}: ${(err as Error).message}`);
    }
    this.#js = jetstream(this.#nc);
    this.#jsm = await jetstreamManager(this.#nc);
    if (config.command !== undefined) this.#spawn();
    // Upstream does no discovery at init for NATS; the runner needs component paths to route,
    // so it publishes list_components tasks to the plugin stream until one is answered.
    if (config.stream === undefined) {
      this.options.warn(
        `plugin "${this.options.name}": no \`stream\` set, so its components cannot be discovered (only route-level streams are published to)`,
      );
      return;
    }
    await this.discover();
    if (!this.trie) void this.#discoverUntilAnswered();
  }

  #spawn(): void {
    const { config, address } = this.options;
    const launch: Record<string, string> = {
      STEPFLOW_TRANSPORT: 'nats',
      STEPFLOW_NATS_URL: config.url,
      STEPFLOW_NATS_CONSUMER: config.consumer,
      STEPFLOW_BLOB_URL: address,
      ...(config.stream !== undefined ? { STEPFLOW_NATS_STREAM: config.stream } : {}),
    };
    this.#process = spawnWorker(config, launch, this.options);
    if (this.#process.pid !== undefined) this.pids.push(this.#process.pid);
  }

  async #discoverUntilAnswered(): Promise<void> {
    while (!this.trie && !this.#closed) {
      await this.discover();
      await new Promise((resolve) => setTimeout(resolve, 100).unref());
    }
  }

  /** One `list_components` round on the plugin stream: 5 s from publishing. */
  async discover(): Promise<void> {
    const stream = this.options.config.stream;
    if (stream === undefined || this.#closed) return;
    const assignment = discoveryAssignment(this.options.nextDiscoveryId(), this.options.address);
    const outcome = await this.#dispatch(stream, assignment, {
      queueTimeoutMs: DISCOVERY_TIMEOUT_MS,
      executionTimeoutMs: undefined,
    });
    if (outcome.kind === 'components') this.#discovered.set(outcome.components);
  }

  async execute(component: string, input: Json, ctx: CallContext): Promise<StepResult> {
    const { config, address, name } = this.options;
    const stream = ctx.stream ?? config.stream;
    if (stream === undefined)
      return failed(
        'ORCHESTRATOR_ERROR',
        `No NATS stream specified for plugin "${name}": set \`stream\` on the plugin or on the route rule`,
      );
    const assignment = executeAssignment(component, input, ctx, address);
    const outcome = await this.#dispatch(stream, assignment, taskTimeouts(config));
    return stepResult(outcome, this.#process?.stderrTail(10) ?? [], this.#incarnation);
  }

  /** Track the task in the orchestrator's table, then publish it. */
  #dispatch(
    stream: string,
    assignment: TaskAssignment,
    timeouts: { queueTimeoutMs: number; executionTimeoutMs: number | undefined },
  ): Promise<TaskOutcome> {
    return this.options.broker.track(assignment, timeouts, (ended) => {
      void this.#publish(stream, assignment, ended);
    });
  }

  /**
   * Publish with a JetStream ack, creating the stream first if needed. While NATS is down (or
   * restarting) the publish is retried until the task ends — its queue timeout fails it
   * `TIMEOUT` as for an unclaimed gRPC task. The message id makes a retried publish whose ack
   * was lost a duplicate JetStream drops.
   */
  async #publish(stream: string, assignment: TaskAssignment, ended: AbortSignal): Promise<void> {
    const subject = `${stream}.${TASK_SUBJECT}`;
    const data = toBinary(TaskAssignmentSchema, assignment);
    const attempt = assignment.task.case === 'execute' ? assignment.task.value.attempt : 0;
    const msgID = `${assignment.taskId}#${attempt}`;
    while (!ended.aborted && !this.#closed) {
      try {
        await this.#ensureStream(stream);
        await this.#js!.publish(subject, data, { msgID, timeout: PUBLISH_ACK_TIMEOUT_MS });
        if (this.#publishFailing) {
          this.#publishFailing = false;
          this.options.warn(`plugin "${this.options.name}": publishing to NATS works again`);
        }
        return;
      } catch (err) {
        if (!this.#publishFailing && !this.#closed) {
          this.#publishFailing = true;
          this.options.warn(
            `plugin "${this.options.name}": publishing to ${subject} failed, retrying until the task's queue timeout: ${(err as Error).message}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, PUBLISH_RETRY_MS));
      }
    }
  }

  /** Upstream's `get_or_create_stream`: `{name, subjects: [<stream>.tasks], retention: WorkQueue}`. */
  #ensureStream(stream: string): Promise<void> {
    let ready = this.#streams.get(stream);
    if (!ready) {
      ready = (async () => {
        const jsm = this.#jsm!;
        try {
          await jsm.streams.info(stream);
        } catch (err) {
          if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound))
            throw err;
          await jsm.streams.add({
            name: stream,
            subjects: [`${stream}.${TASK_SUBJECT}`],
            retention: RetentionPolicy.Workqueue,
          });
        }
      })();
      this.#streams.set(stream, ready);
      ready.catch(() => {
        if (this.#streams.get(stream) === ready) this.#streams.delete(stream);
      });
    }
    return ready;
  }

  /** Retries go to the same stream with the same task id; nothing is restarted (upstream's no-op). */
  recover(): Promise<void> {
    return Promise.resolve();
  }

  async list(): Promise<ListedComponent[]> {
    return this.components;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#process?.kill();
    await this.#nc?.close().catch(() => {});
  }
}
