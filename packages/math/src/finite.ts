import { ComponentValueError } from '@stepflow-packs/core';

/** Results must be finite JSON numbers: overflow and NaN are value errors, never null. */
export function finite(value: number, what: string): number {
  if (!Number.isFinite(value)) {
    const kind = Number.isNaN(value) ? 'is not a number' : 'overflows the range of a double';
    throw new ComponentValueError(`The result of ${what} ${kind}`, {
      reason: 'non_finite_result',
      operation: what,
    });
  }
  // JSON has no negative zero.
  return value === 0 ? 0 : value;
}
