import type { JsonValue } from './protocol.js';

/** A flow a component asks the orchestrator to run on its behalf (`ctx.submitRun`). */
export interface SubRunRequest {
  /** The flow definition (the JSON form of a flow YAML file). */
  flow: { [key: string]: JsonValue };
  /** The run's input. */
  input: JsonValue;
  /** How long to wait for the result, in seconds (default 300). */
  timeoutSecs?: number;
}

/** How a sub-run ended. `error.code` is the Stepflow 0.13 short name (`COMPONENT_FAILED`). */
export type SubRunResult =
  | { runId: string; outcome: 'success'; output: JsonValue }
  | { runId: string; outcome: 'failed'; error: { code: string; message: string } }
  | { runId: string; outcome: 'running' };

/** What a transport offers for sub-runs. */
export interface RunAccess {
  submit(request: SubRunRequest, signal?: AbortSignal): Promise<SubRunResult>;
}
