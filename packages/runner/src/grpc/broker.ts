import { Code, ConnectError } from '@connectrpc/connect';
import {
  TaskStatus,
  type CompleteTaskRequest,
  type ComponentInfo,
  type PullTasksRequest,
  type TaskAssignment,
  type TaskHeartbeatRequest,
} from '@stepflow-packs/core/grpc';
import { taskErrorName } from '@stepflow-packs/core/grpc';
import type { Json } from '../json/value.js';
import { fromStructJson, fromWire } from './values.js';

/** How a dispatched task ended: completed, heartbeat lost, or timed out. */
export type TaskOutcome =
  | { kind: 'output'; value: Json }
  | { kind: 'error'; code: string; message: string; data?: Json }
  | { kind: 'components'; components: ComponentInfo[] }
  | { kind: 'timeout'; message: string }
  | { kind: 'cancelled'; message: string };

/** A fixed scan window, as upstream's heartbeat tracker. */
export const HEARTBEAT_SCAN_MS = 5_000;

interface Queue {
  items: TaskAssignment[];
  wakeups: Set<() => void>;
  /** Connections ever registered (upstream's connection counter). */
  connections: number;
  open: number;
  registered: Set<() => void>;
}

interface Tracked {
  state: 'queued' | 'executing';
  workerId?: string;
  startedAt: number;
  beatSinceScan: boolean;
  executionTimeoutMs: number | undefined;
  queueTimer: NodeJS.Timeout;
  finish(outcome: TaskOutcome): void;
}

/**
 * The in-memory queues and task table of one orchestrator: FIFO queues
 * that streams compete for, claims by first heartbeat, queue and heartbeat-loss timeouts,
 * first-wins completion.
 */
export class TaskBroker {
  readonly #queues = new Map<string, Queue>();
  readonly #tasks = new Map<string, Tracked>();
  readonly #onConnect: (queue: string) => void;
  #scan: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: { onConnect?: (queue: string) => void } = {}) {
    this.#onConnect = options.onConnect ?? (() => {});
  }

  /** Create a queue (plugin init, or a route-level queue name). */
  ensureQueue(name: string): void {
    if (!this.#queues.has(name))
      this.#queues.set(name, {
        items: [],
        wakeups: new Set(),
        connections: 0,
        open: 0,
        registered: new Set(),
      });
  }

  /** Connections registered so far on a queue; record it before spawning a worker. */
  connections(name: string): number {
    return this.#queues.get(name)?.connections ?? 0;
  }

  openStreams(name: string): number {
    return this.#queues.get(name)?.open ?? 0;
  }

  /** Resolves once the queue has more than `after` registrations; false on timeout/abort. */
  waitForConnection(
    name: string,
    after: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<boolean> {
    this.ensureQueue(name);
    const queue = this.#queues.get(name)!;
    if (queue.connections > after) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        queue.registered.delete(check);
        signal?.removeEventListener('abort', abort);
        resolve(ok);
      };
      const check = () => {
        if (queue.connections > after) done(true);
      };
      const abort = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      queue.registered.add(check);
      signal?.addEventListener('abort', abort, { once: true });
    });
  }

  /** `TasksService.PullTasks`: a worker registers for a queue and receives its tasks. */
  async *pull(request: PullTasksRequest, signal: AbortSignal): AsyncGenerator<TaskAssignment> {
    if (!request.queueName) throw new ConnectError('queue name is required', Code.InvalidArgument);
    const queue = this.#queues.get(request.queueName);
    if (!queue || this.#closed)
      throw new ConnectError(`queue '${request.queueName}' not found`, Code.NotFound);
    queue.connections++;
    queue.open++;
    for (const check of [...queue.registered]) check();
    this.#onConnect(request.queueName);
    try {
      while (!signal.aborted && !this.#closed) {
        const next = queue.items.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => {
          const wake = () => {
            queue.wakeups.delete(wake);
            signal.removeEventListener('abort', wake);
            resolve();
          };
          queue.wakeups.add(wake);
          signal.addEventListener('abort', wake, { once: true });
        });
      }
    } finally {
      queue.open--;
    }
  }

  /**
   * Queue a task and wait for its end. Enqueueing never fails, even with no worker; a task not
   * claimed within `queueTimeoutMs` of dispatch times out.
   */
  dispatch(
    queueName: string,
    assignment: TaskAssignment,
    timeouts: { queueTimeoutMs: number; executionTimeoutMs?: number | undefined },
  ): Promise<TaskOutcome> {
    this.ensureQueue(queueName);
    const queue = this.#queues.get(queueName)!;
    return this.track(assignment, timeouts, () => {
      queue.items.push(assignment);
      for (const wake of [...queue.wakeups]) wake();
    });
  }

  /**
   * Track a task (queue timeout, claim, heartbeats, completion) that `deliver` hands to the
   * workers by other means than a `PullTasks` queue (NATS). `signal` aborts once the task has
   * ended, so a delivery still retrying can stop.
   */
  track(
    assignment: TaskAssignment,
    timeouts: { queueTimeoutMs: number; executionTimeoutMs?: number | undefined },
    deliver: (signal: AbortSignal) => void,
  ): Promise<TaskOutcome> {
    const taskId = assignment.taskId;
    const ended = new AbortController();
    this.#startScan();
    return new Promise<TaskOutcome>((resolve) => {
      const entry: Tracked = {
        state: 'queued',
        startedAt: 0,
        beatSinceScan: false,
        executionTimeoutMs: timeouts.executionTimeoutMs,
        queueTimer: setTimeout(() => {
          if (this.#tasks.get(taskId) === entry && entry.state === 'queued')
            entry.finish({
              kind: 'timeout',
              message: `task '${taskId}' timed out waiting for worker to start`,
            });
        }, timeouts.queueTimeoutMs),
        finish: (outcome) => {
          clearTimeout(entry.queueTimer);
          if (this.#tasks.get(taskId) === entry) this.#tasks.delete(taskId);
          ended.abort();
          resolve(outcome);
        },
      };
      // A retry reuses the task id; an older waiter for it has already finished.
      this.#tasks.get(taskId)?.finish({
        kind: 'cancelled',
        message: `task '${taskId}' was cancelled or timed out`,
      });
      this.#tasks.set(taskId, entry);
      deliver(ended.signal);
    });
  }

  /** `OrchestratorService.TaskHeartbeat`: the first one claims the task. */
  heartbeat(request: TaskHeartbeatRequest): { shouldAbort: boolean; status: TaskStatus } {
    if (!request.workerId) throw new ConnectError('worker_id is required', Code.InvalidArgument);
    const entry = this.#tasks.get(request.taskId);
    if (!entry) throw new ConnectError(`task '${request.taskId}' not found`, Code.NotFound);
    if (entry.state === 'queued') {
      entry.state = 'executing';
      entry.workerId = request.workerId;
      entry.startedAt = Date.now();
      entry.beatSinceScan = true;
      clearTimeout(entry.queueTimer);
      return { shouldAbort: false, status: TaskStatus.IN_PROGRESS };
    }
    if (entry.workerId !== request.workerId)
      return { shouldAbort: true, status: TaskStatus.ALREADY_CLAIMED };
    entry.beatSinceScan = true;
    return { shouldAbort: false, status: TaskStatus.IN_PROGRESS };
  }

  /** `OrchestratorService.CompleteTask`: the first completion wins (retries reuse the task id). */
  complete(request: CompleteTaskRequest): void {
    const entry = this.#tasks.get(request.taskId);
    if (!entry) throw new ConnectError(`task '${request.taskId}' not found`, Code.NotFound);
    const result = request.result;
    switch (result.case) {
      case 'response':
        if (result.value.output === undefined)
          throw new ConnectError('response present but output is missing', Code.InvalidArgument);
        return entry.finish({ kind: 'output', value: fromWire(result.value.output) });
      case 'error': {
        const code = result.value.code;
        const name = code >= 0 && code <= 10 ? taskErrorName(code) : 'WORKER_ERROR';
        const data =
          result.value.data === undefined ? undefined : fromStructJson(result.value.data);
        return entry.finish({
          kind: 'error',
          code: name,
          message: result.value.message,
          ...(data !== undefined ? { data } : {}),
        });
      }
      case 'listComponents':
        return entry.finish({ kind: 'components', components: result.value.components });
      default:
        throw new ConnectError(
          'either response, error, or list_components must be provided',
          Code.InvalidArgument,
        );
    }
  }

  #startScan(): void {
    if (this.#scan || this.#closed) return;
    this.#scan = setInterval(() => this.#scanTasks(), HEARTBEAT_SCAN_MS);
    this.#scan.unref();
  }

  /** Every 5 s: executing tasks silent since the last scan, or past their execution limit. */
  #scanTasks(): void {
    const now = Date.now();
    for (const [taskId, entry] of [...this.#tasks]) {
      if (entry.state !== 'executing') continue;
      if (now - entry.startedAt >= HEARTBEAT_SCAN_MS && !entry.beatSinceScan) {
        entry.finish({
          kind: 'timeout',
          message: `task '${taskId}' timed out: no heartbeat received (worker presumed crashed)`,
        });
      } else if (
        entry.executionTimeoutMs !== undefined &&
        now - entry.startedAt > entry.executionTimeoutMs
      ) {
        entry.finish({ kind: 'timeout', message: `task '${taskId}' exceeded execution timeout` });
      } else {
        entry.beatSinceScan = false;
      }
    }
  }

  /** End every stream and fail every waiting task. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#scan);
    for (const [taskId, entry] of [...this.#tasks])
      entry.finish({ kind: 'cancelled', message: `task '${taskId}' was cancelled or timed out` });
    for (const queue of this.#queues.values()) for (const wake of [...queue.wakeups]) wake();
  }
}
