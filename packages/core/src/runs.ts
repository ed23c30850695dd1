import { randomUUID } from 'node:crypto';
import type { BlobAccess, CallRuntime } from './blobs.js';
import { RpcError } from './errors.js';
import { ErrorCodes, type JsonRpcDialect, type JsonValue } from './protocol.js';
import { taskErrorCodeOf, taskErrorName } from './transport/grpc/task-errors.js';

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

/** How to read a run again (`ctx.getRun`), e.g. one that `submitRun` left `running`. */
export interface GetRunOptions {
  /** Wait for the run to finish (default true). */
  wait?: boolean;
  /** How long to wait, in seconds (default 300). */
  timeoutSecs?: number;
}

/** What a transport offers for sub-runs. */
export interface RunAccess {
  submit(request: SubRunRequest, signal?: AbortSignal): Promise<SubRunResult>;
  get(runId: string, options?: GetRunOptions, signal?: AbortSignal): Promise<SubRunResult>;
}

/** A FlowResult of the JSON-RPC generations (`{outcome, result | error}`) as a SubRunResult. */
function fromFlowResult(runId: string, result: unknown): SubRunResult {
  const r = (result ?? {}) as {
    outcome?: unknown;
    result?: JsonValue;
    error?: { code?: unknown; message?: unknown };
  };
  if (r.outcome === 'success') return { runId, outcome: 'success', output: r.result ?? null };
  if (r.outcome === 'skipped') return { runId, outcome: 'success', output: null };
  const code =
    typeof r.error?.code === 'number'
      ? taskErrorName(taskErrorCodeOf(r.error.code))
      : 'WORKER_ERROR';
  return {
    runId,
    outcome: 'failed',
    error: { code, message: String(r.error?.message ?? 'the sub-run failed') },
  };
}

/**
 * Sub-runs over the JSON-RPC generations, as callbacks on the execute's own channel: v0.8
 * `flows/evaluate` (stdio, or SSE), v0.11 `runs/submit` with `wait` (SSE). The flow is stored
 * first as a `flow` blob. The wait is kept inside the callback timeout: a run still going then
 * is reported as `running`.
 */
export function jsonRpcRuns(
  dialect: JsonRpcDialect,
  call: CallRuntime,
  blobs: BlobAccess,
  callbackTimeoutMs: number,
): RunAccess {
  return {
    async submit(request, signal) {
      const flowId = await blobs.put(request.flow, 'flow', signal);
      if (dialect === 'v0.8') {
        const reply = (await call(
          'flows/evaluate',
          { flow_id: flowId, input: request.input },
          signal,
        )) as { result?: unknown } | null;
        return fromFlowResult('', reply?.result);
      }
      const waitSecs = Math.max(
        1,
        Math.min(request.timeoutSecs ?? 300, Math.floor(callbackTimeoutMs / 1000) - 2),
      );
      const status = (await call(
        'runs/submit',
        {
          flowId,
          inputs: [request.input],
          subflowKey: randomUUID(),
          wait: true,
          timeoutSecs: waitSecs,
        },
        signal,
      )) as { runId?: string; results?: { result?: unknown }[] } | null;
      const runId = typeof status?.runId === 'string' ? status.runId : '';
      const item = status?.results?.[0];
      return item?.result === undefined
        ? { runId, outcome: 'running' }
        : fromFlowResult(runId, item.result);
    },
    async get(runId, options = {}, signal) {
      if (dialect === 'v0.8') {
        throw new RpcError(
          ErrorCodes.WORKER_ERROR,
          'Stepflow v0.8 runs sub-flows synchronously (flows/evaluate); there is no run to read',
        );
      }
      const wait = options.wait ?? true;
      const waitSecs = Math.max(
        1,
        Math.min(options.timeoutSecs ?? 300, Math.floor(callbackTimeoutMs / 1000) - 2),
      );
      const status = (await call(
        'runs/get',
        { runId, wait, includeResults: true, ...(wait ? { timeoutSecs: waitSecs } : {}) },
        signal,
      )) as { runId?: string; results?: { result?: unknown }[] } | null;
      const item = status?.results?.[0];
      return item?.result === undefined
        ? { runId, outcome: 'running' }
        : fromFlowResult(runId, item.result);
    },
  };
}
