import { randomUUID } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import type { Dispatcher } from '../../dispatcher.js';
import type { Logger } from '../../logger.js';
import { GrpcChannels, normalizeGrpcUrl, ORCHESTRATOR_MAX_MESSAGE_BYTES } from './channels.js';
import type { ComponentInfo, TaskAssignment } from './gen/stepflow/v1/tasks_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ComponentInfoSchema } from './gen/stepflow/v1/tasks_pb.js';
import { Slots } from './slots.js';
import { ExecuteTask, type TaskEnvironment } from './task.js';

export interface GrpcWorkerOptions {
  /** `STEPFLOW_TASKS_URL`: where PullTasks goes (`host:port`, `http://…` or `https://…`). */
  tasksUrl: string;
  /** `STEPFLOW_QUEUE_NAME`: the plugin's `queueName`. */
  queueName: string;
  /** Stable for the process; sent with PullTasks and every heartbeat. Default: a UUID. */
  workerId?: string;
  /** Components running at once; the stream is not read while all slots are busy. */
  maxConcurrent: number;
  /** `STEPFLOW_BLOB_URL` (default: the tasks URL). */
  blobUrl?: string;
  blobTimeoutMs: number;
  /** Largest message sent to the orchestrator (its decode limit, 4 MiB by default). */
  maxMessageBytes?: number;
  /** In-flight tasks get this long after SIGTERM before they are stopped. */
  shutdownGraceMs: number;
  /** Give up (exit 1) after this long without a working stream; 0 = never. */
  reconnectTimeoutMs: number;
  log: Logger;
}

export interface GrpcWorker {
  readonly workerId: string;
  /** Resolves with the exit code: 0 after shutdown, 1 when the orchestrator stayed away. */
  readonly done: Promise<number>;
  /** Stop pulling, let in-flight tasks finish within the grace period, then resolve `done`. */
  shutdown(): void;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 5000;

/**
 * A Stepflow 0.13 pull worker: it opens `TasksService.PullTasks` for its queue, answers
 * discovery at once, runs execute tasks within `maxConcurrent` slots, and reconnects with
 * capped, jittered backoff when the stream ends or the orchestrator restarts.
 */
export function serveGrpc(dispatcher: Dispatcher, options: GrpcWorkerOptions): GrpcWorker {
  const log = options.log;
  const workerId = options.workerId ?? randomUUID();
  const tasksUrl = normalizeGrpcUrl(options.tasksUrl);
  const maxMessageBytes = options.maxMessageBytes ?? ORCHESTRATOR_MAX_MESSAGE_BYTES;
  const channels = new GrpcChannels({ writeMaxBytes: maxMessageBytes });
  const slots = new Slots(options.maxConcurrent);
  const running = new Set<ExecuteTask>();
  const stop = new AbortController();
  const env: TaskEnvironment = {
    dispatcher,
    channels,
    workerId,
    tasksUrl,
    blobUrl: normalizeGrpcUrl(options.blobUrl ?? options.tasksUrl),
    blobTimeoutMs: options.blobTimeoutMs,
    maxMessageBytes,
    log,
    blobAlternative: (component) =>
      dispatcher.pack.components.get(component.replace(/^\//, ''))?.blobAlternative,
  };
  const discovery = describeComponents(dispatcher);
  let pull: AbortController | undefined;

  const answerDiscovery = async (assignment: TaskAssignment): Promise<void> => {
    const clients = channels.get(assignment.context?.orchestratorServiceUrl || tasksUrl);
    try {
      await clients.orchestrator.completeTask(
        {
          taskId: assignment.taskId,
          result: { case: 'listComponents', value: { components: discovery } },
        },
        { timeoutMs: 5000 },
      );
      log.debug('answered discovery', { task: assignment.taskId, components: discovery.length });
    } catch (err) {
      const error = ConnectError.from(err);
      // NOT_FOUND: a stale discovery task whose 5 s deadline passed before we connected.
      log[error.code === Code.NotFound ? 'debug' : 'warn']('discovery answer not accepted', {
        task: assignment.taskId,
        grpc_code: Code[error.code],
        error: error.rawMessage,
      });
    }
  };

  const startTask = (assignment: TaskAssignment): void => {
    const request = assignment.task.case === 'execute' ? assignment.task.value : undefined;
    if (!request) return;
    const task = new ExecuteTask(assignment, request, env);
    running.add(task);
    task
      .run()
      .catch((err: unknown) =>
        log.error('task failed outside the component', {
          task: task.taskId,
          error: err instanceof Error ? err.message : String(err),
        }),
      )
      .finally(() => {
        running.delete(task);
        slots.release();
      });
  };

  const pullLoop = async (): Promise<number> => {
    let failures = 0;
    let failingSince: number | undefined;
    const link = { state: 'connecting' as 'connecting' | 'connected' | 'disconnected' };
    let everConnected = false;
    log.info('pulling tasks', {
      url: tasksUrl,
      queue: options.queueName,
      worker_id: workerId,
      max_concurrent: options.maxConcurrent,
    });
    while (!stop.signal.aborted) {
      pull = new AbortController();
      let opened = false;
      let openedAt = 0;
      let outcome: { kind: 'ended' } | { kind: 'failed'; code: Code; message: string };
      const markOpen = () => {
        if (opened) return;
        opened = true;
        openedAt = Date.now();
        failingSince = undefined;
        if (link.state !== 'connected') {
          log.info(
            everConnected ? 'reconnected to the orchestrator' : 'connected to the orchestrator',
            { url: tasksUrl, queue: options.queueName },
          );
        }
        link.state = 'connected';
        everConnected = true;
      };
      try {
        const stream = channels
          .get(tasksUrl)
          .tasks.pullTasks(
            { queueName: options.queueName, workerId },
            { signal: pull.signal, onHeader: markOpen },
          );
        for await (const assignment of stream) {
          markOpen();
          if (assignment.task.case === 'listComponents') {
            void answerDiscovery(assignment);
          } else if (assignment.task.case === 'execute') {
            await slots.acquire(); // not reading the stream while every slot is busy
            startTask(assignment);
          } else {
            log.warn('ignoring a task of an unknown kind', { task: assignment.taskId });
          }
          if (stop.signal.aborted) break;
        }
        outcome = { kind: 'ended' };
      } catch (err) {
        const error = ConnectError.from(err);
        outcome = { kind: 'failed', code: error.code, message: error.rawMessage };
      }
      if (stop.signal.aborted) break;

      if (!opened) failures++;
      failingSince ??= Date.now();
      const wasConnected = link.state === 'connected';
      if (wasConnected || link.state === 'connecting') {
        const fields =
          outcome.kind === 'ended' ? {} : { grpc_code: Code[outcome.code], error: outcome.message };
        if (wasConnected)
          log.warn(
            outcome.kind === 'ended'
              ? 'task stream ended; reconnecting'
              : 'lost the orchestrator; reconnecting',
            fields,
          );
        else
          log.warn('cannot reach the orchestrator yet; retrying', {
            url: tasksUrl,
            queue: options.queueName,
            ...fields,
          });
        link.state = 'disconnected';
      }
      if (
        options.reconnectTimeoutMs > 0 &&
        Date.now() - failingSince > options.reconnectTimeoutMs
      ) {
        log.error('giving up: no task stream from the orchestrator', {
          url: tasksUrl,
          queue: options.queueName,
          waited_ms: Date.now() - failingSince,
        });
        return 1;
      }
      // A clean end after a working stream reconnects almost at once; failures back off, and
      // so do streams that end as soon as they open (no busy loop against such a server).
      if (opened && Date.now() - openedAt < 1000) failures++;
      else if (opened) failures = 0;
      const delay = failures === 0 ? 50 : backoff(failures);
      log.debug('reconnecting', { in_ms: Math.round(delay) });
      await sleepUnlessStopped(delay, stop.signal);
    }
    return 0;
  };

  let resolveShutdown: (() => void) | undefined;
  const shutdownRequested = new Promise<void>((resolve) => (resolveShutdown = resolve));

  const done = (async () => {
    const code = await Promise.race([pullLoop(), shutdownRequested.then(() => 0)]);
    stop.abort();
    pull?.abort();
    if (running.size > 0) {
      log.info('finishing in-flight tasks', {
        tasks: running.size,
        grace_ms: options.shutdownGraceMs,
      });
      const graceOver = new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), options.shutdownGraceMs).unref(),
      );
      if ((await Promise.race([slots.whenIdle(), graceOver])) === 'timeout') {
        for (const task of running) task.cancel('the shutdown grace period ended');
        await slots.whenIdle();
      }
    }
    return code;
  })();

  return {
    workerId,
    done,
    shutdown() {
      if (stop.signal.aborted) return;
      log.info('stopping: no new tasks will be pulled');
      stop.abort();
      pull?.abort();
      resolveShutdown?.();
    },
  };
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

function backoff(failures: number): number {
  const ceiling = Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1), MAX_RETRY_MS);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function sleepUnlessStopped(ms: number, signal: AbortSignal): Promise<void> {
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

export type { ComponentInfo };
