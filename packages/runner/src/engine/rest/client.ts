import type { Json, JsonObject } from '../../json/value.js';
import type { ServerRelease } from '../release.js';

/** What a run of one input item gave, as a FlowResult (`{outcome, result}` / `{outcome, error}`). */
export interface ItemOutcome {
  /** FlowResult in the generation's vocabulary: 0.11 integer codes, 0.13 short code names. */
  result: JsonObject;
  runId: string;
}

/** The part of `stepflow-server`'s REST API a test harness needs, one module per generation. */
export interface RestClient {
  readonly generation: ServerRelease;
  readonly baseUrl: string;
  /** Resolves once every plugin's components are listed (0.13: workers connected and discovered). */
  ready(timeoutMs: number): Promise<void>;
  /** POST /api/v1/flows; returns the flow id (fails on fatal diagnostics). */
  storeFlow(flow: JsonObject): Promise<string>;
  /** POST /api/v1/runs with one item and `wait: true`. */
  runItem(
    flowId: string,
    input: Json,
    timeoutSecs: number,
    variables?: JsonObject,
  ): Promise<ItemOutcome>;
  /** One line per step of a run (status, output or error), for failure reports. */
  describeSteps(runId: string): Promise<string>;
}
