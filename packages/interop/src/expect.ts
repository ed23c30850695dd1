import {
  compareResults,
  legacyToTaskError,
  type Difference,
  type Json,
  type JsonObject,
} from '@stepflow-packs/runner';
import type { Generation } from './generation.js';

const isObject = (v: Json | undefined): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The expected FlowResult as a generation reports it. 0.11.1: unchanged. 0.13: an integer
 * `error.code` becomes its TaskErrorCode name by upstream's legacy mapping, and `error.data`
 * is dropped because REST results do not carry it.
 */
export function expectedFor(generation: Generation, expected: Json): Json {
  if (generation === '0.11.1' || !isObject(expected) || expected.outcome !== 'failed')
    return expected;
  const error = expected.error;
  if (!isObject(error)) return expected;
  const { data: _data, ...rest } = error;
  const code = typeof rest.code === 'number' ? legacyToTaskError(rest.code) : rest.code;
  return { ...expected, error: { ...rest, ...(code !== undefined ? { code } : {}) } };
}

/**
 * Compare the way the runner's `stepflow test` does for v0.11 (subset match: expected keys must
 * match, extra actual keys are ignored). Numbers compare by value, so 0.13's `3.0` in REST output
 * equals an expected `3`.
 */
export function compareCase(
  generation: Generation,
  expected: Json,
  actual: JsonObject,
): Difference[] {
  return compareResults(expectedFor(generation, expected), actual, { mode: 'subset' });
}
