import { legacyToTaskError } from '../execute/codes.js';
import { isObject, type Json, type JsonObject } from '../json/value.js';

export const NIL_RUN_ID = '00000000-0000-0000-0000-000000000000';

/**
 * Normalisation applied to expected and actual results (as `stepflow test` does): keys sorted,
 * string `run_id` members replaced by the nil UUID, `backtrace` members removed.
 */
export function normalize(value: Json): Json {
  if (Array.isArray(value)) return value.map(normalize);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const key of Object.keys(value).sort()) {
    if (key === 'backtrace') continue;
    const member = value[key]!;
    const normalized =
      key === 'run_id' && typeof member === 'string' ? NIL_RUN_ID : normalize(member);
    Object.defineProperty(out, key, {
      value: normalized,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

export interface Difference {
  /** JSON path in the FlowResult, e.g. `$.result.items[2].name`. */
  path: string;
  problem: string;
  expected?: Json;
  actual?: Json;
}

export interface CompareOptions {
  /**
   * `exact` (v0.8) or `subset` (v0.11: expected keys must match, extra actual keys are ignored).
   */
  mode: 'exact' | 'subset';
  /** Compare `error.data.stack` too; by default it is ignored (runner-generated text). */
  stackSensitive?: boolean;
  /**
   * 0.13: codes are `TaskErrorCode` names; an expected integer (a flow shared with v0.11) is
   * read through upstream's legacy mapping (-32101 → COMPONENT_FAILED).
   */
  codeNames?: boolean;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const child = (path: string, key: string | number) =>
  typeof key === 'number'
    ? `${path}[${key}]`
    : IDENT.test(key)
      ? `${path}.${key}`
      : `${path}[${JSON.stringify(key)}]`;

function kind(value: Json | undefined): string {
  if (value === undefined) return 'absent';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Compare two values; differences are collected with their paths (at most `limit`). */
function compareValues(
  expected: Json,
  actual: Json | undefined,
  path: string,
  mode: 'exact' | 'subset',
  out: Difference[],
  limit = 20,
): void {
  if (out.length >= limit) return;
  if (actual === undefined) {
    out.push({ path, problem: 'missing in the actual result', expected });
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual))
      return void out.push({
        path,
        problem: `expected an array, got ${kind(actual)}`,
        expected,
        actual,
      });
    if (expected.length !== actual.length) {
      out.push({
        path,
        problem: `expected ${expected.length} items, got ${actual.length}`,
        expected,
        actual,
      });
      if (mode === 'exact') return;
    }
    const n = Math.min(expected.length, actual.length);
    for (let i = 0; i < n; i++)
      compareValues(expected[i]!, actual[i]!, child(path, i), mode, out, limit);
    return;
  }
  if (isObject(expected)) {
    if (!isObject(actual))
      return void out.push({
        path,
        problem: `expected an object, got ${kind(actual)}`,
        expected,
        actual,
      });
    for (const key of Object.keys(expected)) {
      compareValues(
        expected[key]!,
        Object.prototype.hasOwnProperty.call(actual, key) ? actual[key]! : undefined,
        child(path, key),
        mode,
        out,
        limit,
      );
    }
    if (mode === 'exact') {
      for (const key of Object.keys(actual)) {
        if (!Object.prototype.hasOwnProperty.call(expected, key))
          out.push({ path: child(path, key), problem: 'unexpected member', actual: actual[key]! });
      }
    }
    return;
  }
  if (expected !== actual)
    out.push({
      path,
      problem:
        kind(expected) === kind(actual)
          ? 'values differ'
          : `expected ${kind(expected)}, got ${kind(actual)}`,
      expected,
      actual,
    });
}

function withoutStack(error: Json | undefined): Json | undefined {
  if (!isObject(error) || !isObject(error.data) || !('stack' in error.data)) return error;
  const { stack: _stack, ...rest } = error.data;
  const copy: JsonObject = { ...error };
  if (Object.keys(rest).length === 0) delete copy.data;
  else copy.data = rest;
  return copy;
}

/**
 * Judge an actual FlowResult against an expected one. v0.8 (`exact`): equal after
 * normalisation; v0.11 (`subset`): outcome equal, success results partially matched, failures
 * need equal code and message (a missing expected message is "don't care")
 * and expected `data` partially matched.
 */
export function compareResults(
  expectedRaw: Json,
  actualRaw: Json,
  options: CompareOptions,
): Difference[] {
  const expected = normalize(expectedRaw);
  const actual = normalize(actualRaw);
  const out: Difference[] = [];
  if (!isObject(expected) || !isObject(actual)) {
    compareValues(expected, actual, '$', 'exact', out);
    return out;
  }
  if (expected.outcome !== actual.outcome) {
    out.push({
      path: '$.outcome',
      problem: 'outcome differs',
      expected: expected.outcome ?? null,
      actual: actual.outcome ?? null,
    });
    return out;
  }
  if (expected.outcome === 'success') {
    compareValues(
      expected.result ?? null,
      'result' in actual ? actual.result! : undefined,
      '$.result',
      options.mode,
      out,
    );
    return out;
  }
  if (expected.outcome === 'failed') {
    let e = expected.error;
    let a = actual.error;
    if (!options.stackSensitive) {
      e = withoutStack(e);
      a = withoutStack(a);
    }
    if (!isObject(e) || !isObject(a)) {
      compareValues(e ?? null, a, '$.error', 'exact', out);
      return out;
    }
    if (options.codeNames && typeof e.code === 'number')
      e = { ...e, code: legacyToTaskError(e.code) };
    if (e.code !== a.code)
      out.push({
        path: '$.error.code',
        problem: 'values differ',
        expected: e.code ?? null,
        actual: a.code ?? null,
      });
    const messageOptional = options.mode === 'subset' && e.message === undefined;
    if (!messageOptional && e.message !== a.message)
      out.push({
        path: '$.error.message',
        problem: 'values differ',
        ...(e.message !== undefined ? { expected: e.message } : {}),
        ...(a.message !== undefined ? { actual: a.message } : {}),
      });
    if (options.mode === 'exact') {
      if ('data' in e)
        compareValues(e.data!, 'data' in a ? a.data! : undefined, '$.error.data', 'exact', out);
      else if ('data' in a)
        out.push({ path: '$.error.data', problem: 'unexpected member', actual: a.data! });
    } else if ('data' in e) {
      compareValues(e.data!, 'data' in a ? a.data! : undefined, '$.error.data', 'subset', out);
    }
    return out;
  }
  if (options.mode === 'exact') compareValues(expected, actual, '$', 'exact', out);
  return out;
}
