import { randomUUID } from 'node:crypto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import type { Dispatcher } from '../../dispatcher.js';
import type { Logger } from '../../logger.js';
import { GrpcChannels, normalizeGrpcUrl, ORCHESTRATOR_MAX_MESSAGE_BYTES } from './channels.js';
import type { ComponentInfoSchema, TaskAssignment } from './gen/stepflow/v1/tasks_pb.js';
import { Slots } from './slots.js';
import { ExecuteTask, type TaskEnvironment, type TaskOutcome } from './task.js';
import { pulledTaskOf, type PulledTask } from './wire.js';

/** A protobuf-es TaskAssignment (NATS) or one decoded by wire.ts (the PullTasks stream). */
export type AnyAssignment = TaskAssignment | PulledTask;

function pulled(assignment: AnyAssignment): PulledTask {
  return '$typeName' in assignment ? pulledTaskOf(assignment) : assignment;
}

export interface TaskRunnerOptions {
  /** gRPC address for a task that names no orchestrator URL, and the completion fail-over. */
  homeUrl: string;
  blobUrl: string;
  workerId?: string;
  maxConcurrent: number;
  blobTimeoutMs: number;
  maxMessageBytes?: number;
  log: Logger;
}

/**
 * What every 0.13 task source (the gRPC stream, a NATS consumer) shares: the concurrency
 * slots, discovery answers, execute tasks from claim to completion, and the shutdown drain.
 * Sources take a slot before they read the next task and hand it over with `execute`.
 */
export class TaskRunner {
  readonly workerId: string;
  readonly slots: Slots;
  /** One HTTP/2 connection per orchestrator URL, shared with the task source. */
  readonly channels: GrpcChannels;
  readonly #env: TaskEnvironment;
  readonly #running = new Map<string, ExecuteTask>();
  readonly #discovery: MessageInitShape<typeof ComponentInfoSchema>[];
  readonly #log: Logger;

  constructor(dispatcher: Dispatcher, options: TaskRunnerOptions) {
    this.workerId = options.workerId ?? randomUUID();
    this.slots = new Slots(options.maxConcurrent);
    this.#log = options.log;
    const maxMessageBytes = options.maxMessageBytes ?? ORCHESTRATOR_MAX_MESSAGE_BYTES;
    this.channels = new GrpcChannels({ writeMaxBytes: maxMessageBytes });
    this.#env = {
      dispatcher,
      channels: this.channels,
      workerId: this.workerId,
      tasksUrl: normalizeGrpcUrl(options.homeUrl),
      blobUrl: normalizeGrpcUrl(options.blobUrl),
      blobTimeoutMs: options.blobTimeoutMs,
      maxMessageBytes,
      log: options.log,
      blobAlternative: (component) =>
        dispatcher.pack.components.get(component.replace(/^\//, ''))?.blobAlternative,
    };
    this.#discovery = describeComponents(dispatcher);
  }

  get running(): number {
    return this.#running.size;
  }

  /** Whether a task with this id runs here now (a redelivered copy must not run twice). */
  isRunning(taskId: string): boolean {
    return this.#running.has(taskId);
  }

  /** Answer `list_components` at once (outside the slots), to the task's orchestrator. */
  async answerDiscovery(any: AnyAssignment): Promise<void> {
    const assignment = pulled(any);
    const clients = this.#env.channels.get(assignment.orchestratorServiceUrl || this.#env.tasksUrl);
    try {
      await clients.orchestrator.completeTaskMessage(
        {
          taskId: assignment.taskId,
          result: { case: 'listComponents', value: { components: this.#discovery } },
        },
        { timeoutMs: 5000 },
      );
      this.#log.debug('answered discovery', {
        task: assignment.taskId,
        components: this.#discovery.length,
      });
    } catch (err) {
      const error = ConnectError.from(err);
      // NOT_FOUND: a stale discovery task whose 5 s deadline passed before we connected.
      this.#log[error.code === Code.NotFound ? 'debug' : 'warn']('discovery answer not accepted', {
        task: assignment.taskId,
        grpc_code: Code[error.code],
        error: error.rawMessage,
      });
    }
  }

  /** Run an execute task in the slot its source took; the slot is released at the end. */
  async execute(any: AnyAssignment): Promise<TaskOutcome> {
    const assignment = pulled(any);
    const request = assignment.kind === 'execute' ? assignment.execute : undefined;
    if (!request) {
      this.slots.release();
      return 'dropped';
    }
    const task = new ExecuteTask(assignment, request, this.#env);
    this.#running.set(task.taskId, task);
    try {
      return await task.run();
    } catch (err) {
      this.#log.error('task failed outside the component', {
        task: task.taskId,
        error: err instanceof Error ? err.message : String(err),
      });
      return 'undelivered';
    } finally {
      this.#running.delete(task.taskId);
      this.slots.release();
    }
  }

  /** Let in-flight tasks finish within `graceMs`, then stop (and report) the rest. */
  async drain(graceMs: number): Promise<void> {
    if (this.#running.size === 0) return;
    this.#log.info('finishing in-flight tasks', { tasks: this.#running.size, grace_ms: graceMs });
    const graceOver = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), graceMs).unref(),
    );
    if ((await Promise.race([this.slots.whenIdle(), graceOver])) === 'timeout') {
      for (const task of this.#running.values()) task.cancel('the shutdown grace period ended');
      await this.slots.whenIdle();
    }
  }
}

/** What discovery registers: id = the bare name, path = `/<name>`, schemas as JSON text. */
export function describeComponents(
  dispatcher: Dispatcher,
): MessageInitShape<typeof ComponentInfoSchema>[] {
  return [...dispatcher.pack.components.values()].map((c) => ({
    componentId: c.name,
    path: `/${c.name}`,
    description: c.description,
    inputSchema: JSON.stringify(c.inputJsonSchema),
    outputSchema: JSON.stringify(c.outputJsonSchema),
  }));
}

/** Capped, jittered backoff: 0.5 s doubling to 5 s, each delay drawn from its upper half. */
export function backoff(failures: number): number {
  const ceiling = Math.min(500 * 2 ** Math.max(0, failures - 1), 5000);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

export function sleepUnlessStopped(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
