import type { Version } from '../flow/model.js';

/**
 * Error codes of a step or flow result: JSON-RPC integers in v0.8/v0.11, `TaskErrorCode` short
 * names (`COMPONENT_FAILED`) in 0.13 (spec v0.13.md §6).
 */
export type ErrorCode = number | string;

/** `TaskErrorCode` short names by number (spec v0.13.md §6.1). */
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

/** Upstream's `task_error_code_from_legacy` (spec v0.13.md §6.5). */
export function legacyToTaskError(code: number): TaskErrorName {
  if (code <= -32300 && code >= -32399) return 'UNREACHABLE';
  if (code === -32102) return 'RESOURCE_UNAVAILABLE';
  if (code === -32103 || code === -32003) return 'INVALID_INPUT';
  if (code <= -32100 && code >= -32199) return 'COMPONENT_FAILED';
  if (code === -32001) return 'COMPONENT_NOT_FOUND';
  if (code === -32200 || code === -32201) return 'EXPRESSION_FAILURE';
  if (code === -32202) return 'ORCHESTRATOR_ERROR';
  return 'WORKER_ERROR';
}

/** A code as the emulated generation spells it: names in 0.13, numbers before. */
export function codeFor(code: ErrorCode, version: Version): ErrorCode {
  if (version === 'v0.13' && typeof code === 'number') return legacyToTaskError(code);
  return code;
}

/** Retried up to `retry.transportMaxRetries`, restarting the worker first (§6.2 rule 2). */
export function isTransportCode(code: ErrorCode): boolean {
  if (typeof code === 'string') return code === 'TIMEOUT' || code === 'UNREACHABLE';
  return code <= -32300 && code >= -32399;
}

/** Retried only under `onError: retry` (§6.2 rule 3; flows.md for -32100…-32199). */
export function isComponentRetryCode(code: ErrorCode): boolean {
  if (typeof code === 'string')
    return code === 'COMPONENT_FAILED' || code === 'RESOURCE_UNAVAILABLE';
  return code <= -32100 && code >= -32199;
}
