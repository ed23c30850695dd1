import { describe, expect, it } from 'vitest';
import { dataKit, failure, json } from './helpers.js';

describe('robust_processing', () => {
  const kit = dataKit();

  it('trims and title-cases strings and passes numbers and booleans through', async () => {
    const out = await kit.execute('robust_processing', {
      data: { name: '  ada LOVELACE ', age: 36, active: true },
    });
    expect(out).toEqual({
      success: true,
      processed_data: { name: 'Ada Lovelace', age: 36, active: true },
      error_message: null,
      error_code: null,
      retries_attempted: 0,
      skipped_fields: [],
    });
  });

  it('reports EMPTY_INPUT for an empty object without retrying', async () => {
    const out = await kit.execute('robust_processing', { data: {}, max_retries: 5 });
    expect(out).toMatchObject({
      success: false,
      error_code: 'EMPTY_INPUT',
      retries_attempted: 0,
      processed_data: null,
    });
  });

  it('reports INVALID_TYPE naming data.<field> in strict mode', async () => {
    const out = await kit.execute('robust_processing', {
      data: { a: 'x', tags: ['t'] },
      strict_mode: true,
    });
    expect(out).toMatchObject({ success: false, error_code: 'INVALID_TYPE', retries_attempted: 0 });
    expect((out as { error_message: string }).error_message).toBe(
      'data.tags: expected a string, number or boolean, got an array',
    );
  });

  it('skips and reports non-scalar values outside strict mode', async () => {
    const out = await kit.execute('robust_processing', {
      data: { a: 'x', nested: { b: 1 }, nothing: null },
    });
    expect(out).toMatchObject({
      success: true,
      processed_data: { a: 'X' },
      skipped_fields: [
        { field: 'nested', reason: 'expected a string, number or boolean, got an object' },
        { field: 'nothing', reason: 'expected a string, number or boolean, got null' },
      ],
    });
  });

  it('keeps a __proto__ key as an ordinary field', async () => {
    const out = await kit.execute<{ processed_data: object }>('robust_processing', {
      data: json('{"__proto__":" x "}'),
    });
    expect(JSON.stringify(out.processed_data)).toBe('{"__proto__":"X"}');
  });

  it('answers -32003 when max_retries is out of range', async () => {
    const error = await failure(kit, 'robust_processing', { data: { a: 1 }, max_retries: -1 });
    expect(error.code).toBe(-32003);
    expect(error.message).toMatch(/^input\.max_retries: /);
  });
});
