import { TASK_ERROR_NAMES } from '../../execute/codes.js';
import { canonicalJson } from '../../json/canonical.js';
import type { Json, JsonObject } from '../../json/value.js';
import { isRecord, requestJson, type JsonValue } from './http.js';
import type { ItemOutcome, RestClient } from './client.js';
import { clip, flowIdOf, postRun } from './v011.js';

/** ExecutionStatus values used in REST replies (runs and step statuses). */
const RUNNING = 1;
const COMPLETED = 2;
const FAILED = 3;

/**
 * stepflow-server 0.13.0: proto-mapped JSON, `{summary, results}`, integer
 * statuses and `errorCode`s; failures carry only `errorMessage`/`errorCode` (no `data`).
 */
export class RestClientV013 implements RestClient {
  readonly generation = '0.13.0' as const;
  constructor(readonly baseUrl: string) {}

  /**
   * The port line already follows the workers' connection (the server starts its workers first);
   * this also waits for discovery: GET /api/v1/components with `complete: true` and no failed
   * plugin.
   */
  async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const res = await requestJson('GET', `${this.baseUrl}/api/v1/components?excludeSchemas=true`);
      const failed = isRecord(res) && Array.isArray(res.failedPlugins) ? res.failedPlugins : [];
      if (isRecord(res) && res.complete === true && failed.length === 0) return;
      last = JSON.stringify(res).slice(0, 500);
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`components not complete within ${timeoutMs} ms: ${last}`);
  }

  async storeFlow(flow: JsonObject): Promise<string> {
    return flowIdOf(
      await requestJson('POST', `${this.baseUrl}/api/v1/flows`, `{"flow":${canonicalJson(flow)}}`),
    );
  }

  async runItem(
    flowId: string,
    input: Json,
    timeoutSecs: number,
    variables?: JsonObject,
  ): Promise<ItemOutcome> {
    const res = await postRun(this.baseUrl, flowId, input, timeoutSecs, variables);
    const summary = isRecord(res) ? res.summary : undefined;
    if (!isRecord(res) || !isRecord(summary) || typeof summary.runId !== 'string')
      throw new Error(`create run: unexpected reply ${JSON.stringify(res).slice(0, 500)}`);
    const item = Array.isArray(res.results) ? res.results[0] : undefined;
    if (!isRecord(item) || item.status === RUNNING)
      throw new Error(
        `run ${summary.runId} has no finished item after ${timeoutSecs} s: ${JSON.stringify(res).slice(0, 500)}`,
      );
    return { runId: summary.runId, result: toFlowResult(item) };
  }

  /** GET /api/v1/runs/{id}/steps → `{"steps": [StepStatus]}` (integer status). */
  async describeSteps(runId: string): Promise<string> {
    const res = await requestJson('GET', `${this.baseUrl}/api/v1/runs/${runId}/steps`);
    const steps = isRecord(res) && Array.isArray(res.steps) ? res.steps : [];
    return steps
      .map((s) =>
        isRecord(s)
          ? `${String(s.stepId)}: status ${String(s.status)} ` +
            (s.errorCode !== undefined
              ? `${taskErrorName(Number(s.errorCode))} ${clip(s.errorMessage)}`
              : clip(s.output))
          : '',
      )
      .join('\n');
  }
}

/** Short name of a REST `errorCode` integer (unknown numbers keep their digits). */
export function taskErrorName(code: number): string {
  return (TASK_ERROR_NAMES as readonly string[])[code] ?? `TASK_ERROR_CODE_${code}`;
}

/**
 * An `ItemResult` as a FlowResult with the short code name (`COMPONENT_FAILED`, not the integer).
 */
export function toFlowResult(item: { [key: string]: JsonValue }): JsonObject {
  if (item.status === COMPLETED)
    return { outcome: 'success', result: (item.output ?? null) as Json };
  if (item.status === FAILED) {
    const error: JsonObject = {
      code: typeof item.errorCode === 'number' ? taskErrorName(item.errorCode) : 'UNSPECIFIED',
    };
    if (typeof item.errorMessage === 'string') error.message = item.errorMessage;
    return { outcome: 'failed', error };
  }
  throw new Error(`item ended with status ${JSON.stringify(item.status)}: ${JSON.stringify(item)}`);
}
