import type { JsonObject } from '@bufbuild/protobuf';
import { toRpcErrorObject } from '../../errors.js';
import { ErrorCodeRanges, ErrorCodes, inErrorRange, type RpcErrorObject } from '../../protocol.js';
import { TaskErrorCode } from './gen/stepflow/v1/common_pb.js';
import { toStructJson, UnrepresentableValueError } from './values.js';

/**
 * Our error codes (the JSON-RPC generations' numbers) onto Stepflow 0.13's `TaskErrorCode`,
 * keeping their retry meaning: under `onError: retry` the orchestrator retries
 * COMPONENT_FAILED and RESOURCE_UNAVAILABLE only; INVALID_INPUT and COMPONENT_NOT_FOUND are
 * final. Workers never send TIMEOUT or UNREACHABLE (those restart the worker).
 * The README's error table is this function in words.
 */
export function taskErrorCodeOf(code: number): TaskErrorCode {
  switch (code) {
    case ErrorCodes.INVALID_INPUT_SCHEMA:
    case ErrorCodes.COMPONENT_BAD_REQUEST:
    case ErrorCodes.INVALID_PARAMS:
    case ErrorCodes.PARSE_ERROR: // a syntax error inside a lazily parsed input array
      return TaskErrorCode.INVALID_INPUT;
    case ErrorCodes.COMPONENT_NOT_FOUND:
      return TaskErrorCode.COMPONENT_NOT_FOUND;
    case ErrorCodes.COMPONENT_RESOURCE_UNAVAILABLE:
      return TaskErrorCode.RESOURCE_UNAVAILABLE;
    default:
      if (inErrorRange(code, ErrorCodeRanges.COMPONENT)) return TaskErrorCode.COMPONENT_FAILED;
      // Transport-range codes (-32300…) describe a dependency's connection here, never this
      // worker's own: retryable, but without restarting the worker.
      if (inErrorRange(code, ErrorCodeRanges.TRANSPORT)) return TaskErrorCode.RESOURCE_UNAVAILABLE;
      return TaskErrorCode.WORKER_ERROR;
  }
}

export interface WireTaskError {
  code: TaskErrorCode;
  message: string;
  data?: JsonObject;
}

/** Anything a component threw → the TaskError sent in CompleteTask (no stack, one line). */
export function toTaskError(err: unknown, component?: string): WireTaskError {
  if (err instanceof UnrepresentableValueError) {
    return {
      code: TaskErrorCode.COMPONENT_FAILED,
      message: `The component output cannot be sent over gRPC: ${err.message}`,
      data: { reason: 'unrepresentable_value', path: err.path },
    };
  }
  return fromRpcErrorObject(toRpcErrorObject(err, component));
}

export function fromRpcErrorObject(error: RpcErrorObject): WireTaskError {
  const message = error.message.split('\n', 1)[0] || 'the component failed';
  const out: WireTaskError = { code: taskErrorCodeOf(error.code), message };
  if (error.data !== undefined && error.data !== null) {
    try {
      out.data = toStructJson(error.data);
    } catch {
      // data that cannot travel is dropped; the message still says what happened
    }
  }
  return out;
}

const SHORT_NAMES = new Map<TaskErrorCode, string>(
  Object.entries(TaskErrorCode)
    .filter(([, value]) => typeof value === 'number')
    .map(([name, value]) => [value as TaskErrorCode, name]),
);

/** `COMPONENT_FAILED` for 3: the spelling flow files and test expectations use. */
export function taskErrorName(code: TaskErrorCode): string {
  return SHORT_NAMES.get(code) ?? 'WORKER_ERROR';
}
