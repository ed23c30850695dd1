/**
 * A hand-driven Stepflow 0.13 worker for tests: a real gRPC client on HTTP/2 that pulls tasks
 * from the runner's orchestrator and lets the test choose every heartbeat and completion.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import {
  BlobService,
  OrchestratorService,
  TasksService,
  type ComponentExecuteRequest,
  type TaskAssignment,
} from '@stepflow-packs/core/grpc';
import { toWire } from '../src/grpc/values.js';
import type { Json } from '../src/json/value.js';

export interface Reported {
  id: string;
  path: string;
}

export class HandWorker {
  readonly tasks: TaskAssignment[] = [];
  readonly orchestrator: Client<typeof OrchestratorService>;
  readonly blobs: Client<typeof BlobService>;
  readonly #tasksClient: Client<typeof TasksService>;
  readonly #abort = new AbortController();
  readonly #waiters = new Set<() => void>();
  streamError: unknown;

  constructor(
    address: string,
    readonly queue: string,
    readonly workerId: string,
    /** Answered at once to every discovery task. */
    readonly components: Reported[],
  ) {
    const transport = createGrpcTransport({ baseUrl: `http://${address}` });
    this.#tasksClient = createClient(TasksService, transport);
    this.orchestrator = createClient(OrchestratorService, transport);
    this.blobs = createClient(BlobService, transport);
    void this.#pull();
  }

  async #pull(): Promise<void> {
    try {
      for await (const task of this.#tasksClient.pullTasks(
        { queueName: this.queue, workerId: this.workerId },
        { signal: this.#abort.signal },
      )) {
        if (task.task.case === 'listComponents') {
          await this.orchestrator
            .completeTask({
              taskId: task.taskId,
              result: {
                case: 'listComponents',
                value: {
                  components: this.components.map((c) => ({ componentId: c.id, path: c.path })),
                },
              },
            })
            .catch(() => undefined); // a stale discovery gets NOT_FOUND
          continue;
        }
        this.tasks.push(task);
        for (const wake of [...this.#waiters]) wake();
      }
    } catch (err) {
      this.streamError = err;
    }
  }

  /** The next execute task not yet taken (waits up to `timeoutMs`). */
  async next(timeoutMs = 10_000): Promise<TaskAssignment & { execute: ComponentExecuteRequest }> {
    const deadline = Date.now() + timeoutMs;
    while (this.tasks.length === 0) {
      if (Date.now() > deadline) throw new Error(`no task within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, 100);
        this.#waiters.add(wake);
      });
    }
    const task = this.tasks.shift()!;
    if (task.task.case !== 'execute') throw new Error('expected an execute task');
    return Object.assign(task, { execute: task.task.value });
  }

  heartbeat(taskId: string, workerId = this.workerId) {
    return this.orchestrator.taskHeartbeat({ taskId, workerId });
  }

  succeed(taskId: string, output: Json) {
    return this.orchestrator.completeTask({
      taskId,
      result: { case: 'response', value: { output: toWire(output) } },
    });
  }

  stop(): void {
    this.#abort.abort();
  }
}

/** The gRPC status code name of a rejected call (`NotFound`, …) */
export async function grpcCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (err) {
    const { Code } = await import('@connectrpc/connect');
    return Code[(err as { code: number }).code] ?? 'Unknown';
  }
}
