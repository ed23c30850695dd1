import { once } from 'node:events';
import { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Code, ConnectError } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import {
  BlobService,
  OrchestratorService,
  TasksService,
  type PutBlobRequest,
} from '@stepflow-packs/core/grpc';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { GetBlobResponseSchema } from '@stepflow-packs/core/grpc';
import type { RunnerBlobStore } from '../blobs/store.js';
import { BLOB_ID } from '../plugins/builtin/types.js';
import type { TaskBroker } from './broker.js';
import type { SubRuns } from './runs.js';
import { fromWire, toWire } from './values.js';

/** Upstream accepts messages up to tonic's default; workers may send up to 4 MiB. */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/**
 * Node refuses new streams (RST_STREAM ENHANCE_YOUR_CALM) once a session holds more than
 * `maxSessionMemory` (default 10 MB), and replies a worker has not read yet count: a busy
 * worker fetching a few multi-megabyte blobs had its next GetBlob refused. stepflow-server
 * (hyper's h2) has no such cap; flow control bounds what each stream sends.
 */
const SESSION_MEMORY_MB = 1024;

/**
 * The orchestrator's one h2c port on 127.0.0.1: `TasksService`,
 * `OrchestratorService` and `BlobService` over gRPC, built with connect-node on `node:http2`.
 */
export class OrchestratorServer {
  readonly #sessions = new Set<ServerHttp2Session>();

  private constructor(
    readonly server: Http2Server,
    readonly port: number,
  ) {
    server.on('session', (session) => {
      this.#sessions.add(session);
      session.on('close', () => this.#sessions.delete(session));
    });
  }

  /** `127.0.0.1:<port>`, with no scheme, as workers are told in `STEPFLOW_TASKS_URL`. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(options: {
    broker: TaskBroker;
    blobs: RunnerBlobStore;
    runs: SubRuns;
    port?: number;
  }): Promise<OrchestratorServer> {
    const { broker, blobs, runs } = options;
    const handler = connectNodeAdapter({
      grpc: true,
      connect: false,
      grpcWeb: false,
      readMaxBytes: MAX_MESSAGE_BYTES,
      writeMaxBytes: MAX_MESSAGE_BYTES,
      routes: (router) => {
        router.service(TasksService, {
          pullTasks: (request, context) => broker.pull(request, context.signal),
          getOrchestratorForRun: (request) => {
            throw new ConnectError(`run '${request.runId}' not found`, Code.NotFound);
          },
        });
        router.service(OrchestratorService, {
          taskHeartbeat: (request) => broker.heartbeat(request),
          completeTask: (request) => {
            broker.complete(request);
            return {};
          },
          submitRun: (request) => runs.submit(request),
          getRun: (request) => runs.get(request),
        });
        router.service(BlobService, {
          putBlob: (request) => putBlob(blobs, request),
          getBlob: (request) => getBlob(blobs, request.blobId),
        });
      },
    });
    const server = createServer({ maxSessionMemory: SESSION_MEMORY_MB }, handler);
    server.listen(options.port ?? 0, '127.0.0.1');
    await once(server, 'listening');
    return new OrchestratorServer(server, (server.address() as AddressInfo).port);
  }

  /** Stop serving and drop every connection. */
  async close(): Promise<void> {
    for (const session of this.#sessions) session.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * `PutBlob`: the id is the SHA-256 of the compact JSON (numbers converted as for
 * `google.protobuf.Value`), or of the bytes.
 */
function putBlob(blobs: RunnerBlobStore, request: PutBlobRequest): { blobId: string } {
  const type = request.blobType || 'data';
  if (type !== 'data' && type !== 'flow' && type !== 'binary')
    throw new ConnectError(`invalid blob_type: '${request.blobType}'`, Code.InvalidArgument);
  const content = request.content;
  if (content.case === 'rawData') return { blobId: blobs.putBinary(Buffer.from(content.value)) };
  if (content.case !== 'jsonData')
    throw new ConnectError('content is required', Code.InvalidArgument);
  return { blobId: blobs.putSync(fromWire(content.value), type === 'flow' ? 'flow' : 'data') };
}

function getBlob(
  blobs: RunnerBlobStore,
  blobId: string,
): MessageInitShape<typeof GetBlobResponseSchema> {
  if (!BLOB_ID.test(blobId)) throw new ConnectError('invalid blob_id format', Code.InvalidArgument);
  const blob = blobs.lookup(blobId);
  if (!blob) throw new ConnectError(`blob '${blobId}' not found`, Code.NotFound);
  if (blob.type === 'binary')
    return {
      blobId,
      blobType: 'binary',
      content: { case: 'rawData', value: new Uint8Array(blob.bytes ?? Buffer.alloc(0)) },
    };
  return {
    blobId,
    blobType: blob.type,
    content: { case: 'jsonData', value: toWire(blob.data as never) },
  };
}
