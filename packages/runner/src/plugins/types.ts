import type { ErrorCode } from '../execute/codes.js';
import type { StepResult } from '../execute/result.js';
import type { Json } from '../json/value.js';

export interface CallContext {
  stepId: string;
  attempt: number;
  runId: string;
  flowId: string | undefined;
  /** Integral-float marker of the input value itself. */
  inputFloat: boolean;
  /** 0.13: the step's task id, the same on every attempt ('' before 0.13). */
  taskId: string;
  /** 0.13: the route's path captures (`path_params`). */
  pathParams: Record<string, string>;
  /** 0.13: a route-level `queueName`, created on demand. */
  queue?: string;
  /** 0.13: a route-level `stream` (a `nats` plugin publishes there instead of its own). */
  stream?: string;
}

/**
 * A failed call that produced no step result:
 * - `component`: the worker answered with a JSON-RPC error (its code/message/data);
 * - `transport`: the worker is unreachable, crashed, hung or garbled (-32300…-32399), restartable;
 * - `infrastructure`: a builtin or mock could not run (bad input, no behaviour) — -32300 in v0.11.
 */
export class StepCallError extends Error {
  constructor(
    readonly kind: 'component' | 'transport' | 'infrastructure',
    readonly code: ErrorCode,
    message: string,
    readonly data: Json | undefined = undefined,
    /** Human lines for the error stack / report. */
    readonly details: string[] = [],
    /** Which worker incarnation failed (so concurrent failures restart it only once). */
    readonly origin?: object,
  ) {
    super(message);
    this.name = 'StepCallError';
  }
}

export interface ListedComponent {
  component: string;
  /** 0.13: the path pattern below the route prefix (`/add`). */
  path?: string;
  description?: string;
  input_schema?: Json;
  output_schema?: Json;
}

export interface Plugin {
  readonly type: string;
  /** Launch / connect and initialize (called once when the environment starts). */
  start(): Promise<void>;
  /**
   * Execute a component; result-level outcomes are returned, call failures thrown as StepCallError.
   */
  execute(component: string, input: Json, ctx: CallContext): Promise<StepResult>;
  /** Before a transport retry: restart the worker if the failure came from its current process. */
  recover?(failure: StepCallError): Promise<void>;
  list(): Promise<ListedComponent[]>;
  close(): Promise<void>;
}
