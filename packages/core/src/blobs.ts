import { createHash } from 'node:crypto';
import type { BlobType } from './component.js';
import { BadRequestError, ResourceUnavailableError, RpcError } from './errors.js';
import { ErrorCodeRanges, ErrorCodes, inErrorRange, type JsonValue } from './protocol.js';

/** How a component reaches the runtime's blob store. */
export interface BlobAccess {
  put(data: JsonValue, type: BlobType, signal?: AbortSignal): Promise<string>;
  get(id: string, signal?: AbortSignal): Promise<JsonValue>;
  /** Store raw bytes as a binary blob (where the runtime supports it). */
  putBytes?(bytes: Uint8Array, signal?: AbortSignal): Promise<string>;
  /** Read a binary blob's bytes (where the runtime supports it). */
  getBytes?(id: string, signal?: AbortSignal): Promise<Uint8Array>;
}

export class BlobNotFoundError extends BadRequestError {
  constructor(id: string) {
    super(`Blob ${id} was not found in the blob store`, { reason: 'blob_not_found', blob_id: id });
    this.name = 'BlobNotFoundError';
  }
}

const BLOB_ID = /^[0-9a-f]{64}$/;

export function checkBlobId(id: string): void {
  if (!BLOB_ID.test(id)) {
    throw new BadRequestError(
      `blob id must be 64 lowercase hex characters, got ${JSON.stringify(id.slice(0, 80))}`,
      {
        reason: 'invalid_blob_id',
      },
    );
  }
}

export type CallRuntime = (
  method: string,
  params: Record<string, unknown>,
  signal?: AbortSignal,
) => Promise<unknown>;

const isTransportCode = (code: number) => inErrorRange(code, ErrorCodeRanges.TRANSPORT);

/**
 * A callback the runtime did not answer (timeout, closed channel) fails the component with a
 * retryable -32102: a transport code (-32300…-32399) would make the runtime restart the worker.
 */
function guarded(call: CallRuntime): CallRuntime {
  return async (method, params, signal) => {
    try {
      return await call(method, params, signal);
    } catch (err) {
      if (!(err instanceof RpcError) || !isTransportCode(err.code)) throw err;
      const timedOut = err.code === ErrorCodes.TRANSPORT_TIMEOUT;
      throw new ResourceUnavailableError(
        timedOut
          ? `The runtime did not answer the ${method} callback in time (${err.message}; setting STEPFLOW_BLOB_TIMEOUT_MS)`
          : `The ${method} callback to the runtime failed: ${err.message}`,
        { reason: timedOut ? 'blob_callback_timeout' : 'blob_callback_failed', method },
      );
    }
  };
}

/** v0.8: JSON-RPC `blobs/put` / `blobs/get` callbacks on the request's own channel. */
export function callbackBlobs(runtime: CallRuntime): BlobAccess {
  const call = guarded(runtime);
  return {
    async put(data, type, signal) {
      const result = (await call('blobs/put', { data, blob_type: type }, signal)) as {
        blob_id?: unknown;
      } | null;
      if (typeof result?.blob_id !== 'string') {
        throw new ResourceUnavailableError('the runtime answered blobs/put without a blob_id');
      }
      return result.blob_id;
    },
    async get(id, signal) {
      checkBlobId(id);
      try {
        const result = (await call('blobs/get', { blob_id: id }, signal)) as {
          data?: JsonValue;
        } | null;
        if (result === null || typeof result !== 'object' || !('data' in result)) {
          throw new ResourceUnavailableError('the runtime answered blobs/get without data');
        }
        return result.data as JsonValue;
      } catch (err) {
        // The v0.8 runtime reports an unknown id as a generic -32000 "Failed to get blob".
        if (
          err instanceof RpcError &&
          [ErrorCodes.WORKER_ERROR, ErrorCodes.BLOB_NOT_FOUND, ErrorCodes.NOT_FOUND].includes(
            err.code as -32000,
          )
        ) {
          throw new BlobNotFoundError(id);
        }
        throw err;
      }
    },
  };
}

/**
 * v0.11: the runtime's Blob HTTP API at `capabilities.blobApiUrl` (`POST /blobs`, `GET
 * /blobs/{id}`).
 */
export function httpBlobs(baseUrl: string, timeoutMs: number): BlobAccess {
  const base = baseUrl.replace(/\/+$/, '');
  const request = async (
    url: string,
    init: RequestInit,
    signal?: AbortSignal,
  ): Promise<Response> => {
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      return await fetch(url, {
        ...init,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      const reason = timeout.aborted ? `did not answer within ${timeoutMs} ms` : 'is unreachable';
      throw new ResourceUnavailableError(`The runtime blob store ${reason}`, {
        reason: timeout.aborted ? 'blob_store_timeout' : 'blob_store_unreachable',
        cause: err instanceof Error ? err.message : String(err),
      });
    }
  };
  const failed = async (response: Response, what: string) => {
    const text = await response.text().catch(() => '');
    return new ResourceUnavailableError(
      `The runtime blob store refused ${what} with HTTP ${response.status}`,
      {
        status: response.status,
        body: text.slice(0, 200),
      },
    );
  };
  return {
    async put(data, type, signal) {
      const response = await request(
        base,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ data, blobType: type }),
        },
        signal,
      );
      if (!response.ok) throw await failed(response, 'a put');
      const body = (await response.json()) as { blobId?: unknown };
      if (typeof body.blobId !== 'string')
        throw new ResourceUnavailableError('the blob store answered without a blobId');
      return body.blobId;
    },
    async get(id, signal) {
      checkBlobId(id);
      const response = await request(
        `${base}/${id}`,
        { headers: { accept: 'application/json' } },
        signal,
      );
      if (response.status === 404) {
        await response.body?.cancel();
        throw new BlobNotFoundError(id);
      }
      if (!response.ok) throw await failed(response, 'a get');
      const body = (await response.json()) as { data?: JsonValue };
      return body.data ?? null;
    },
  };
}

/** A blob mechanism that fails every call with a clear error (none available). */
export function unavailableBlobs(code: number, message: string): BlobAccess {
  const fail = async (): Promise<never> => {
    throw new RpcError(code, message);
  };
  return { put: fail, get: fail };
}

/**
 * Content-addressed id: lowercase hex SHA-256 of the compact JSON, serialized as the Rust runtime
 * does.
 */
export function blobIdOf(serialized: string | Uint8Array): string {
  return createHash('sha256').update(serialized).digest('hex');
}

export interface StoredBlob {
  data: JsonValue;
  type: BlobType | 'binary';
  /** Raw bytes of a binary blob (v0.11 octet-stream uploads). */
  bytes?: Buffer;
}

/**
 * In-memory content-addressed blob store (used by the testing kit, the client and the runner).
 * `serialize` decides the bytes that are hashed; the runner passes one that reproduces the
 * runtime's serde_json output exactly.
 */
export class MemoryBlobStore implements BlobAccess {
  readonly #blobs = new Map<string, StoredBlob>();
  readonly #serialize: (data: JsonValue) => string;

  constructor(options: { serialize?: (data: JsonValue) => string } = {}) {
    this.#serialize = options.serialize ?? ((data) => JSON.stringify(data));
  }

  async put(data: JsonValue, type: BlobType = 'data'): Promise<string> {
    return this.putSync(data, type);
  }

  putSync(data: JsonValue, type: BlobType | 'binary' = 'data'): string {
    const id = blobIdOf(this.#serialize(data));
    if (!this.#blobs.has(id)) this.#blobs.set(id, { data: structuredClone(data), type });
    return id;
  }

  /** Store raw bytes as a binary blob; the id is the SHA-256 of the bytes. */
  putBinary(bytes: Buffer): string {
    const id = blobIdOf(bytes);
    if (!this.#blobs.has(id))
      this.#blobs.set(id, { data: null, type: 'binary', bytes: Buffer.from(bytes) });
    return id;
  }

  async get(id: string): Promise<JsonValue> {
    const blob = this.#blobs.get(id);
    if (!blob) throw new BlobNotFoundError(id);
    return structuredClone(blob.data);
  }

  async putBytes(bytes: Uint8Array): Promise<string> {
    return this.putBinary(Buffer.from(bytes));
  }

  async getBytes(id: string): Promise<Uint8Array> {
    const blob = this.#blobs.get(id);
    if (!blob) throw new BlobNotFoundError(id);
    if (!blob.bytes) {
      throw new BadRequestError(`Blob ${id} holds JSON data; read it with getBlob`, {
        reason: 'blob_is_json',
        blob_id: id,
      });
    }
    return Buffer.from(blob.bytes);
  }

  lookup(id: string): StoredBlob | undefined {
    return this.#blobs.get(id);
  }

  get size(): number {
    return this.#blobs.size;
  }
}
