/**
 * A programmable Stepflow 0.13 orchestrator for tests: the gRPC side only (TasksService,
 * OrchestratorService, BlobService) on a real HTTP/2 socket on 127.0.0.1. Tests enqueue
 * tasks, watch heartbeats and completions, and choose how claims are answered.
 */
import { once } from 'node:events';
import { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { blobIdOf } from '../../src/blobs.js';
import { BlobService } from '../../src/transport/grpc/gen/stepflow/v1/blobs_pb.js';
import { ExecutionStatus } from '../../src/transport/grpc/gen/stepflow/v1/common_pb.js';
import {
  OrchestratorService,
  TaskStatus,
  type CompleteTaskRequest,
  type OrchestratorSubmitRunRequest,
  type TaskHeartbeatRequest,
} from '../../src/transport/grpc/gen/stepflow/v1/orchestrator_pb.js';
import {
  TaskAssignmentSchema,
  TasksService,
  type PullTasksRequest,
  type TaskAssignment,
} from '../../src/transport/grpc/gen/stepflow/v1/tasks_pb.js';
import { fromValue, toValue } from '../../src/transport/grpc/values.js';
import type { JsonValue } from '../../src/protocol.js';

export type ClaimAnswer = 'in_progress' | 'already_claimed' | 'not_found' | 'unavailable';

export interface HeartbeatSeen {
  request: TaskHeartbeatRequest;
  at: number;
}

interface Waiter<T> {
  resolve: (value: T) => void;
  promise: Promise<T>;
}

function waiter<T>(): Waiter<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { resolve, promise };
}

export interface ExecuteOptions {
  taskId?: string;
  attempt?: number;
  heartbeatIntervalSecs?: number;
  runId?: string;
  stepId?: string;
  pathParams?: Record<string, string>;
  /** Orchestrator URL the task names (default: this server). */
  orchestratorUrl?: string;
  queue?: string;
}

export class FixtureOrchestrator {
  readonly pulls: PullTasksRequest[] = [];
  readonly heartbeats: HeartbeatSeen[] = [];
  readonly completions: CompleteTaskRequest[] = [];
  readonly blobs = new Map<string, { json?: JsonValue; bytes?: Uint8Array; type: string }>();
  readonly submitted: OrchestratorSubmitRunRequest[] = [];
  /** How each heartbeat is answered (default: claims go to the first worker, as upstream). */
  claim: (request: TaskHeartbeatRequest) => ClaimAnswer = (request) => this.#defaultClaim(request);
  /** How CompleteTask is answered (default: accepted). */
  completeAnswer: (request: CompleteTaskRequest) => 'ok' | 'not_found' | 'unavailable' = () => 'ok';
  blobsDown = false;
  /** End every PullTasks stream as soon as it opens (a misbehaving or restarting server). */
  endStreamsAtOnce = false;
  /** Open PullTasks streams. */
  openStreams = 0;

  readonly #queues = new Map<string, TaskAssignment[]>();
  readonly #wakeups = new Set<() => void>();
  readonly #completed = new Map<string, Waiter<CompleteTaskRequest>>();
  readonly #owners = new Map<string, string>();
  readonly #sessions = new Set<ServerHttp2Session>();
  #server: Http2Server | undefined;
  #port = 0;
  #nextDiscovery = 0;
  #nextTask = 0;

  static async start(port = 0): Promise<FixtureOrchestrator> {
    const orchestrator = new FixtureOrchestrator();
    await orchestrator.listen(port);
    return orchestrator;
  }

  get port(): number {
    return this.#port;
  }

  /** `127.0.0.1:<port>`: no scheme, as the real orchestrator passes it. */
  get url(): string {
    return `127.0.0.1:${this.#port}`;
  }

  async listen(port = this.#port): Promise<void> {
    const handler = connectNodeAdapter({
      grpc: true,
      connect: false,
      grpcWeb: false,
      routes: (router) => {
        router.service(TasksService, {
          pullTasks: (request, context) => this.#pull(request, context.signal),
          getOrchestratorForRun: () => {
            throw new ConnectError('no advertised URL', Code.Unavailable);
          },
        });
        router.service(OrchestratorService, {
          taskHeartbeat: (request) => this.#heartbeat(request),
          completeTask: (request) => this.#complete(request),
          submitRun: (request) => this.#submitRun(request),
          getRun: () => {
            throw new ConnectError('not supported by the fixture', Code.Unimplemented);
          },
        });
        router.service(BlobService, {
          putBlob: (request) => {
            if (this.blobsDown) throw new ConnectError('blob store down', Code.Unavailable);
            if (request.content.case === 'rawData') {
              const id = blobIdOf(request.content.value);
              this.blobs.set(id, { bytes: request.content.value, type: 'binary' });
              return { blobId: id };
            }
            if (request.content.case !== 'jsonData')
              throw new ConnectError('content is required', Code.InvalidArgument);
            const json = fromValue(request.content.value);
            const id = blobIdOf(JSON.stringify(json));
            this.blobs.set(id, { json, type: request.blobType || 'data' });
            return { blobId: id };
          },
          getBlob: (request) => {
            if (this.blobsDown) throw new ConnectError('blob store down', Code.Unavailable);
            const blob = this.blobs.get(request.blobId);
            if (!blob) throw new ConnectError(`blob '${request.blobId}' not found`, Code.NotFound);
            return blob.bytes
              ? {
                  blobId: request.blobId,
                  blobType: blob.type,
                  content: { case: 'rawData', value: blob.bytes },
                }
              : {
                  blobId: request.blobId,
                  blobType: blob.type,
                  content: { case: 'jsonData', value: toValue(blob.json ?? null) },
                };
          },
        });
      },
    });
    const server = createServer(handler);
    server.on('session', (session) => {
      this.#sessions.add(session);
      session.on('close', () => this.#sessions.delete(session));
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
  }

  /** Stop serving and drop every connection (an orchestrator crash, from the worker's view). */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    for (const session of this.#sessions) session.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Queue an execute task; resolves with its completion. */
  execute(
    componentId: string,
    input: unknown,
    options: ExecuteOptions = {},
  ): { taskId: string; completed: Promise<CompleteTaskRequest> } {
    const { assignment, completed } = this.track(componentId, input, options);
    this.#queue(options.queue ?? 'fixture', assignment);
    return { taskId: assignment.taskId, completed };
  }

  /**
   * An execute task the orchestrator tracks but does not queue for PullTasks: for tests that
   * deliver it another way (a NATS stream). Resolves with its completion.
   */
  track(
    componentId: string,
    input: unknown,
    options: ExecuteOptions = {},
  ): { assignment: TaskAssignment; completed: Promise<CompleteTaskRequest> } {
    const taskId = options.taskId ?? `task-${++this.#nextTask}`;
    const runId = options.runId ?? '01a23b41-0000-7000-8000-000000000001';
    const assignment = create(TaskAssignmentSchema, {
      taskId,
      task: {
        case: 'execute',
        value: {
          componentId,
          input: toValue(input, 'input'),
          attempt: options.attempt ?? 1,
          observability: { runId, flowId: 'flow-1', stepId: options.stepId ?? 'step' },
          pathParams: options.pathParams ?? {},
        },
      },
      context: { orchestratorServiceUrl: options.orchestratorUrl ?? this.url, rootRunId: runId },
      heartbeatIntervalSecs: options.heartbeatIntervalSecs ?? 1,
    });
    this.#owners.delete(taskId);
    return { assignment, completed: this.#await(taskId) };
  }

  /** Queue a discovery task; resolves with the worker's answer. */
  discover(queue = 'fixture'): Promise<CompleteTaskRequest> {
    const assignment = create(TaskAssignmentSchema, {
      taskId: `discovery-${this.#nextDiscovery++}`,
      task: { case: 'listComponents', value: {} },
      context: { orchestratorServiceUrl: this.url, rootRunId: '' },
      heartbeatIntervalSecs: 0,
    });
    const completed = this.#await(assignment.taskId);
    this.#queue(queue, assignment);
    return completed;
  }

  /** Take the next task queued for PullTasks (to deliver it another way, e.g. NATS). */
  takeQueued(queue = 'fixture'): TaskAssignment | undefined {
    return this.#queues.get(queue)?.shift();
  }

  /** Tasks queued but not yet sent to a worker. */
  pending(queue = 'fixture'): number {
    return this.#queues.get(queue)?.length ?? 0;
  }

  /** The worker id that claimed a task (first heartbeat), if any. */
  ownerOf(taskId: string): string | undefined {
    return this.#owners.get(taskId);
  }

  /** Hand a task to another worker id, as upstream does when a retry is claimed elsewhere. */
  reassign(taskId: string, workerId: string): void {
    this.#owners.set(taskId, workerId);
  }

  #await(taskId: string): Promise<CompleteTaskRequest> {
    const done = waiter<CompleteTaskRequest>();
    this.#completed.set(taskId, done);
    return done.promise;
  }

  #queue(queue: string, assignment: TaskAssignment): void {
    let list = this.#queues.get(queue);
    if (!list) this.#queues.set(queue, (list = []));
    list.push(assignment);
    for (const wake of this.#wakeups) wake();
  }

  async *#pull(request: PullTasksRequest, signal: AbortSignal): AsyncGenerator<TaskAssignment> {
    this.pulls.push(request);
    if (this.endStreamsAtOnce) return;
    this.openStreams++;
    try {
      while (!signal.aborted) {
        const next = this.#queues.get(request.queueName)?.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => {
          const wake = () => {
            this.#wakeups.delete(wake);
            signal.removeEventListener('abort', wake);
            resolve();
          };
          this.#wakeups.add(wake);
          signal.addEventListener('abort', wake, { once: true });
        });
      }
    } finally {
      this.openStreams--;
    }
  }

  #defaultClaim(request: TaskHeartbeatRequest): ClaimAnswer {
    if (!this.#completed.has(request.taskId)) return 'not_found';
    const owner = this.#owners.get(request.taskId);
    if (owner === undefined) {
      this.#owners.set(request.taskId, request.workerId);
      return 'in_progress';
    }
    return owner === request.workerId ? 'in_progress' : 'already_claimed';
  }

  #heartbeat(request: TaskHeartbeatRequest) {
    this.heartbeats.push({ request, at: Date.now() });
    if (!request.workerId) throw new ConnectError('worker_id is required', Code.InvalidArgument);
    switch (this.claim(request)) {
      case 'in_progress':
        return { shouldAbort: false, status: TaskStatus.IN_PROGRESS };
      case 'already_claimed':
        return { shouldAbort: true, status: TaskStatus.ALREADY_CLAIMED };
      case 'not_found':
        throw new ConnectError(`task '${request.taskId}' not found`, Code.NotFound);
      case 'unavailable':
        throw new ConnectError('recovering', Code.Unavailable);
    }
  }

  #complete(request: CompleteTaskRequest) {
    const answer = this.completeAnswer(request);
    if (answer === 'unavailable') throw new ConnectError('recovering', Code.Unavailable);
    const done = this.#completed.get(request.taskId);
    if (!done || answer === 'not_found')
      throw new ConnectError(`task '${request.taskId}' not found`, Code.NotFound);
    if (request.result.case === 'response' && request.result.value.output === undefined) {
      throw new ConnectError('response present but output is missing', Code.InvalidArgument);
    }
    this.completions.push(request);
    this.#completed.delete(request.taskId);
    done.resolve(request);
    return {};
  }

  #submitRun(
    request: OrchestratorSubmitRunRequest,
  ): MessageInitShape<
    typeof import('../../src/transport/grpc/gen/stepflow/v1/orchestrator_pb.js').OrchestratorRunStatusSchema
  > {
    this.submitted.push(request);
    const flowId = request.runRequest?.flowId ?? '';
    if (!this.blobs.has(flowId))
      throw new ConnectError(`flow '${flowId}' not found`, Code.NotFound);
    // The fixture "runs" a flow by echoing its first input as the output.
    const input = request.runRequest?.input[0];
    return {
      runId: 'sub-run-1',
      flowId,
      status: ExecutionStatus.COMPLETED,
      results: [
        { itemIndex: 0, status: ExecutionStatus.COMPLETED, ...(input ? { output: input } : {}) },
      ],
      rootRunId: request.rootRunId ?? '',
    };
  }
}
