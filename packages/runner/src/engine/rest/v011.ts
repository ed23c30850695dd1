import { canonicalJson } from '../../json/canonical.js';
import type { Json, JsonObject } from '../../json/value.js';
import { isRecord, requestJson, type JsonValue } from './http.js';
import type { ItemOutcome, RestClient } from './client.js';

/**
 * stepflow-server 0.11.1: serde DTOs, flat run summary, string statuses,
 * `results[].result` is the FlowResult itself (integer codes, `data` included).
 */
export class RestClientV011 implements RestClient {
  readonly generation = '0.11.1' as const;
  constructor(readonly baseUrl: string) {}

  /** 0.11.1 initialises (and health-checks) its workers before printing the port line. */
  async ready(): Promise<void> {}

  async storeFlow(flow: JsonObject): Promise<string> {
    const res = await requestJson(
      'POST',
      `${this.baseUrl}/api/v1/flows`,
      `{"flow":${canonicalJson(flow)}}`,
    );
    return flowIdOf(res);
  }

  async runItem(
    flowId: string,
    input: Json,
    timeoutSecs: number,
    variables?: JsonObject,
  ): Promise<ItemOutcome> {
    const res = await postRun(this.baseUrl, flowId, input, timeoutSecs, variables);
    if (!isRecord(res) || typeof res.runId !== 'string')
      throw new Error(`create run: unexpected reply ${JSON.stringify(res).slice(0, 500)}`);
    const item = Array.isArray(res.results) ? res.results[0] : undefined;
    if (!isRecord(item) || !isRecord(item.result))
      throw new Error(
        `run ${res.runId} has no finished item (status ${String(res.status)}): ${JSON.stringify(res).slice(0, 500)}`,
      );
    return { runId: res.runId, result: item.result as JsonObject };
  }

  /** GET /api/v1/runs/{id}/steps → `{"steps": {"<stepId>": {stepId, status, result?}}}`. */
  async describeSteps(runId: string): Promise<string> {
    const res = await requestJson('GET', `${this.baseUrl}/api/v1/runs/${runId}/steps`);
    const steps = isRecord(res) && isRecord(res.steps) ? Object.values(res.steps) : [];
    return steps
      .map((s) => (isRecord(s) ? `${String(s.stepId)}: ${String(s.status)} ${clip(s.result)}` : ''))
      .join('\n');
  }
}

/** Compact JSON for failure reports. */
export function clip(value: unknown, max = 300): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** `{flowId, stored, diagnostics}` — the same top-level keys on 0.11 and 0.13. */
export function flowIdOf(res: JsonValue): string {
  if (!isRecord(res) || typeof res.flowId !== 'string')
    throw new Error(`store flow: unexpected reply ${JSON.stringify(res).slice(0, 500)}`);
  if (res.stored === false) {
    const diagnostics = isRecord(res.diagnostics) ? res.diagnostics.diagnostics : undefined;
    const fatal = Array.isArray(diagnostics)
      ? diagnostics
          .filter(
            (d) =>
              isRecord(d) &&
              (d.level === 'fatal' || d.level === 1 || d.level === 'error' || d.level === 2),
          )
          .map((d) => (isRecord(d) ? String(d.formatted ?? d.kind) : ''))
      : [];
    throw new Error(
      `the server did not store the flow: ${fatal.join('; ') || JSON.stringify(res)}`,
    );
  }
  return res.flowId;
}

/**
 * `POST /api/v1/runs` with one item, waiting for the result (same request on 0.11 and 0.13; the
 * replies differ). The HTTP wait outlasts the server's own `timeoutSecs` by 30 s.
 */
export function postRun(
  baseUrl: string,
  flowId: string,
  input: Json,
  timeoutSecs: number,
  variables?: JsonObject,
): Promise<JsonValue> {
  return requestJson(
    'POST',
    `${baseUrl}/api/v1/runs`,
    runBody(flowId, input, timeoutSecs, variables),
    (timeoutSecs + 30) * 1000,
  );
}

/** `POST /api/v1/runs` body for one item, waiting for the result. */
function runBody(flowId: string, input: Json, timeoutSecs: number, variables?: JsonObject): string {
  const vars =
    variables && Object.keys(variables).length ? `,"variables":${canonicalJson(variables)}` : '';
  return `{"flowId":${JSON.stringify(flowId)},"input":[${canonicalJson(input)}],"wait":true,"timeoutSecs":${timeoutSecs}${vars}}`;
}
