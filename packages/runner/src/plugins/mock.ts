import { ErrorCodes } from '@stepflow-packs/core';
import type { MockPluginConfig } from '../config/types.js';
import { failed, skipped, success, type StepResult } from '../execute/result.js';
import { canonicalJson } from '../json/canonical.js';
import { isObject, jsonEqual, type Json } from '../json/value.js';
import { StepCallError, type ListedComponent, type Plugin } from './types.js';

/**
 * The `mock` plugin: each component answers from a table of behaviours
 * keyed by input (JSON equality). A behaviour is a FlowResult returned as the step result (so
 * `onError` applies) or `{error}` (an infrastructure failure). Unknown inputs fail the same way.
 */
export class MockPlugin implements Plugin {
  readonly type = 'mock';

  constructor(private readonly config: MockPluginConfig) {}

  async start(): Promise<void> {}

  async execute(component: string, input: Json): Promise<StepResult> {
    const spec = this.config.components.get(component);
    if (!spec)
      throw new StepCallError(
        'infrastructure',
        ErrorCodes.TRANSPORT_ERROR,
        `Mock component ${component} is not defined`,
      );
    const match = spec.behaviors.find((b) => jsonEqual(b.input, input));
    if (!match)
      throw new StepCallError(
        'infrastructure',
        ErrorCodes.TRANSPORT_ERROR,
        `No behavior defined for ${component} on ${canonicalJson(input)}`,
      );
    if (match.behavior.kind === 'error')
      throw new StepCallError('infrastructure', ErrorCodes.TRANSPORT_ERROR, match.behavior.message);
    return toStepResult(match.behavior.result);
  }

  async list(): Promise<ListedComponent[]> {
    return [...this.config.components].map(([component, spec]) => ({
      component,
      input_schema: spec.inputSchema,
      output_schema: spec.outputSchema,
    }));
  }

  async close(): Promise<void> {}
}

function toStepResult(result: Json): StepResult {
  if (!isObject(result)) return success(null);
  if (result.outcome === 'skipped') return skipped();
  if (result.outcome === 'failed') {
    const error = isObject(result.error) ? result.error : {};
    return failed(
      typeof error.code === 'number' || typeof error.code === 'string' ? error.code : 0,
      typeof error.message === 'string' ? error.message : '',
      error.data,
    );
  }
  return success(result.result ?? null);
}
