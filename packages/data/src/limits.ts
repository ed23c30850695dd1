import { BadRequestError, ComponentError, formatPath } from '@stepflow-packs/core';
import { exceedsDepth } from './records.js';

export interface Limits {
  maxRecords: number;
  maxDepth: number;
  maxOutputBytes: number;
}

/** Refuse a list that is too long or too deeply nested before any work is done on it. */
export function checkRecords(list: readonly unknown[], limits: Limits, root = 'records'): void {
  checkCount(list.length, limits, root);
  for (let i = 0; i < list.length; i += 1) checkDepth(list[i], limits, formatPath(root, [i]));
}

export function checkCount(count: number, limits: Limits, root = 'records'): void {
  if (count > limits.maxRecords) {
    throw new BadRequestError(
      `${root} has ${count} entries; at most ${limits.maxRecords} are accepted (STEPFLOW_DATA_MAX_RECORDS)`,
      { reason: 'too_many_records', field: root, limit: limits.maxRecords, actual: count },
    );
  }
}

export function checkDepth(value: unknown, limits: Limits, path: string): void {
  if (exceedsDepth(value, limits.maxDepth)) {
    throw new BadRequestError(
      `${path} is nested deeper than ${limits.maxDepth} levels (STEPFLOW_DATA_MAX_DEPTH)`,
      { reason: 'too_deep', field: path, limit: limits.maxDepth },
    );
  }
}

/** Approximate size in bytes of the JSON text of a value (UTF-8, escapes not counted). */
function jsonSize(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return Buffer.byteLength(value) + 2;
    case 'number':
      return Number.isFinite(value) ? String(value).length : 4;
    case 'boolean':
      return value ? 4 : 5;
    case 'object': {
      if (value === null) return 4;
      if (Array.isArray(value)) {
        let size = 1 + Math.max(value.length, 1);
        for (const item of value) size += jsonSize(item);
        return size;
      }
      const keys = Object.keys(value);
      let size = 1 + Math.max(keys.length, 1);
      for (const key of keys)
        size += Buffer.byteLength(key) + 3 + jsonSize((value as Record<string, unknown>)[key]);
      return size;
    }
    default:
      return 4;
  }
}

/**
 * Running total of the output being built. Each piece is charged before it is appended, so an
 * oversized result is refused after at most one record beyond the limit, never after building it.
 */
export class OutputBudget {
  readonly limit: number;
  #used = 0;

  constructor(limit: number, initial = 256) {
    this.limit = limit;
    this.#used = initial;
  }

  get used(): number {
    return this.#used;
  }

  charge(bytes: number, what = 'the output'): void {
    this.#used += bytes;
    if (this.#used > this.limit) {
      throw new BadRequestError(
        `${what} would exceed the ${this.limit}-byte output limit (STEPFLOW_DATA_MAX_OUTPUT_BYTES)`,
        { reason: 'output_too_large', limit: this.limit, actual: this.#used },
      );
    }
  }

  chargeValue(value: unknown, what?: string): void {
    this.charge(jsonSize(value) + 1, what);
  }
}

/**
 * Keeps long loops from monopolising the event loop: `due()` is cheap; when a time slice has
 * passed, `pause()` yields to other requests and notices cancellation.
 */
export class Pacer {
  readonly #signal: AbortSignal;
  readonly #sliceMs: number;
  #since = performance.now();

  constructor(signal: AbortSignal, sliceMs = 8) {
    this.#signal = signal;
    this.#sliceMs = sliceMs;
  }

  due(): boolean {
    return performance.now() - this.#since >= this.#sliceMs;
  }

  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.#signal.aborted)
      throw new ComponentError('The request was cancelled', { reason: 'cancelled' });
    this.#since = performance.now();
  }
}
