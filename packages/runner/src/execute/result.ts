import { ObjectBuilder, type Json, type JsonObject } from '../json/value.js';
import type { ErrorCode } from './codes.js';

/** `error` member of a failed FlowResult (integer codes before 0.13, names in 0.13). */
export interface FlowError {
  code: ErrorCode;
  message: string;
  data?: Json;
}

/** The step whose failure became a flow's result. */
export interface FailedStep {
  stepId: string;
  /** Its component path as written in the flow. */
  component: string;
}

/**
 * Outcome of a step or a flow. `float` marks an integral float result (`1.0`); a failed flow
 * result names the step it comes from (`step`, for reports; not part of the FlowResult).
 */
export type StepResult =
  | { outcome: 'success'; value: Json; float?: boolean }
  | { outcome: 'skipped'; reason?: string }
  | { outcome: 'failed'; error: FlowError; step?: FailedStep };

/** FlowResult objects made by `toFlowResult` from a failed result that names its step. */
const failedSteps = new WeakMap<object, FailedStep>();

/** The step a failed FlowResult (made by `toFlowResult`) comes from, when known. */
export function failedStepOf(flowResult: Json): FailedStep | undefined {
  return typeof flowResult === 'object' && flowResult !== null
    ? failedSteps.get(flowResult)
    : undefined;
}

export const success = (value: Json, float = false): StepResult =>
  float ? { outcome: 'success', value, float } : { outcome: 'success', value };
export const skipped = (): StepResult => ({ outcome: 'skipped' });
export const failed = (code: ErrorCode, message: string, data?: Json): StepResult => ({
  outcome: 'failed',
  error: data === undefined || data === null ? { code, message } : { code, message, data },
});

/** The JSON FlowResult shape. */
export function toFlowResult(result: StepResult): JsonObject {
  const builder = new ObjectBuilder().set('outcome', result.outcome);
  if (result.outcome === 'success') builder.set('result', result.value, result.float ?? false);
  else if (result.outcome === 'skipped') {
    if (result.reason !== undefined) builder.set('reason', result.reason);
  } else builder.set('error', errorJson(result.error));
  const json = builder.build();
  if (result.outcome === 'failed' && result.step) failedSteps.set(json, result.step);
  return json;
}

export function errorJson(error: FlowError): JsonObject {
  const builder = new ObjectBuilder().set('code', error.code).set('message', error.message);
  if (error.data !== undefined && error.data !== null) builder.set('data', error.data);
  return builder.build();
}

/**
 * A v0.8 run-level error (code 500 / 400): the whole run aborts with this result, bypassing
 * `onError`.
 */
export class RunAbort extends Error {
  constructor(readonly error: FlowError) {
    super(error.message);
    this.name = 'RunAbort';
  }
}

/** One frame of a Stepflow-style error stack (`data.stack`). */
export interface StackFrame {
  error: string;
  attachments?: string[];
}

export function stackData(frames: StackFrame[], extra: JsonObject = {}): JsonObject {
  const stack = frames.map((f) => {
    const b = new ObjectBuilder().set('error', f.error);
    if (f.attachments && f.attachments.length > 0) b.set('attachments', f.attachments);
    return b.build();
  });
  return { stack, ...extra };
}
