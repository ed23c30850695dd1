/**
 * Error codes across generations: 0.11 carries JSON-RPC integers, 0.13 `TaskErrorCode` values
 * (spec v0.13 §6.1), which REST reports as integers and flow YAML as short names.
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

/** Upstream's `task_error_code_from_legacy` (stepflow-core/error_code.rs; spec v0.13 §6.5). */
export function legacyToTaskError(code: number): string {
  if (code >= -32399 && code <= -32300) return 'UNREACHABLE';
  if (code === -32102) return 'RESOURCE_UNAVAILABLE';
  if (code === -32103 || code === -32003) return 'INVALID_INPUT';
  if (code >= -32199 && code <= -32100) return 'COMPONENT_FAILED';
  if (code === -32001) return 'COMPONENT_NOT_FOUND';
  if (code === -32200 || code === -32201) return 'EXPRESSION_FAILURE';
  if (code === -32202) return 'ORCHESTRATOR_ERROR';
  return 'WORKER_ERROR';
}
