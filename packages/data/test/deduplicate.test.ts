import { describe, expect, it } from 'vitest';
import { dataKit, failure, json } from './helpers.js';

interface Output {
  records: Record<string, unknown>[];
  stats: Record<string, number>;
}

const rows = [
  { id: 1, email: 'a@x', v: 1 },
  { id: 2, email: 'b@x', v: 2 },
  { id: 3, email: 'a@x', v: 3 },
  { id: 4, email: 'b@x', v: 4 },
  { id: 5, email: 'c@x', v: 5 },
];

describe('deduplicate', () => {
  const kit = dataKit();

  it('keeps the first record of each key by default, in input order', async () => {
    const out = await kit.execute<Output>('deduplicate', { records: rows, keys: ['email'] });
    expect(out.records.map((r) => r.id)).toEqual([1, 2, 5]);
    expect(out.stats).toEqual({
      records_in: 5,
      records_out: 3,
      records_errored: 0,
      duplicates_removed: 2,
    });
  });

  it('keeps the last record of each key on request, in input order', async () => {
    const out = await kit.execute<Output>('deduplicate', {
      records: rows,
      keys: ['email'],
      keep: 'last',
    });
    expect(out.records.map((r) => r.id)).toEqual([3, 4, 5]);
  });

  it('compares whole records by JSON value when no keys are given (key order ignored)', async () => {
    const out = await kit.execute<Output>('deduplicate', {
      records: [
        { a: 1, b: [1] },
        { b: [1], a: 1 },
        { a: 1, b: [2] },
      ],
    });
    expect(out.records).toEqual([
      { a: 1, b: [1] },
      { a: 1, b: [2] },
    ]);
  });

  it('treats a missing key like null and compares nested values deeply', async () => {
    const out = await kit.execute<Output>('deduplicate', {
      records: [{ k: { x: 1 } }, { k: { x: 1 } }, { k: null }, {}],
      keys: ['k'],
    });
    expect(out.records).toEqual([{ k: { x: 1 } }, { k: null }]);
  });

  it('distinguishes records by __proto__ keys instead of ignoring them', async () => {
    const out = await kit.execute<Output>('deduplicate', {
      records: json('[{"__proto__":1},{"__proto__":2},{}]'),
    });
    expect(JSON.stringify(out.records)).toBe('[{"__proto__":1},{"__proto__":2},{}]');
  });

  it('answers -32003 for an unknown keep mode', async () => {
    const error = await failure(kit, 'deduplicate', { records: [], keep: 'middle' });
    expect(error.code).toBe(-32003);
    expect(error.message).toMatch(/^input\.keep: /);
  });
});
