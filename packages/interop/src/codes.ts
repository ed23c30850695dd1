import { ErrorCodeRanges, ErrorCodes, inErrorRange } from '@stepflow-packs/core';

/**
 * Error codes across generations: 0.11 carries JSON-RPC integers, 0.13 `TaskErrorCode` values
 * (the proto enum), which REST reports as integers and flow YAML as short names.
 */
export const TASK_ERROR_CODES: readonly string[] = [
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
];

/** Short name of a REST `errorCode` integer (unknown numbers keep their digits). */
export function taskErrorName(code: number): string {
  return TASK_ERROR_CODES[code] ?? `TASK_ERROR_CODE_${code}`;
}

/**
 * Upstream's `task_error_code_from_legacy` (stepflow-core/error_code.rs): how a 0.11 integer code
 * reads in 0.13.
 */
export function legacyToTaskError(code: number): string {
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
