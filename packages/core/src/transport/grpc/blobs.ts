import { Code, ConnectError } from '@connectrpc/connect';
import type { BlobAccess } from '../../blobs.js';
import { BlobNotFoundError, checkBlobId } from '../../blobs.js';
import type { BlobType } from '../../component.js';
import { BadRequestError, ResourceUnavailableError } from '../../errors.js';
import type { JsonValue } from '../../protocol.js';
import type { BlobCalls } from './channels.js';
import { fromValue, toValue } from './values.js';

/**
 * Blob access through the orchestrator's gRPC BlobService (`STEPFLOW_BLOB_URL`). A service
 * that is down or silent is a dependency outage: ResourceUnavailableError, retryable under
 * `onError: retry`.
 */
export function grpcBlobs(client: BlobCalls, url: string, timeoutMs: number): BlobAccess {
  const call = async <T>(
    what: string,
    run: (options: { timeoutMs: number; signal?: AbortSignal }) => Promise<T>,
    signal?: AbortSignal,
    id?: string,
  ): Promise<T> => {
    try {
      return await run({ timeoutMs, ...(signal ? { signal } : {}) });
    } catch (err) {
      const error = ConnectError.from(err);
      if (error.code === Code.NotFound && id !== undefined) throw new BlobNotFoundError(id);
      if (error.code === Code.InvalidArgument) {
        throw new BadRequestError(`The blob service refused ${what}: ${error.rawMessage}`, {
          reason: 'blob_request_invalid',
        });
      }
      if (error.code === Code.ResourceExhausted) {
        throw new BadRequestError(
          `The blob is too large for the blob service (${what}): ${error.rawMessage}`,
          { reason: 'blob_too_large' },
        );
      }
      const silent = error.code === Code.DeadlineExceeded;
      throw new ResourceUnavailableError(
        silent
          ? `The blob service at ${url} did not answer ${what} within ${timeoutMs} ms`
          : `The blob service at ${url} is unavailable (${what}): ${error.rawMessage}`,
        {
          reason: silent ? 'blob_store_timeout' : 'blob_store_unreachable',
          grpc_code: Code[error.code],
        },
      );
    }
  };
  return {
    async put(data: JsonValue, type: BlobType, signal?: AbortSignal) {
      const jsonData = toValue(data, 'blob');
      const reply = await call(
        'a put',
        (o) =>
          client.putBlob({ content: { case: 'jsonData', value: jsonData }, blobType: type }, o),
        signal,
      );
      return reply.blobId;
    },
    async get(id: string, signal?: AbortSignal) {
      checkBlobId(id);
      const reply = await call('a get', (o) => client.getBlob({ blobId: id }, o), signal, id);
      if (reply.content.case === 'rawData') {
        throw new BadRequestError(`Blob ${id} holds binary data; read it with getBlobBytes`, {
          reason: 'blob_is_binary',
          blob_id: id,
        });
      }
      return fromValue(reply.content.value);
    },
    async putBytes(bytes: Uint8Array, signal?: AbortSignal) {
      const reply = await call(
        'a put',
        (o) =>
          client.putBlob({ content: { case: 'rawData', value: bytes }, blobType: 'binary' }, o),
        signal,
      );
      return reply.blobId;
    },
    async getBytes(id: string, signal?: AbortSignal) {
      checkBlobId(id);
      const reply = await call('a get', (o) => client.getBlob({ blobId: id }, o), signal, id);
      if (reply.content.case === 'rawData') return reply.content.value;
      throw new BadRequestError(`Blob ${id} holds JSON data; read it with getBlob`, {
        reason: 'blob_is_json',
        blob_id: id,
      });
    },
  };
}
