import { ErrorCodes } from '@stepflow-packs/core';
import { randomUUID } from 'node:crypto';
import { backoffDelay } from '../config/load.js';
import { RouteError } from '../config/routes.js';
import type { RetryConfig } from '../config/types.js';
import { formatPath, lookup } from '../json/path.js';
import {
  ArrayBuilder,
  isObject,
  ObjectBuilder,
  type Json,
  type JsonObject,
} from '../json/value.js';
import type { Expr, Flow, Step } from '../flow/model.js';
import { StepCallError, type Plugin } from '../plugins/types.js';
import {
  codeFor,
  isComponentRetryCode,
  isTransportCode,
  V08_RUN_ERROR,
  type ErrorCode,
} from './codes.js';
import { uuidV7 } from './uuid.js';
import {
  failed,
  RunAbort,
  type FailedStep,
  skipped,
  stackData,
  success,
  type FlowError,
  type StepResult,
} from './result.js';

/** Where a step's component path leads: the plugin, the name it is called with, captures. */
export interface RouteTarget {
  plugin: string;
  component: string;
  params: Record<string, string>;
  /** 0.13: a route-level `queueName` param (tasks go to that queue instead of the plugin's). */
  queue?: string;
  /** 0.13: a route-level `stream` param (a `nats` plugin publishes to that stream). */
  stream?: string;
}

/** What a run needs from its environment. */
export interface RunHost {
  /** Resolve a component path (throws RouteError). */
  route(path: string, input: Json): RouteTarget;
  /**
   * 0.13: wait (bounded) until every plugin has reported components (at most 30 s, as upstream).
   */
  beforeRoute?(): Promise<void>;
  readonly retry: RetryConfig;
  plugin(name: string): Plugin | undefined;
  /** Observe step attempts (tests, reporters). */
  onStepEvent?(event: StepEvent): void;
}

export type StepEvent =
  | { type: 'attempt'; runId: string; stepId: string; attempt: number }
  | {
      type: 'retry';
      runId: string;
      stepId: string;
      attempt: number;
      reason: 'transport' | 'component';
      delayMs: number;
      code: ErrorCode;
    }
  | { type: 'done'; runId: string; stepId: string; outcome: StepResult['outcome'] };

type Eval =
  | { kind: 'ok'; value: Json; float: boolean }
  | { kind: 'skipped' }
  | { kind: 'failed'; error: FlowError };

const OK_NULL: Eval = { kind: 'ok', value: null, float: false };

/** Resolves after `ms`, or at once when the run has finished. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** v0.8 truthiness (skipIf): null, arrays and objects are truthy; 0 and "" are not. */
function truthyV08(value: Json): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return value !== '';
  return true;
}

/** The `resolveError` of the flow output's evaluation (also marks output context). */
const OUTPUT = 'failed to resolve workflow output';

/** The first step an expression references, if any. */
function firstStepRef(expr: Expr): string | undefined {
  switch (expr.kind) {
    case 'step':
      return expr.step;
    case 'object':
      for (const [, e] of expr.entries) {
        const found = firstStepRef(e);
        if (found !== undefined) return found;
      }
      return undefined;
    case 'array':
    case 'coalesce':
      for (const e of expr.items) {
        const found = firstStepRef(e);
        if (found !== undefined) return found;
      }
      return undefined;
    case 'if':
      return (
        firstStepRef(expr.condition) ??
        firstStepRef(expr.then) ??
        (expr.else && firstStepRef(expr.else))
      );
    case 'variable':
      return expr.fallback && !expr.fallback.legacy ? firstStepRef(expr.fallback.expr) : undefined;
    default:
      return undefined;
  }
}

/** v0.11 truthiness ($if): only null and false are falsy. */
function truthyV011(value: Json): boolean {
  return value !== null && value !== false;
}

/**
 * One execution of a flow: only the steps the output needs (plus
 * `mustExecute`) run; each starts as soon as the steps it references are done, so independent
 * steps run concurrently; `$if`/`$coalesce` are lazy; failures follow the emulated release.
 */
export class FlowRun {
  readonly runId = randomUUID();
  readonly #results = new Map<string, Promise<StepResult>>();
  readonly #v08: boolean;
  readonly #v013: boolean;
  readonly #lastPlugin = new Map<string, Plugin>();
  readonly #finished = new AbortController();
  #aborted: RunAbort | undefined;
  /** The step whose failure each error object first was (errors travel by reference). */
  readonly #origins = new WeakMap<FlowError, FailedStep>();

  constructor(
    readonly host: RunHost,
    readonly flow: Flow,
    readonly input: Json,
    readonly variables: JsonObject = {},
    readonly inputFloat = false,
  ) {
    this.#v08 = flow.version === 'v0.8';
    this.#v013 = flow.version === 'v0.13';
  }

  /** 0.13 results carry `TaskErrorCode` names (integer codes are translated). */
  #generational(result: StepResult): StepResult {
    if (!this.#v013 || result.outcome !== 'failed') return result;
    const code = codeFor(result.error.code, 'v0.13');
    return code === result.error.code ? result : { ...result, error: { ...result.error, code } };
  }

  /** The flow result. v0.8 run-level errors become a failed result with their code (500). */
  async run(): Promise<StepResult> {
    try {
      const result = await this.#run();
      const translated = this.#generational(result);
      if (result.outcome !== 'failed' || translated.outcome !== 'failed') return translated;
      const step = this.#origins.get(result.error);
      if (step) this.#origins.set(translated.error, step);
      return step ? { ...translated, step } : translated;
    } catch (err) {
      if (err instanceof RunAbort) {
        const step = this.#origins.get(err.error);
        return { outcome: 'failed', error: err.error, ...(step ? { step } : {}) };
      }
      throw err;
    } finally {
      // The result is known: steps still in flight are not needed any more; stop retrying them.
      this.#finished.abort();
    }
  }

  async #run(): Promise<StepResult> {
    const mustExecute = this.flow.steps.filter((s) => s.mustExecute);
    for (const step of mustExecute) this.#ensure(step);
    if (this.#v08) this.#prefetch(this.flow.output);
    else {
      const needed = new Set<Step>();
      await this.#outputNeeds(this.flow.output, needed);
      for (const step of needed) this.#ensure(step);
    }
    if (this.#v08) {
      // v0.8 checks mustExecute failures before resolving the output.
      for (const step of mustExecute) {
        const result = await this.#ensure(step);
        if (result.outcome === 'failed') return result;
      }
    }
    const out = await this.#evaluate(this.flow.output, OUTPUT);
    if (!this.#v08) await Promise.all(mustExecute.map((s) => this.#ensure(s)));
    if (out.kind === 'ok') return success(out.value, out.float);
    if (out.kind === 'skipped') return skipped();
    return { outcome: 'failed', error: out.error };
  }

  /** Results of the steps that ran (for reports). */
  async stepResults(): Promise<Map<string, StepResult>> {
    const out = new Map<string, StepResult>();
    for (const [id, promise] of this.#results) {
      try {
        out.set(id, await promise);
      } catch {
        /* aborted */
      }
    }
    return out;
  }

  #ensure(step: Step): Promise<StepResult> {
    let promise = this.#results.get(step.id);
    if (!promise) {
      promise = this.#runStep(step);
      promise.catch(() => {
        /* observed by whoever awaits it; a prefetch alone must not crash the process */
      });
      this.#results.set(step.id, promise);
    }
    return promise;
  }

  /** Start every step an expression needs unconditionally (not inside untaken branches). */
  #prefetch(expr: Expr): void {
    switch (expr.kind) {
      case 'step': {
        const step = this.flow.stepsById.get(expr.step);
        if (step) this.#ensure(step);
        return;
      }
      case 'object':
        for (const [, e] of expr.entries) this.#prefetch(e);
        return;
      case 'array':
        for (const e of expr.items) this.#prefetch(e);
        return;
      case 'if':
        this.#prefetch(expr.condition);
        return;
      case 'coalesce':
        if (expr.items[0]) this.#prefetch(expr.items[0]);
        return;
      default:
    }
  }

  /**
   * v0.11 and 0.13 decide once, when the run starts, which steps the output needs (upstream's
   * `ValueExpr::needed_steps` with no step completed): every step reference, except that a
   * `$if` whose condition references a step contributes only the condition (its branches are
   * never added), and `$coalesce` stops at the first value that references a step. Steps found
   * this way, `mustExecute` steps and what their inputs need are all that run; an output that
   * later takes a branch through any other step fails with "Step <id> not completed"
   * (ORCHESTRATOR_ERROR / -32202), as on the real server. Returns whether collection stopped.
   */
  async #outputNeeds(expr: Expr, needed: Set<Step>): Promise<boolean> {
    switch (expr.kind) {
      case 'step': {
        const step = this.flow.stepsById.get(expr.step);
        if (step) needed.add(step);
        return false;
      }
      case 'object':
        for (const [, e] of expr.entries) await this.#outputNeeds(e, needed);
        return false;
      case 'array':
        for (const e of expr.items) await this.#outputNeeds(e, needed);
        return false;
      case 'if': {
        const before = needed.size;
        await this.#outputNeeds(expr.condition, needed);
        if (needed.size > before) return true;
        const condition = await this.#evaluateAtStart(expr.condition);
        if (condition.kind === 'ok' && truthyV011(condition.value))
          return this.#outputNeeds(expr.then, needed);
        return expr.else ? this.#outputNeeds(expr.else, needed) : false;
      }
      case 'coalesce':
        for (const item of expr.items) {
          const before = needed.size;
          await this.#outputNeeds(item, needed);
          if (needed.size > before) return true;
          const r = await this.#evaluateAtStart(item);
          if (r.kind === 'failed' || (r.kind === 'ok' && r.value !== null)) return true;
        }
        return false;
      default:
        return false;
    }
  }

  /**
   * An expression as upstream resolves it before any step completed: a reference to a step
   * (one already counted as needed) is a failure, "Step <id> not completed".
   */
  async #evaluateAtStart(expr: Expr): Promise<Eval> {
    const step = firstStepRef(expr);
    if (step === undefined) return this.#evaluate(expr, OUTPUT);
    return {
      kind: 'failed',
      error: { code: ErrorCodes.ORCHESTRATOR_ERROR, message: `Step ${step} not completed` },
    };
  }

  /** Wait until every step started so far, and every step those start, has finished. */
  async #settle(): Promise<void> {
    for (let seen = -1; seen !== this.#results.size;) {
      seen = this.#results.size;
      await Promise.allSettled(this.#results.values());
    }
  }

  #abort(error: FlowError): never {
    this.#aborted ??= new RunAbort(error);
    throw new RunAbort(error);
  }

  async #evaluate(expr: Expr, resolveError: string): Promise<Eval> {
    switch (expr.kind) {
      case 'literal':
        return { kind: 'ok', value: expr.value, float: expr.float };
      case 'object': {
        if (this.#v08 || resolveError !== OUTPUT) this.#prefetch(expr);
        const builder = new ObjectBuilder();
        for (const [key, member] of expr.entries) {
          const r = await this.#evaluate(member, resolveError);
          if (r.kind !== 'ok') return r;
          builder.set(key, r.value, r.float);
        }
        return { kind: 'ok', value: builder.build(), float: false };
      }
      case 'array': {
        if (this.#v08 || resolveError !== OUTPUT) this.#prefetch(expr);
        const builder = new ArrayBuilder();
        for (const item of expr.items) {
          const r = await this.#evaluate(item, resolveError);
          if (r.kind !== 'ok') return r;
          builder.push(r.value, r.float);
        }
        return { kind: 'ok', value: builder.build(), float: false };
      }
      case 'input': {
        const found = lookup(this.input, expr.path, this.inputFloat);
        if (found.found) return { kind: 'ok', value: found.value, float: found.float };
        if (this.#v08)
          this.#abort(
            this.#resolveFailure(resolveError, `path ${expr.pathText} not found in the flow input`),
          );
        return {
          kind: 'failed',
          error: {
            code: ErrorCodes.EXPRESSION_UNDEFINED_VALUE,
            message: `Input path ${formatPath(expr.path)} not found`,
          },
        };
      }
      case 'step':
        return this.#evaluateStepRef(expr, resolveError);
      case 'variable':
        return this.#evaluateVariable(expr, resolveError);
      case 'if': {
        const condition = await this.#evaluate(expr.condition, resolveError);
        const truthy = condition.kind === 'ok' && truthyV011(condition.value);
        if (truthy) return this.#evaluate(expr.then, resolveError);
        return expr.else ? this.#evaluate(expr.else, resolveError) : OK_NULL;
      }
      case 'coalesce': {
        for (const item of expr.items) {
          const r = await this.#evaluate(item, resolveError);
          if (r.kind === 'failed') return r;
          if (r.kind === 'ok' && r.value !== null) return r;
        }
        return OK_NULL;
      }
    }
  }

  async #evaluateStepRef(
    expr: Extract<Expr, { kind: 'step' }>,
    resolveError: string,
  ): Promise<Eval> {
    const step = this.flow.stepsById.get(expr.step);
    if (!step)
      return {
        kind: 'failed',
        error: { code: ErrorCodes.EXPRESSION_UNKNOWN_STEP, message: `Unknown step: ${expr.step}` },
      };
    if (!this.#v08 && resolveError === OUTPUT && !this.#results.has(step.id)) {
      // The output resolves once the needed steps are done; it never starts a step.
      await this.#settle();
      if (!this.#results.has(step.id))
        return {
          kind: 'failed',
          error: { code: ErrorCodes.ORCHESTRATOR_ERROR, message: `Step ${step.id} not completed` },
        };
    }
    const result = await this.#ensure(step);
    if (result.outcome === 'failed') return { kind: 'failed', error: result.error };
    if (result.outcome === 'skipped') {
      if (expr.onSkip?.action === 'useDefault')
        return { kind: 'ok', value: expr.onSkip.defaultValue, float: expr.onSkip.float };
      return { kind: 'skipped' };
    }
    if (!this.#v08 && result.value === null) return OK_NULL;
    const found = lookup(result.value, expr.path, result.float ?? false);
    if (found.found) return { kind: 'ok', value: found.value, float: found.float };
    if (this.#v08)
      this.#abort(
        this.#resolveFailure(
          resolveError,
          `path ${expr.pathText} not found in the output of step "${step.id}"`,
        ),
      );
    return {
      kind: 'failed',
      error: {
        code: ErrorCodes.EXPRESSION_UNDEFINED_VALUE,
        message: `Path ${formatPath(expr.path)} not found`,
      },
    };
  }

  async #evaluateVariable(
    expr: Extract<Expr, { kind: 'variable' }>,
    resolveError: string,
  ): Promise<Eval> {
    const supplied = Object.prototype.hasOwnProperty.call(this.variables, expr.name)
      ? { value: this.variables[expr.name]! }
      : undefined;
    const schemaDefault = (): { value: Json } | undefined => {
      const props = this.flow.variables?.properties;
      const prop = isObject(props) ? props[expr.name] : undefined;
      return isObject(prop) && 'default' in prop ? { value: prop.default! } : undefined;
    };
    if (this.#v08) {
      const fallback = expr.fallback?.legacy ? { value: expr.fallback.value } : undefined;
      const source = supplied ?? fallback ?? schemaDefault();
      if (!source)
        this.#abort(
          this.#resolveFailure(
            resolveError,
            `variable "${expr.name}" is not defined and has no default`,
          ),
        );
      const found = lookup(source.value, expr.path);
      if (!found.found)
        this.#abort(
          this.#resolveFailure(
            resolveError,
            `path ${expr.pathText} not found in variable "${expr.name}"`,
          ),
        );
      return { kind: 'ok', value: found.value, float: found.float };
    }
    const source = supplied ?? schemaDefault();
    const found = source ? lookup(source.value, expr.path) : undefined;
    if (found?.found) return { kind: 'ok', value: found.value, float: found.float };
    if (expr.fallback && !expr.fallback.legacy)
      return this.#evaluate(expr.fallback.expr, resolveError);
    return {
      kind: 'failed',
      error: {
        code: ErrorCodes.EXPRESSION_UNDEFINED_VALUE,
        message: `Undefined variable: ${expr.name}`,
      },
    };
  }

  #resolveFailure(message: string, detail: string): FlowError {
    return {
      code: V08_RUN_ERROR,
      message,
      data: stackData([{ error: message, attachments: [detail] }]),
    };
  }

  /** The step a failed flow result comes from (undefined when no step failed, e.g. the output). */
  failedStep(result: StepResult): FailedStep | undefined {
    return result.outcome === 'failed' ? this.#origins.get(result.error) : undefined;
  }

  #blame(error: FlowError, step: Step): void {
    if (!this.#origins.has(error))
      this.#origins.set(error, { stepId: step.id, component: step.component });
  }

  async #runStep(step: Step): Promise<StepResult> {
    if (this.#aborted) throw this.#aborted;
    if (this.#finished.signal.aborted)
      return failed(ErrorCodes.ORCHESTRATOR_ERROR, 'the run has finished');
    let result: StepResult;
    try {
      result = this.#generational(
        this.#v08 ? await this.#runStepV08(step) : await this.#runStepV011(step),
      );
    } catch (err) {
      if (err instanceof RunAbort) this.#blame(err.error, step);
      throw err;
    }
    if (result.outcome === 'failed') this.#blame(result.error, step);
    this.host.onStepEvent?.({
      type: 'done',
      runId: this.runId,
      stepId: step.id,
      outcome: result.outcome,
    });
    return result;
  }

  async #runStepV08(step: Step): Promise<StepResult> {
    const resolveError = `failed to resolve input for step '${step.id}'`;
    this.#prefetch(step.input);
    if (step.skipIf) {
      const condition = await this.#evaluate(step.skipIf, resolveError);
      if (condition.kind === 'ok' && truthyV08(condition.value)) return skipped();
    }
    const input = await this.#evaluate(step.input, resolveError);
    if (input.kind === 'skipped') return skipped();
    if (input.kind === 'failed') {
      this.#abort({
        code: V08_RUN_ERROR,
        message: `step "${step.id}" failed`,
        data: stackData([
          {
            error: `step "${step.id}" failed`,
            attachments: [
              `Input resolution failed: ${input.error.message}`,
              `Error code: ${input.error.code}`,
            ],
          },
        ]),
      });
    }
    let result: StepResult | undefined;
    // Worker transport failures are retried with a restart like v0.11 does (a runner policy: v0.8
    // itself aborts); anything else that is not a result aborts the run as v0.8 does.
    let transportRetries = 0;
    for (let attempt = 1; !result; attempt++) {
      try {
        result = await this.#call(step, input.value, input.float, attempt);
      } catch (err) {
        if (!(err instanceof StepCallError)) throw err;
        if (
          err.kind === 'transport' &&
          transportRetries < this.host.retry.transportMaxRetries &&
          !this.#finished.signal.aborted
        ) {
          transportRetries++;
          await this.#waitBeforeRetry(step, attempt, 'transport', transportRetries, err.code);
          if (this.#finished.signal.aborted) this.#abort(this.#v08CallAbort(step, err));
          await this.#recover(step, err);
          continue;
        }
        this.#abort(this.#v08CallAbort(step, err));
      }
    }
    if (result.outcome !== 'failed') return result;
    switch (step.onError.action) {
      case 'skip':
        return skipped();
      case 'useDefault': {
        if (!step.onError.defaultValue) return success(null);
        const value = await this.#evaluate(step.onError.defaultValue, resolveError);
        if (value.kind === 'ok') return success(value.value, value.float);
        if (value.kind === 'skipped') return success(null);
        return { outcome: 'failed', error: value.error };
      }
      default:
        return result;
    }
  }

  #v08CallAbort(step: Step, err: StepCallError): FlowError {
    const attachments =
      err.kind === 'component'
        ? [...err.details, `component server error(${err.code}): ${err.message}`]
        : [...err.details, err.message];
    return {
      code: V08_RUN_ERROR,
      message: `step "${step.id}" failed`,
      data: stackData([
        { error: `step "${step.id}" failed`, attachments },
        { error: 'error executing user-defined function' },
      ]),
    };
  }

  async #runStepV011(step: Step): Promise<StepResult> {
    const input = await this.#evaluate(step.input, '');
    if (input.kind === 'failed') return { outcome: 'failed', error: input.error };
    if (input.kind === 'skipped') return skipped();
    const onError = step.onError;
    // 0.13 reuses one task id for every attempt of the step.
    const taskId = uuidV7();
    let attempt = 0;
    let transportRetries = 0;
    let componentRetries = 0;
    for (;;) {
      attempt++;
      let result: StepResult;
      let retryable: StepCallError | undefined;
      try {
        result = this.#generational(
          await this.#call(step, input.value, input.float, attempt, taskId),
        );
      } catch (err) {
        if (!(err instanceof StepCallError)) throw err;
        result = this.#generational(this.#v011CallFailure(step, err));
        if (err.kind !== 'component') retryable = err;
      }
      if (result.outcome !== 'failed' || this.#finished.signal.aborted) return result;
      if (onError.action === 'useDefault') {
        const value = onError.defaultValue;
        return value && value.kind === 'literal'
          ? success(value.value, value.float)
          : success(null);
      }
      const code = result.error.code;
      // 0.13 retries TIMEOUT/UNREACHABLE whoever produced them; v0.11 only call failures.
      if (
        (retryable || this.#v013) &&
        isTransportCode(code) &&
        transportRetries < this.host.retry.transportMaxRetries
      ) {
        transportRetries++;
        await this.#waitBeforeRetry(step, attempt, 'transport', transportRetries, code);
        if (this.#finished.signal.aborted) return result;
        if (retryable) await this.#recover(step, retryable);
        continue;
      }
      if (
        onError.action === 'retry' &&
        isComponentRetryCode(code) &&
        componentRetries < onError.maxRetries
      ) {
        componentRetries++;
        await this.#waitBeforeRetry(step, attempt, 'component', componentRetries, code);
        if (this.#finished.signal.aborted) return result;
        continue;
      }
      return result;
    }
  }

  #v011CallFailure(step: Step, err: StepCallError): StepResult {
    if (err.kind === 'component') return failed(err.code, err.message, err.data);
    // 0.13 orchestrator timers report their own message (heartbeat lost, queue or execution
    // timeout).
    if (typeof err.code === 'string') return failed(err.code, err.message, err.data);
    const message = `step "${step.id}" failed`;
    const extra: JsonObject = isObject(err.data ?? null) ? (err.data as JsonObject) : {};
    return failed(
      err.code,
      message,
      stackData(
        [
          { error: message, attachments: [...err.details, err.message] },
          { error: 'error executing user-defined function' },
        ],
        extra,
      ),
    );
  }

  async #waitBeforeRetry(
    step: Step,
    attempt: number,
    reason: 'transport' | 'component',
    n: number,
    code: ErrorCode,
  ): Promise<void> {
    const delayMs = backoffDelay(this.host.retry.backoff, n);
    this.host.onStepEvent?.({
      type: 'retry',
      runId: this.runId,
      stepId: step.id,
      attempt,
      reason,
      delayMs,
      code,
    });
    await sleep(delayMs, this.#finished.signal);
  }

  async #recover(step: Step, failure: StepCallError): Promise<void> {
    await this.#lastPlugin.get(step.id)?.recover?.(failure);
  }

  /** Route and call the plugin once. */
  async #call(
    step: Step,
    input: Json,
    inputFloat: boolean,
    attempt: number,
    taskId = '',
  ): Promise<StepResult> {
    let plugin: Plugin | undefined;
    let component: string;
    let pathParams: Record<string, string> = {};
    let queue: string | undefined;
    let stream: string | undefined;
    await this.host.beforeRoute?.();
    try {
      const route = this.host.route(step.component, input);
      plugin = this.host.plugin(route.plugin);
      component = route.component;
      pathParams = route.params;
      queue = route.queue;
      stream = route.stream;
      if (!plugin) throw new RouteError(`plugin "${route.plugin}" is not available`);
    } catch (err) {
      if (!(err instanceof RouteError)) throw err;
      if (this.#v08) {
        this.#abort({
          code: V08_RUN_ERROR,
          message: `step "${step.id}" failed`,
          data: stackData([{ error: `step "${step.id}" failed`, attachments: [err.message] }]),
        });
      }
      if (this.#v013)
        return failed(
          'ORCHESTRATOR_ERROR',
          'error routing component',
          stackData([{ error: 'error routing component' }, { error: err.message }]),
        );
      return failed(ErrorCodes.ORCHESTRATOR_ERROR, err.message);
    }
    this.#lastPlugin.set(step.id, plugin);
    this.host.onStepEvent?.({ type: 'attempt', runId: this.runId, stepId: step.id, attempt });
    try {
      return await plugin.execute(component, input, {
        stepId: step.id,
        attempt,
        runId: this.runId,
        flowId: this.flow.name,
        inputFloat,
        taskId,
        pathParams,
        ...(queue !== undefined ? { queue } : {}),
        ...(stream !== undefined ? { stream } : {}),
      });
    } catch (err) {
      if (!(err instanceof StepCallError)) throw err;
      // The runtime's error report names the component and the step first.
      throw new StepCallError(
        err.kind,
        err.code,
        err.message,
        err.data,
        [
          `Component: ${component}`,
          `Component execution failed for step '${step.id}'`,
          ...err.details,
        ],
        err.origin,
      );
    }
  }
}
