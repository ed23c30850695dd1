import type { Flow, Version } from '../flow/model.js';
import type { Json, JsonObject } from '../json/value.js';

/** What ran a flow: the runner's own emulation, or a real `stepflow-server` over REST. */
export type EngineKind = 'emulator' | 'stepflow-server';

export interface EngineRun {
  /** The FlowResult (`{outcome, result}` / `{outcome, error}`) in the release's vocabulary. */
  result: JsonObject;
  /** Extra lines for a failure report (the real server's step statuses). */
  details?: string;
}

export interface WorkerStats {
  name: string;
  transport: string;
  restarts: number;
  junkLines: number;
}

/** One runtime environment (one per `run`, one per flow file in `test`), whatever runs it. */
export interface FlowEngine {
  readonly kind: EngineKind;
  /** The Stepflow release whose semantics apply. */
  readonly version: Version;
  /** For reports: `emulated Stepflow v0.13` / `stepflow-server 0.13.0`. */
  readonly label: string;
  run(flow: Flow, input: Json, variables?: JsonObject): Promise<EngineRun>;
  /**
   * An expected FlowResult as this engine can report it (0.13's REST results carry no
   * `error.data`, so it is not expected from them).
   */
  expectation(expected: Json): Json;
  workerStats(): WorkerStats[];
  close(): Promise<void>;
}
