/**
 * Wire-level vocabulary of the Stepflow component protocol: messages, methods, error codes.
 * Both runtime releases speak JSON-RPC 2.0; they differ in a few spellings ("dialects").
 */

/** The JSON-RPC generations of the protocol (Stepflow ≤ 0.8 and 0.9–0.11). */
export type JsonRpcDialect = 'v0.8' | 'v0.11';

/** Every wire generation: the two JSON-RPC ones and the 0.12+ gRPC pull protocol. */
export type Dialect = JsonRpcDialect | 'v0.13';

export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type RequestId = string | number;

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface RequestMessage {
  jsonrpc: '2.0';
  id: RequestId;
  method: string;
  params: unknown;
}

export interface NotificationMessage {
  jsonrpc: '2.0';
  method: string;
  params: unknown;
}

export interface SuccessMessage {
  jsonrpc: '2.0';
  id: RequestId;
  result: unknown;
}

export interface ErrorMessage {
  jsonrpc: '2.0';
  id: RequestId;
  error: RpcErrorObject;
}

export type ResponseMessage = SuccessMessage | ErrorMessage;
export type Message = RequestMessage | NotificationMessage | ResponseMessage;

export interface Observability {
  trace_id?: string;
  span_id?: string;
  run_id?: string;
  flow_id?: string;
  step_id?: string;
}

/** Protocol version both runtimes announce and accept. */
export const PROTOCOL_VERSION = 1;

/** Methods each runtime's parser knows; any other method string makes a frame unparseable. */
export const DIALECT_METHODS: Readonly<Record<JsonRpcDialect, ReadonlySet<string>>> = {
  'v0.8': new Set([
    'initialize',
    'initialized',
    'components/list',
    'components/info',
    'components/execute',
    'blobs/put',
    'blobs/get',
    'flows/evaluate',
    'flows/get_metadata',
    'flows/submit_batch',
    'flows/get_batch',
  ]),
  'v0.11': new Set([
    'initialize',
    'initialized',
    'components/list',
    'components/info',
    'components/execute',
    'components/infer_schema',
    'runs/submit',
    'runs/get',
  ]),
};

/**
 * JSON-RPC and Stepflow error codes: the JSON-RPC 2.0 standard ones (-32700…-32603), worker and
 * protocol errors (-32000…-32099), component failures (-32100…-32199, retried under
 * `onError: retry`), flow-expression and orchestrator errors (-32200…-32299, raised by the
 * runtime, never by a worker) and transport failures (-32300…-32399).
 */
export const ErrorCodes = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  WORKER_ERROR: -32000,
  COMPONENT_NOT_FOUND: -32001,
  INVALID_INPUT_SCHEMA: -32003,
  NOT_FOUND: -32005,
  WORKER_CONFIGURATION_ERROR: -32008,
  /** A blob id the runtime does not hold (some runtimes answer -32000 or -32005 instead). */
  BLOB_NOT_FOUND: -32011,
  COMPONENT_EXECUTION_FAILED: -32100,
  COMPONENT_VALUE_ERROR: -32101,
  COMPONENT_RESOURCE_UNAVAILABLE: -32102,
  COMPONENT_BAD_REQUEST: -32103,
  /** A flow expression refers to an input field, step output path or variable that is absent. */
  EXPRESSION_UNDEFINED_VALUE: -32200,
  /** A flow expression refers to a step the flow does not have. */
  EXPRESSION_UNKNOWN_STEP: -32201,
  /** The orchestrator itself failed the step (run finished, no worker could be started, …). */
  ORCHESTRATOR_ERROR: -32202,
  TRANSPORT_ERROR: -32300,
  TRANSPORT_SPAWN_ERROR: -32301,
  TRANSPORT_TIMEOUT: -32302,
  TRANSPORT_PROTOCOL_ERROR: -32303,
} as const;

/** Inclusive ranges of error codes (`min` is the most negative). */
export const ErrorCodeRanges = {
  /** A component failed; the runtime retries these under `onError: retry`. */
  COMPONENT: { min: -32199, max: -32100 },
  /** The part of COMPONENT a pack may use for codes of its own. */
  PACK: { min: -32199, max: -32110 },
  /** The connection to a worker (or a worker's to a dependency) failed. */
  TRANSPORT: { min: -32399, max: -32300 },
} as const;

/** Whether `code` lies in one of the `ErrorCodeRanges`. */
export function inErrorRange(code: number, range: { min: number; max: number }): boolean {
  return code >= range.min && code <= range.max;
}

export type IncomingKind =
  | { kind: 'request'; message: RequestMessage }
  | { kind: 'notification'; message: NotificationMessage }
  | { kind: 'response'; message: ResponseMessage }
  | { kind: 'invalid'; reason: string; id?: RequestId };

export function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || Number.isSafeInteger(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Classify a parsed frame the way the runtimes do (request, notification, response or invalid).
 * `id` is only reported on an invalid frame when it has a valid type, so callers never answer with
 * `id: null`.
 */
export function classifyMessage(value: unknown): IncomingKind {
  if (!isRecord(value)) {
    return {
      kind: 'invalid',
      reason: Array.isArray(value)
        ? 'batches are not supported'
        : 'a message must be a JSON object',
    };
  }
  const id = 'id' in value && isRequestId(value.id) ? value.id : undefined;
  const invalid = (reason: string): IncomingKind =>
    id === undefined ? { kind: 'invalid', reason } : { kind: 'invalid', reason, id };
  if (value.jsonrpc !== '2.0') return invalid('jsonrpc must be "2.0"');
  const hasId = 'id' in value && value.id !== null;
  if (hasId && id === undefined) return invalid('id must be a string or an integer');
  if ('method' in value) {
    if (typeof value.method !== 'string') return invalid('method must be a string');
    const params = 'params' in value ? value.params : undefined;
    if (!hasId) {
      return { kind: 'notification', message: { jsonrpc: '2.0', method: value.method, params } };
    }
    if ('result' in value || 'error' in value)
      return invalid('a request must not carry result or error');
    return { kind: 'request', message: { jsonrpc: '2.0', id: id!, method: value.method, params } };
  }
  if (!hasId) return invalid('a message needs a method or an id');
  const hasResult = 'result' in value;
  const hasError = 'error' in value;
  if (hasResult === hasError) return invalid('a response needs exactly one of result and error');
  if (hasError) {
    const error = value.error;
    if (!isRecord(error) || !Number.isInteger(error.code) || typeof error.message !== 'string') {
      return invalid('error must be {code: integer, message: string}');
    }
    return {
      kind: 'response',
      message: { jsonrpc: '2.0', id: id!, error: error as unknown as RpcErrorObject },
    };
  }
  return { kind: 'response', message: { jsonrpc: '2.0', id: id!, result: value.result } };
}

/**
 * Recover a top-level `"id"` from the first bytes of a frame that could not be parsed whole
 * (truncated or oversize). Scans strings and nesting so an `id` inside `params` is ignored.
 */
export function recoverId(head: string): RequestId | undefined {
  let depth = 0;
  let i = 0;
  const n = head.length;
  let expectKey = false;
  while (i < n) {
    const ch = head[i]!;
    if (ch === '"') {
      const end = scanString(head, i);
      if (end < 0) return undefined;
      if (depth === 1 && expectKey) {
        const key = head.slice(i + 1, end);
        let j = end + 1;
        while (j < n && /\s/.test(head[j]!)) j++;
        if (head[j] === ':' && key === 'id') {
          j++;
          while (j < n && /\s/.test(head[j]!)) j++;
          return readIdValue(head, j);
        }
      }
      expectKey = false;
      i = end + 1;
      continue;
    }
    if (ch === '{' || ch === '[') {
      depth++;
      expectKey = ch === '{' && depth === 1;
    } else if (ch === '}' || ch === ']') {
      depth--;
    } else if (ch === ',' && depth === 1) {
      expectKey = true;
    }
    i++;
  }
  return undefined;
}

function scanString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') i++;
    else if (ch === '"') return i;
  }
  return -1;
}

function readIdValue(text: string, at: number): RequestId | undefined {
  if (text[at] === '"') {
    const end = scanString(text, at);
    if (end < 0) return undefined;
    try {
      const value: unknown = JSON.parse(text.slice(at, end + 1));
      return typeof value === 'string' ? value : undefined;
    } catch {
      return undefined;
    }
  }
  const match = /^-?\d+(?=\s*[,}])/.exec(text.slice(at, at + 24));
  if (!match) return undefined;
  const value = Number(match[0]);
  return Number.isSafeInteger(value) ? value : undefined;
}
