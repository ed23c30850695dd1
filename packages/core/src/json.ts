import { ErrorCodes, type RequestId, type RpcErrorObject } from './protocol.js';

/**
 * Serialize a response frame. A result that cannot be represented as JSON (BigInt, cycles,
 * a missing value) becomes a -32101 error for the same id instead of crashing the transport.
 */
export function encodeResult(id: RequestId, result: unknown): string {
  try {
    const text = JSON.stringify({ jsonrpc: '2.0', id, result });
    if (result === undefined || text === undefined) throw new TypeError('result is undefined');
    return text;
  } catch (err) {
    return encodeError(id, {
      code: ErrorCodes.COMPONENT_VALUE_ERROR,
      message: `The component output is not representable as JSON: ${describeJsonFailure(err)}`,
    });
  }
}

export function encodeError(id: RequestId, error: RpcErrorObject): string {
  try {
    return JSON.stringify({ jsonrpc: '2.0', id, error });
  } catch {
    return JSON.stringify({
      jsonrpc: '2.0',
      id,
      error: { code: error.code, message: error.message },
    });
  }
}

function describeJsonFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/BigInt/i.test(message)) return 'it contains a BigInt';
  if (/circular/i.test(message)) return 'it contains a circular reference';
  if (/undefined/.test(message)) return 'it is undefined';
  return 'serialization failed';
}

const NON_ASCII = /[\u007f-\uffff]/g;

/**
 * Escape every non-ASCII UTF-16 unit as \uXXXX (SSE frames must be ASCII-only: the v0.11 runtime
 * decodes them per byte).
 */
export function toAsciiJson(json: string): string {
  return json.replace(NON_ASCII, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
