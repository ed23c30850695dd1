import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { BlobService } from './gen/stepflow/v1/blobs_pb.js';
import { OrchestratorService } from './gen/stepflow/v1/orchestrator_pb.js';
import { TasksService } from './gen/stepflow/v1/tasks_pb.js';

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

export interface GrpcClients {
  readonly url: string;
  readonly tasks: Client<typeof TasksService>;
  readonly orchestrator: Client<typeof OrchestratorService>;
  readonly blobs: Client<typeof BlobService>;
}

/**
 * One HTTP/2 connection per orchestrator URL, shared by the three services and reused by
 * every task that names the same URL.
 */
export class GrpcChannels {
  readonly #byUrl = new Map<string, GrpcClients>();
  readonly #writeMaxBytes: number;

  constructor(options: { writeMaxBytes: number }) {
    this.#writeMaxBytes = options.writeMaxBytes;
  }

  get(url: string): GrpcClients {
    const base = normalizeGrpcUrl(url);
    let clients = this.#byUrl.get(base);
    if (!clients) {
      const transport = createGrpcTransport({
        baseUrl: base,
        // Replies (assignments, GetBlob) may exceed 4 MiB; what we send may not.
        readMaxBytes: 0x7fffffff,
        writeMaxBytes: this.#writeMaxBytes,
        // The orchestrator accepts no compression.
        acceptCompression: [],
        pingIntervalMs: 10_000,
        pingTimeoutMs: 5_000,
      });
      clients = {
        url: base,
        tasks: createClient(TasksService, transport),
        orchestrator: createClient(OrchestratorService, transport),
        blobs: createClient(BlobService, transport),
      };
      this.#byUrl.set(base, clients);
    }
    return clients;
  }
}
