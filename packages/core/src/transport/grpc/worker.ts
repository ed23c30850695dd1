import { Code } from '@connectrpc/connect';
import type { Dispatcher } from '../../dispatcher.js';
import type { Logger } from '../../logger.js';
import { normalizeGrpcUrl } from './channels.js';
import { backoff, sleepUnlessStopped, TaskRunner } from './runner.js';
import { decodeTaskAssignment } from './wire.js';

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

/**
 * A Stepflow 0.13 pull worker: it opens `TasksService.PullTasks` for its queue, answers
 * discovery at once, runs execute tasks within `maxConcurrent` slots, and reconnects with
 * capped, jittered backoff when the stream ends or the orchestrator restarts.
 */
export function serveGrpc(dispatcher: Dispatcher, options: GrpcWorkerOptions): GrpcWorker {
  const log = options.log;
  const tasksUrl = normalizeGrpcUrl(options.tasksUrl);
  const runner = new TaskRunner(dispatcher, {
    homeUrl: tasksUrl,
    blobUrl: options.blobUrl ?? options.tasksUrl,
    ...(options.workerId ? { workerId: options.workerId } : {}),
    maxConcurrent: options.maxConcurrent,
    blobTimeoutMs: options.blobTimeoutMs,
    ...(options.maxMessageBytes ? { maxMessageBytes: options.maxMessageBytes } : {}),
    log,
  });
  const workerId = runner.workerId;
  const stop = new AbortController();
  let pull: AbortController | undefined;

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
      const pulling = pull;
      const outcome = await runner.channels.get(tasksUrl).pullTasks(
        { queueName: options.queueName, workerId },
        {
          onOpen: markOpen,
          onMessage(message) {
            const task = decodeTaskAssignment(message);
            markOpen();
            if (task.kind === 'execute') {
              if (runner.slots.tryAcquire()) void runner.execute(task);
              // not reading the stream while every slot is busy
              else return runner.slots.acquire().then(() => void runner.execute(task));
            } else if (task.kind === 'listComponents') {
              void runner.answerDiscovery(task);
            } else {
              log.warn('ignoring a task of an unknown kind', { task: task.taskId });
            }
            if (stop.signal.aborted) pulling.abort();
            return undefined;
          },
        },
        pull.signal,
      );
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
    await runner.drain(options.shutdownGraceMs);
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
