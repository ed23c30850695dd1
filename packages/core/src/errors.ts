import { ErrorCodeRanges, ErrorCodes, inErrorRange, type RpcErrorObject } from './protocol.js';

/**
 * An error that travels to the runtime as a JSON-RPC error object. `message` is one sentence
 * meant for users; `data` is machine-readable detail. Never put secrets in either.
 */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
    this.data = data;
  }

  toJSON(): RpcErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}

/** -32100: the component failed for a reason that is not one of the more specific kinds. */
export class ComponentError extends RpcError {
  constructor(
    message: string,
    data?: unknown,
    code: number = ErrorCodes.COMPONENT_EXECUTION_FAILED,
  ) {
    super(code, message, data);
    this.name = 'ComponentError';
  }
}

/** -32101: the input is well-formed but its values cannot be processed (e.g. division by zero). */
export class ComponentValueError extends ComponentError {
  constructor(message: string, data?: unknown) {
    super(message, data, ErrorCodes.COMPONENT_VALUE_ERROR);
    this.name = 'ComponentValueError';
  }
}

/** -32102: a dependency (database, remote server, blob store) is unavailable or timed out. */
export class ResourceUnavailableError extends ComponentError {
  constructor(message: string, data?: Record<string, unknown>) {
    super(message, { retryable: true, ...data }, ErrorCodes.COMPONENT_RESOURCE_UNAVAILABLE);
    this.name = 'ResourceUnavailableError';
  }
}

/** -32103: the input passed its schema but is refused by policy (limits, roots, allowlists). */
export class BadRequestError extends ComponentError {
  constructor(message: string, data?: { reason: string; [key: string]: unknown }) {
    super(message, data, ErrorCodes.COMPONENT_BAD_REQUEST);
    this.name = 'BadRequestError';
  }
}

/** -32110…-32199: codes a pack defines for its own retryable failures. */
export class PackError extends ComponentError {
  constructor(code: number, message: string, data?: unknown) {
    if (!Number.isInteger(code) || !inErrorRange(code, ErrorCodeRanges.PACK)) {
      throw new RangeError(`pack error codes must be integers in -32199…-32110, got ${code}`);
    }
    super(message, data, code);
    this.name = 'PackError';
  }
}

/** -32003: component input failed its schema. */
export class InvalidInputError extends RpcError {
  constructor(message: string, issues: { path: string; message: string }[]) {
    super(ErrorCodes.INVALID_INPUT_SCHEMA, message, { issues });
    this.name = 'InvalidInputError';
  }
}

/** A failure of the connection to a worker (runner side); codes -32300…-32399. */
export class TransportError extends RpcError {
  constructor(message: string, data?: unknown, code: number = ErrorCodes.TRANSPORT_ERROR) {
    super(code, message, data);
    this.name = 'TransportError';
  }
}

const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi;
/** `password=…` pairs of keyword/value connection strings (libpq, ODBC), quoted or not. */
const KEYWORD_PASSWORD =
  /((?:password|passwd|pwd)\s*=\s*)('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S+)/gi;

/**
 * Remove credentials from free text: URL userinfo (`postgres://u:pw@h` → `postgres://***@h`)
 * and password keywords of connection strings (`password=secret` → `password=***`).
 */
export function redactCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1***@').replace(KEYWORD_PASSWORD, '$1***');
}

/** First line of a message, shortened, with URL credentials removed. */
export function oneSentence(text: string, max = 240): string {
  const line = redactCredentials(String(text).split('\n', 1)[0] ?? '').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * Map anything thrown by component code to the error object sent on the wire. Typed errors
 * keep their code, except transport codes (-32300…-32399), which become -32102; everything
 * else becomes -32100 with a one-sentence message and no stack.
 */
export function toRpcErrorObject(err: unknown, component?: string): RpcErrorObject {
  if (err instanceof RpcError) {
    if (!inErrorRange(err.code, ErrorCodeRanges.TRANSPORT)) return err.toJSON();
    // Workers never send transport codes: the runtime would take them for a crashed worker.
    return new ResourceUnavailableError(err.message, {
      reason: 'dependency_transport_error',
      transport_code: err.code,
    }).toJSON();
  }
  const where = component ? `component "${component}"` : 'the component';
  if (err instanceof Error) {
    const detail = oneSentence(err.message);
    return {
      code: ErrorCodes.COMPONENT_EXECUTION_FAILED,
      message: detail ? `Unexpected error in ${where}: ${detail}` : `Unexpected error in ${where}`,
      data: { error_type: err.name },
    };
  }
  return {
    code: ErrorCodes.COMPONENT_EXECUTION_FAILED,
    message: `Unexpected error in ${where}: it threw a non-Error value`,
    data: { error_type: typeof err },
  };
}
