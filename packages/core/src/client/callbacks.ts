import type { MemoryBlobStore } from '../blobs.js';
import { RpcError } from '../errors.js';
import { encodeError, encodeResult } from '../json.js';
import { ErrorCodes, type JsonValue, type RequestMessage } from '../protocol.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Serve the v0.8 worker→runtime callbacks (`blobs/put`, `blobs/get`) from a blob store, the way
 * the v0.8 runtime answers them (blobs/put, blobs/get). Returns the response frame.
 */
export async function answerCallback(
  message: RequestMessage,
  store: MemoryBlobStore | undefined,
): Promise<string> {
  try {
    return encodeResult(message.id, await handle(message, store));
  } catch (err) {
    const error =
      err instanceof RpcError
        ? err.toJSON()
        : { code: ErrorCodes.WORKER_ERROR, message: 'Internal error' };
    return encodeError(message.id, error);
  }
}

async function handle(
  message: RequestMessage,
  store: MemoryBlobStore | undefined,
): Promise<unknown> {
  const params = message.params;
  if (message.method !== 'blobs/put' && message.method !== 'blobs/get') {
    throw new RpcError(ErrorCodes.METHOD_NOT_FOUND, `Method not found: ${message.method}`);
  }
  if (!store) throw new RpcError(ErrorCodes.WORKER_ERROR, 'No blob store is configured');
  if (!isRecord(params)) throw new RpcError(ErrorCodes.INVALID_PARAMS, 'params must be an object');
  if (message.method === 'blobs/put') {
    const type = params.blob_type ?? 'data';
    if (type !== 'data' && type !== 'flow')
      throw new RpcError(ErrorCodes.INVALID_PARAMS, 'blob_type must be "data" or "flow"');
    if (!('data' in params))
      throw new RpcError(ErrorCodes.INVALID_PARAMS, 'params.data is required');
    return { blob_id: store.putSync(params.data as JsonValue, type) };
  }
  if (typeof params.blob_id !== 'string')
    throw new RpcError(ErrorCodes.INVALID_PARAMS, 'params.blob_id must be a string');
  const blob = store.lookup(params.blob_id);
  if (!blob || blob.type === 'binary')
    throw new RpcError(ErrorCodes.WORKER_ERROR, 'Failed to get blob', { blob_id: params.blob_id });
  return { data: blob.data, blob_type: blob.type };
}
