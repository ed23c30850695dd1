import { describe, expect, it } from 'vitest';
import { compareResults, normalize } from '../src/testing/compare.js';

describe('test comparison (normalisation, exact and subset match)', () => {
  it('normalises run_id and backtrace, and ignores key order', () => {
    expect(normalize({ b: 1, run_id: 'abc', a: { backtrace: 'x', c: 2 } })).toEqual({
      a: { c: 2 },
      b: 1,
      run_id: '00000000-0000-0000-0000-000000000000',
    });
  });

  it('v0.8 compares exactly: extra members are a mismatch named by JSON path', () => {
    const diffs = compareResults(
      { outcome: 'success', result: { a: 1 } },
      { outcome: 'success', result: { a: 1, b: [2] } },
      { mode: 'exact' },
    );
    expect(diffs).toEqual([{ path: '$.result.b', problem: 'unexpected member', actual: [2] }]);
  });

  it('v0.11 compares success results as a subset, arrays element-wise with equal length', () => {
    expect(
      compareResults(
        { outcome: 'success', result: { a: 1 } },
        { outcome: 'success', result: { a: 1, b: 2 } },
        { mode: 'subset' },
      ),
    ).toEqual([]);
    const diffs = compareResults(
      { outcome: 'success', result: { items: [{ x: 1 }, { x: 3 }] } },
      { outcome: 'success', result: { items: [{ x: 1, y: 0 }, { x: 2 }] } },
      { mode: 'subset' },
    );
    expect(diffs).toEqual([
      { path: '$.result.items[1].x', problem: 'values differ', expected: 3, actual: 2 },
    ]);
  });

  it('v0.11 treats a missing expected message as "don\'t care" but always compares the code', () => {
    expect(
      compareResults(
        { outcome: 'failed', error: { code: -32100 } },
        { outcome: 'failed', error: { code: -32100, message: 'boom' } },
        { mode: 'subset' },
      ),
    ).toEqual([]);
    expect(
      compareResults(
        { outcome: 'failed', error: { code: -32101 } },
        { outcome: 'failed', error: { code: -32100, message: 'boom' } },
        { mode: 'subset' },
      ),
    ).toHaveLength(1);
  });

  it('ignores error.data.stack unless stack-sensitive', () => {
    const expected = {
      outcome: 'failed',
      error: { code: 500, message: 'step "a" failed', data: { stack: [{ error: 'rust text' }] } },
    };
    const actual = {
      outcome: 'failed',
      error: { code: 500, message: 'step "a" failed', data: { stack: [{ error: 'our text' }] } },
    };
    expect(compareResults(expected, actual, { mode: 'exact' })).toEqual([]);
    expect(compareResults(expected, actual, { mode: 'exact', stackSensitive: true })[0]!.path).toBe(
      '$.error.data.stack[0].error',
    );
  });

  it('reports an outcome mismatch first', () => {
    expect(
      compareResults({ outcome: 'skipped' }, { outcome: 'success', result: 1 }, { mode: 'exact' }),
    ).toEqual([
      { path: '$.outcome', problem: 'outcome differs', expected: 'skipped', actual: 'success' },
    ]);
  });
});
