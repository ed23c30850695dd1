import { describe, expect, it } from 'vitest';
import { dataKit, failure, json } from './helpers.js';

interface Output {
  records: Record<string, unknown>[];
  errors: { path: string; reason: string }[];
  stats: Record<string, number>;
}

describe('sort_records', () => {
  const kit = dataKit();
  const sort = (records: unknown[], by: unknown, extra: Record<string, unknown> = {}) =>
    kit.execute<Output>('sort_records', { records, by, ...extra });

  it('sorts by several keys, asc and desc, and is stable', async () => {
    const records = [
      { id: 1, team: 'b', score: 5 },
      { id: 2, team: 'a', score: 5 },
      { id: 3, team: 'a', score: 9 },
      { id: 4, team: 'b', score: 5 },
      { id: 5, team: 'a', score: 5 },
    ];
    const out = await sort(records, [{ field: 'team' }, { field: 'score', order: 'desc' }]);
    expect(out.records.map((r) => r.id)).toEqual([3, 2, 5, 1, 4]);
  });

  it('puts missing and null values last in both directions, or first on request', async () => {
    const records = [{ id: 1, v: null }, { id: 2, v: 2 }, { id: 3 }, { id: 4, v: 1 }];
    expect((await sort(records, [{ field: 'v' }])).records.map((r) => r.id)).toEqual([4, 2, 1, 3]);
    expect((await sort(records, [{ field: 'v', order: 'desc' }])).records.map((r) => r.id)).toEqual(
      [2, 4, 1, 3],
    );
    expect(
      (await sort(records, [{ field: 'v' }], { nulls: 'first' })).records.map((r) => r.id),
    ).toEqual([1, 3, 4, 2]);
  });

  it('orders strings by code point and mixed types as booleans < numbers < strings', async () => {
    const records = [
      { v: '😀' },
      { v: '\uff5e' },
      { v: 'a' },
      { v: 10 },
      { v: true },
      { v: 2 },
      { v: 'B' },
    ];
    const out = await sort(records, [{ field: 'v' }]);
    expect(out.records.map((r) => r.v)).toEqual([true, 2, 10, 'B', 'a', '\uff5e', '😀']);
  });

  it('sorts by a nested field', async () => {
    const out = await sort([{ a: { b: 2 } }, { a: { b: 1 } }], [{ field: 'a.b' }]);
    expect(out.records).toEqual([{ a: { b: 1 } }, { a: { b: 2 } }]);
  });

  it('reports objects and arrays as unsortable records[i].field and keeps the rest', async () => {
    const out = await sort([{ v: 2 }, { v: [1] }, { v: 1 }], [{ field: 'v' }]);
    expect(out.records).toEqual([{ v: 1 }, { v: 2 }]);
    expect(out.errors).toMatchObject([{ path: 'records[1].v', reason: 'not_sortable' }]);
    expect(out.stats).toEqual({ records_in: 3, records_out: 2, records_errored: 1 });
  });

  it('sorts on a __proto__ key like any other', async () => {
    const out = await sort(json('[{"__proto__":2},{"__proto__":1}]'), [{ field: '__proto__' }]);
    expect(JSON.stringify(out.records)).toBe('[{"__proto__":1},{"__proto__":2}]');
  });

  it('answers -32101 when on_record_error is fail', async () => {
    const error = await failure(kit, 'sort_records', {
      records: [{ v: {} }],
      by: [{ field: 'v' }],
      on_record_error: 'fail',
    });
    expect(error).toMatchObject({
      code: -32101,
      message: 'records[0].v: cannot sort by an object; expected a string, number, boolean or null',
    });
  });

  it('answers -32003 when by is empty', async () => {
    const error = await failure(kit, 'sort_records', { records: [], by: [] });
    expect(error.code).toBe(-32003);
    expect(error.message).toMatch(/^input\.by: /);
  });
});
