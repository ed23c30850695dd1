import { ErrorCodeRanges, ErrorCodes, inErrorRange } from '@stepflow-packs/core';
import type { Version } from '../flow/model.js';

/**
 * Error codes of a step or flow result: JSON-RPC integers in v0.8/v0.11, `TaskErrorCode` short
 * names (`COMPONENT_FAILED`) in 0.13.
 */
export type ErrorCode = number | string;

/** v0.8's code for a run-level error that aborts the whole run (not a JSON-RPC code). */
export const V08_RUN_ERROR = 500;

/** `TaskErrorCode` short names by number (the proto enum order). */
export const TASK_ERROR_NAMES = [
  'UNSPECIFIED',
  'TIMEOUT',
  'INVALID_INPUT',
  'COMPONENT_FAILED',
  'CANCELLED',
  'UNREACHABLE',
  'COMPONENT_NOT_FOUND',
  'RESOURCE_UNAVAILABLE',
  'EXPRESSION_FAILURE',
  'ORCHESTRATOR_ERROR',
  'WORKER_ERROR',
] as const;

export type TaskErrorName = (typeof TASK_ERROR_NAMES)[number];

export function isTaskErrorName(value: unknown): value is TaskErrorName {
  return typeof value === 'string' && (TASK_ERROR_NAMES as readonly string[]).includes(value);
}

/** Upstream's `task_error_code_from_legacy`: how a 0.11 integer code reads in 0.13. */
export function legacyToTaskError(code: number): TaskErrorName {
  if (inErrorRange(code, ErrorCodeRanges.TRANSPORT)) return 'UNREACHABLE';
  if (code === ErrorCodes.COMPONENT_RESOURCE_UNAVAILABLE) return 'RESOURCE_UNAVAILABLE';
  if (code === ErrorCodes.COMPONENT_BAD_REQUEST || code === ErrorCodes.INVALID_INPUT_SCHEMA)
    return 'INVALID_INPUT';
  if (inErrorRange(code, ErrorCodeRanges.COMPONENT)) return 'COMPONENT_FAILED';
  if (code === ErrorCodes.COMPONENT_NOT_FOUND) return 'COMPONENT_NOT_FOUND';
  if (code === ErrorCodes.EXPRESSION_UNDEFINED_VALUE || code === ErrorCodes.EXPRESSION_UNKNOWN_STEP)
    return 'EXPRESSION_FAILURE';
  if (code === ErrorCodes.ORCHESTRATOR_ERROR) return 'ORCHESTRATOR_ERROR';
  return 'WORKER_ERROR';
}

/** A code as the emulated generation spells it: names in 0.13, numbers before. */
export function codeFor(code: ErrorCode, version: Version): ErrorCode {
  if (version === 'v0.13' && typeof code === 'number') return legacyToTaskError(code);
  return code;
}

/** Retried up to `retry.transportMaxRetries`, restarting the worker first. */
export function isTransportCode(code: ErrorCode): boolean {
  if (typeof code === 'string') return code === 'TIMEOUT' || code === 'UNREACHABLE';
  return inErrorRange(code, ErrorCodeRanges.TRANSPORT);
}

/** Retried only under `onError: retry` (component failures, -32100…-32199). */
export function isComponentRetryCode(code: ErrorCode): boolean {
  if (typeof code === 'string')
    return code === 'COMPONENT_FAILED' || code === 'RESOURCE_UNAVAILABLE';
  return inErrorRange(code, ErrorCodeRanges.COMPONENT);
}
