import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import {
  GetBlobRequestSchema,
  GetBlobResponseSchema,
  PutBlobRequestSchema,
  PutBlobResponseSchema,
  BlobService,
} from './gen/stepflow/v1/blobs_pb.js';
import {
  CompleteTaskRequestSchema,
  CompleteTaskResponseSchema,
  OrchestratorService,
  TaskHeartbeatRequestSchema,
  TaskHeartbeatResponseSchema,
} from './gen/stepflow/v1/orchestrator_pb.js';
import { TasksService } from './gen/stepflow/v1/tasks_pb.js';
import { PullChannel, type PullHandlers, type PullOutcome } from './pull.js';
import { UnaryChannel, type UnaryCall, type UnaryOptions } from './unary.js';
import {
  decodeCompleteTaskResponse,
  decodeTaskHeartbeatResponse,
  encodePullTasks,
  type HeartbeatReply,
} from './wire.js';

/** The orchestrator's default gRPC message limit (tonic's decode limit, never raised in 0.13). */
export const ORCHESTRATOR_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * `127.0.0.1:7840`, `http://127.0.0.1:7840` and `https://host` all name a gRPC endpoint: the
 * orchestrator passes URLs without a scheme (plain-text h2c); `https://` means TLS.
 */
export function normalizeGrpcUrl(url: string): string {
  const trimmed = url.trim().replace(/\/+$/, '');
  if (trimmed === '') throw new TypeError('a gRPC URL must not be empty');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  const parsed = new URL(withScheme);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`a gRPC URL must use http:// or https://, got ${JSON.stringify(url)}`);
  }
  return `${parsed.protocol}//${parsed.host}`;
}

/** The calls a task makes to its orchestrator. */
export interface OrchestratorCalls {
  /** TaskHeartbeat with a request framed by `encodeTaskHeartbeat` (wire.ts). */
  taskHeartbeat(frame: Buffer, options?: UnaryOptions): Promise<HeartbeatReply>;
  /** CompleteTask with a request framed by `encodeCompleteTask` (wire.ts). */
  completeTask(frame: Buffer, options?: UnaryOptions): Promise<void>;
  /** CompleteTask from a protobuf-es message (discovery answers). */
  completeTaskMessage: UnaryCall<
    typeof CompleteTaskRequestSchema,
    typeof CompleteTaskResponseSchema
  >;
  /** TaskHeartbeat from a protobuf-es message. */
  taskHeartbeatMessage: UnaryCall<
    typeof TaskHeartbeatRequestSchema,
    typeof TaskHeartbeatResponseSchema
  >;
  submitRun: Client<typeof OrchestratorService>['submitRun'];
  getRun: Client<typeof OrchestratorService>['getRun'];
}

/** BlobService's two calls. */
export interface BlobCalls {
  putBlob: UnaryCall<typeof PutBlobRequestSchema, typeof PutBlobResponseSchema>;
  getBlob: UnaryCall<typeof GetBlobRequestSchema, typeof GetBlobResponseSchema>;
}

/**
 * The blob connection's receive window. A GetBlob reply can be many megabytes, and a worker
 * busy with CPU-bound components reads seldom: with HTTP/2's 64 KiB a 2 MB blob took dozens of
 * event-loop turns (seconds, under load), with 16 MiB one or two.
 */
const BLOB_WINDOW_BYTES = 16 * 1024 * 1024;

export interface GrpcClients {
  readonly url: string;
  readonly tasks: Client<typeof TasksService>;
  /** PullTasks on plain node:http2 with hand-decoded assignments (pull.ts, wire.ts). */
  pullTasks(
    request: { queueName: string; workerId: string },
    handlers: PullHandlers,
    signal: AbortSignal,
  ): Promise<PullOutcome>;
  readonly orchestrator: OrchestratorCalls;
  readonly blobs: BlobCalls;
}

/**
 * The clients of one orchestrator URL, reused by every task that names it, on up to four
 * HTTP/2 connections, each opened on first use: the PullTasks stream (plain node:http2, see
 * pull.ts); the per-task TaskHeartbeat/CompleteTask calls (plain node:http2, see unary.ts);
 * BlobService, the same way with a large receive window (BLOB_WINDOW_BYTES); sub-runs through
 * connect-es. Keeping the stream apart matters because stepflow-server 0.13 does not set
 * TCP_NODELAY: small writes on a shared connection waited for delayed ACKs, about 40 ms per
 * task.
 */
export class GrpcChannels {
  readonly #byUrl = new Map<string, GrpcClients>();
  /** The same clients by the URL as given (every task names one: no URL parsing per task). */
  readonly #byRawUrl = new Map<string, GrpcClients>();
  readonly #writeMaxBytes: number;

  constructor(options: { writeMaxBytes: number }) {
    this.#writeMaxBytes = options.writeMaxBytes;
  }

  get(url: string): GrpcClients {
    const known = this.#byRawUrl.get(url);
    if (known) return known;
    const clients = this.#get(normalizeGrpcUrl(url));
    if (this.#byRawUrl.size < 1024) this.#byRawUrl.set(url, clients);
    return clients;
  }

  #get(base: string): GrpcClients {
    let clients = this.#byUrl.get(base);
    if (!clients) {
      const transport = () =>
        createGrpcTransport({
          baseUrl: base,
          // Replies (assignments, GetBlob) may exceed 4 MiB; what we send may not.
          readMaxBytes: 0x7fffffff,
          writeMaxBytes: this.#writeMaxBytes,
          // The orchestrator accepts no compression.
          acceptCompression: [],
          pingIntervalMs: 10_000,
          pingTimeoutMs: 5_000,
        });
      const other = transport();
      const runs = createClient(OrchestratorService, other);
      const unary = new UnaryChannel(base, { writeMaxBytes: this.#writeMaxBytes });
      const blobs = new UnaryChannel(base, {
        writeMaxBytes: this.#writeMaxBytes,
        windowBytes: BLOB_WINDOW_BYTES,
      });
      const pull = new PullChannel(base);
      const service = OrchestratorService.typeName;
      const heartbeatPath = `/${service}/TaskHeartbeat`;
      const completePath = `/${service}/CompleteTask`;
      const pullPath = `/${TasksService.typeName}/PullTasks`;
      clients = {
        url: base,
        tasks: createClient(TasksService, other),
        pullTasks: (request, handlers, signal) =>
          pull.pull(
            pullPath,
            encodePullTasks(request.queueName, request.workerId),
            handlers,
            signal,
          ),
        orchestrator: {
          taskHeartbeat: (frame, options = {}) =>
            unary.call(heartbeatPath, frame, options, decodeTaskHeartbeatResponse),
          completeTask: (frame, options = {}) =>
            unary.call(completePath, frame, options, decodeCompleteTaskResponse),
          taskHeartbeatMessage: unary.method(
            service,
            'TaskHeartbeat',
            TaskHeartbeatRequestSchema,
            TaskHeartbeatResponseSchema,
          ),
          completeTaskMessage: unary.method(
            service,
            'CompleteTask',
            CompleteTaskRequestSchema,
            CompleteTaskResponseSchema,
          ),
          submitRun: (request, options) => runs.submitRun(request, options),
          getRun: (request, options) => runs.getRun(request, options),
        },
        blobs: {
          putBlob: blobs.method(
            BlobService.typeName,
            'PutBlob',
            PutBlobRequestSchema,
            PutBlobResponseSchema,
          ),
          getBlob: blobs.method(
            BlobService.typeName,
            'GetBlob',
            GetBlobRequestSchema,
            GetBlobResponseSchema,
          ),
        },
      };
      this.#byUrl.set(base, clients);
    }
    return clients;
  }
}
