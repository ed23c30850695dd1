import { Code, ConnectError } from '@connectrpc/connect';
import type { BlobAccess } from '../../blobs.js';
import type { Dispatcher, Session } from '../../dispatcher.js';
import type { Logger } from '../../logger.js';
import type { Observability } from '../../protocol.js';
import type { RunAccess } from '../../runs.js';
import { grpcBlobs } from './blobs.js';
import type { GrpcChannels, GrpcClients } from './channels.js';
import { TaskErrorCode } from './gen/stepflow/v1/common_pb.js';
import { TaskStatus } from './gen/stepflow/v1/orchestrator_pb.js';
import { grpcRuns } from './runs.js';
import { toTaskError, type WireTaskError } from './task-errors.js';
import {
  encodeCompleteTask,
  encodeTaskHeartbeat,
  type ExecuteRequest,
  type HeartbeatReply,
  type PulledTask,
} from './wire.js';

/** A CompleteTaskRequest, framed; `response` when it carries the component's output. */
interface Completion {
  frame: Buffer;
  response: boolean;
}

export type TaskOutcome = 'completed' | 'dropped' | 'undelivered';

/** What every execute task of one worker shares. */
export interface TaskEnvironment {
  readonly dispatcher: Dispatcher;
  readonly channels: GrpcChannels;
  readonly workerId: string;
  /** `STEPFLOW_TASKS_URL`: used when a task names no orchestrator URL, and as the fail-over. */
  readonly tasksUrl: string;
  readonly blobUrl: string;
  readonly blobTimeoutMs: number;
  readonly maxMessageBytes: number;
  readonly log: Logger;
  /** How to move this component's large inputs/outputs through blobs (for the size error). */
  blobAlternative(component: string): string | undefined;
}

const HEARTBEAT_CALL = { timeoutMs: 10_000 };
const COMPLETE_CALL = { timeoutMs: 30_000 };
const CLAIM_RETRIES = 5;
const COMPLETE_RETRIES = 4;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
/** 0.5·d … d: spreads retries of many tasks without ever waiting longer than d. */
const jittered = (ms: number) => ms / 2 + Math.random() * (ms / 2);

/**
 * One execute task, from claim to completion: claim with the first heartbeat, keep
 * the claim alive on a timer, run the component, complete with its output or error. A task
 * whose claim is lost (another worker holds it, or it timed out) is never completed: with
 * task ids reused across retries, a late completion could stand in for a newer attempt.
 */
export class ExecuteTask {
  readonly taskId: string;
  readonly #env: TaskEnvironment;
  readonly #request: ExecuteRequest;
  readonly #clients: GrpcClients;
  readonly #runId: string | undefined;
  readonly #rootRunId: string;
  readonly #intervalMs: number;
  /** Created when a component reads ctx.signal (most never do). */
  #abort: AbortController | undefined;
  /** Why the task was cancelled (shutdown grace over, or the claim lost). */
  #cancelled: Error | undefined;
  #stopRun: ((reason: Error) => void) | undefined;
  /** When the next keep-alive heartbeat is due (the shared ticker reads it). */
  nextBeatAt = 0;
  #lost: string | undefined;
  #inFlight: Promise<void> | undefined;
  #progress: number | undefined;
  #statusMessage: string | undefined;
  #blobs: BlobAccess | undefined;
  #runs: RunAccess | undefined;

  constructor(assignment: PulledTask, request: ExecuteRequest, env: TaskEnvironment) {
    this.taskId = assignment.taskId;
    this.#env = env;
    this.#request = request;
    this.#clients = env.channels.get(assignment.orchestratorServiceUrl || env.tasksUrl);
    this.#runId = request.observability?.runId || undefined;
    this.#rootRunId = assignment.rootRunId;
    this.#intervalMs = Math.max(1, assignment.heartbeatIntervalSecs || 1) * 1000;
  }

  get component(): string {
    return this.#request.componentId;
  }

  /** Stop the component (shutdown grace over): it completes as WORKER_ERROR. */
  cancel(reason: string): void {
    if (this.#cancelled) return;
    this.#cancelled = new Error(reason);
    this.#abort?.abort(this.#cancelled);
    this.#stopRun?.(this.#cancelled);
  }

  #signal(): AbortSignal {
    if (!this.#abort) {
      this.#abort = new AbortController();
      if (this.#cancelled) this.#abort.abort(this.#cancelled);
    }
    return this.#abort.signal;
  }

  /**
   * `completed`: the orchestrator accepted the result (or already had one); `dropped`: the task
   * belongs to someone else (never claimed, or the claim was lost); `undelivered`: the result
   * could not be delivered, so the orchestrator will time the task out and retry it.
   */
  async run(): Promise<TaskOutcome> {
    const claimed = await this.#claim();
    if (!claimed) return 'dropped';
    this.nextBeatAt = Date.now() + this.#intervalMs;
    keepAlive.add(this);
    let completion: Completion;
    try {
      const output = await this.#execute();
      completion = this.#success(output);
    } catch (err) {
      completion = this.#failure(
        this.#cancelled && !this.#lost
          ? shutdownError(this.#cancelled)
          : toTaskError(err, this.component),
      );
    } finally {
      keepAlive.delete(this);
    }
    await this.#inFlight; // a heartbeat under way may still report the claim lost
    if (this.#lost) {
      this.#env.log.warn('dropping the result of a task whose claim was lost', {
        task: this.taskId,
        component: this.component,
        reason: this.#lost,
      });
      return 'dropped';
    }
    return this.#complete(completion);
  }

  #execute(): Promise<unknown> {
    const request = this.#request;
    const o = request.observability;
    const observability: Observability = {};
    if (o?.traceId) observability.trace_id = o.traceId;
    if (o?.spanId) observability.span_id = o.spanId;
    if (o?.runId) observability.run_id = o.runId;
    if (o?.flowId) observability.flow_id = o.flowId;
    if (o?.stepId) observability.step_id = o.stepId;
    const running = this.#env.dispatcher.execute(
      request.componentId,
      request.input,
      { attempt: Math.max(1, request.attempt), observability, pathParams: request.pathParams },
      this.#session(),
    );
    // A component that ignores its signal must not hold the completion past a cancel.
    if (this.#cancelled) return Promise.reject(this.#cancelled);
    return new Promise((resolve, reject) => {
      this.#stopRun = reject;
      running.then(resolve, reject);
    });
  }

  #session(): Session {
    const blobs = () => this.#blobAccess();
    const runs = () =>
      (this.#runs ??= grpcRuns(this.#clients.orchestrator, blobs(), this.#rootRunId || undefined));
    const signal = () => this.#signal();
    return {
      transport: 'grpc',
      dialect: 'v0.13',
      get signal() {
        return signal();
      },
      // Created on first use: most components touch neither.
      get blobs() {
        return blobs();
      },
      get runs() {
        return runs();
      },
      reportProgress: (progress, message) => {
        this.#progress = progress;
        this.#statusMessage = message;
      },
    };
  }

  #blobAccess(): BlobAccess {
    const url = this.#env.blobUrl;
    return (this.#blobs ??= grpcBlobs(
      this.#env.channels.get(url).blobs,
      url,
      this.#env.blobTimeoutMs,
    ));
  }

  /** The first heartbeat: IN_PROGRESS means the task is ours. */
  async #claim(): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        const reply = await this.#heartbeat();
        if (reply.shouldAbort || reply.status === TaskStatus.ALREADY_CLAIMED) {
          this.#env.log.debug('task already claimed by another worker; skipped', {
            task: this.taskId,
          });
          return false;
        }
        return true;
      } catch (err) {
        const error = ConnectError.from(err);
        if (error.code === Code.Unavailable && attempt < CLAIM_RETRIES) {
          await sleep(1000);
          continue;
        }
        const level = error.code === Code.NotFound ? 'debug' : 'warn';
        this.#env.log[level]('could not claim the task; skipped', {
          task: this.taskId,
          component: this.component,
          grpc_code: Code[error.code],
          error: error.rawMessage,
        });
        return false;
      }
    }
  }

  #heartbeat(): Promise<HeartbeatReply> {
    let frame: Buffer;
    try {
      frame = encodeTaskHeartbeat({
        taskId: this.taskId,
        workerId: this.#env.workerId,
        runId: this.#runId,
        progress: this.#progress,
        statusMessage: this.#statusMessage,
      });
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return this.#clients.orchestrator.taskHeartbeat(frame, HEARTBEAT_CALL);
  }

  /** A keep-alive heartbeat (the shared ticker calls it when `nextBeatAt` has passed). */
  beat(): void {
    this.nextBeatAt = Date.now() + this.#intervalMs;
    if (this.#inFlight || this.#lost) return;
    this.#inFlight = this.#heartbeat()
      .then(
        (reply) => {
          if (reply.shouldAbort || reply.status === TaskStatus.ALREADY_CLAIMED)
            this.#loseClaim('another worker holds the task');
        },
        (err: unknown) => {
          const error = ConnectError.from(err);
          // NOT_FOUND: the orchestrator timed the task out (or it finished elsewhere).
          if (error.code === Code.NotFound)
            this.#loseClaim('the orchestrator no longer tracks the task');
          else
            this.#env.log.debug('heartbeat failed; retrying on the next tick', {
              task: this.taskId,
              grpc_code: Code[error.code],
            });
        },
      )
      .finally(() => {
        this.#inFlight = undefined;
      });
  }

  #loseClaim(reason: string): void {
    this.#lost = reason;
    keepAlive.delete(this);
    this.cancel(reason);
  }

  #success(output: unknown): Completion {
    try {
      return {
        frame: encodeCompleteTask(this.taskId, { case: 'response', output }, this.#runId),
        response: true,
      };
    } catch (err) {
      return this.#failure(toTaskError(err, this.component));
    }
  }

  #failure(error: WireTaskError): Completion {
    return {
      frame: encodeCompleteTask(
        this.taskId,
        { case: 'error', code: error.code, message: error.message, data: error.data },
        this.#runId,
      ),
      response: false,
    };
  }

  /**
   * CompleteTask to the task's orchestrator URL; on UNAVAILABLE, bounded retries with backoff,
   * then the run's current owner (GetOrchestratorForRun) or STEPFLOW_TASKS_URL. NOT_FOUND means
   * the orchestrator already has a result: done. A message over the size limit is replaced by
   * an error that names the limit and the blob alternative.
   */
  async #complete(completion: Completion): Promise<'completed' | 'undelivered'> {
    const targets = [this.#clients];
    for (let t = 0; t < targets.length; t++) {
      const clients = targets[t]!;
      for (let attempt = 0; attempt <= COMPLETE_RETRIES; attempt++) {
        try {
          await clients.orchestrator.completeTask(completion.frame, COMPLETE_CALL);
          return 'completed';
        } catch (err) {
          const error = ConnectError.from(err);
          if (error.code === Code.NotFound) {
            this.#env.log.debug(
              'completion not needed: the orchestrator no longer tracks the task',
              { task: this.taskId },
            );
            return 'completed';
          }
          if (error.code === Code.ResourceExhausted && completion.response) {
            completion = this.#failure(this.#tooLarge(error));
            attempt--;
            continue;
          }
          if (error.code !== Code.Unavailable && error.code !== Code.DeadlineExceeded) {
            this.#env.log.error('the orchestrator refused the completion', {
              task: this.taskId,
              grpc_code: Code[error.code],
              error: error.rawMessage,
            });
            return 'undelivered';
          }
          if (attempt < COMPLETE_RETRIES) await sleep(jittered(Math.min(500 * 2 ** attempt, 4000)));
        }
      }
      if (t === targets.length - 1) {
        const next = await this.#failover(targets.map((c) => c.url));
        if (next) targets.push(next);
      }
    }
    this.#env.log.error(
      'could not deliver the completion; the orchestrator will time the task out',
      { task: this.taskId, component: this.component },
    );
    return 'undelivered';
  }

  async #failover(tried: string[]): Promise<GrpcClients | undefined> {
    const home = this.#env.channels.get(this.#env.tasksUrl);
    if (this.#runId) {
      try {
        const owner = await home.tasks.getOrchestratorForRun(
          { runId: this.#runId },
          { timeoutMs: 5000 },
        );
        if (owner.orchestratorServiceUrl) {
          const clients = this.#env.channels.get(owner.orchestratorServiceUrl);
          if (!tried.includes(clients.url)) return clients;
        }
      } catch {
        // no owner advertised (the default lease manager); fall back to the tasks URL
      }
    }
    return tried.includes(home.url) ? undefined : home;
  }

  #tooLarge(error: ConnectError): WireTaskError {
    const limit = this.#env.maxMessageBytes;
    const alternative = this.#env.blobAlternative(this.component);
    return {
      code: TaskErrorCode.COMPONENT_FAILED,
      message:
        `The output of component "${this.component}" is larger than the orchestrator's gRPC message limit of ${limit} bytes` +
        (alternative
          ? `; ${alternative}`
          : '; store large results with ctx.putBlob and return the blob id'),
      data: { reason: 'message_too_large', limit_bytes: limit, detail: error.rawMessage },
    };
  }
}

/**
 * Running tasks' keep-alive heartbeats come from one ticker instead of a timer per task (timers
 * cost more than the rest of a short task's bookkeeping).
 */
const keepAlive = new (class {
  readonly #tasks = new Set<ExecuteTask>();
  #ticker: NodeJS.Timeout | undefined;

  add(task: ExecuteTask): void {
    this.#tasks.add(task);
    if (!this.#ticker) {
      this.#ticker = setInterval(() => this.#tick(), 200);
      this.#ticker.unref();
    }
  }

  delete(task: ExecuteTask): void {
    this.#tasks.delete(task); // the (unref'd) ticker stays: re-arming it per task costs more
  }

  #tick(): void {
    const now = Date.now();
    for (const task of this.#tasks) if (task.nextBeatAt <= now) task.beat();
  }
})();

function shutdownError(reason: unknown): WireTaskError {
  const detail = reason instanceof Error ? reason.message : 'the worker is shutting down';
  return {
    code: TaskErrorCode.WORKER_ERROR,
    message: `The worker stopped the component before it finished: ${detail}`,
    data: { reason: 'worker_shutdown' },
  };
}
