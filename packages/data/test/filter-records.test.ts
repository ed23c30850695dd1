import { describe, expect, it } from 'vitest';
import { dataKit, failure, json } from './helpers.js';

interface Output {
  records: Record<string, unknown>[];
  errors: { index: number; path: string; field: string | null; reason: string; message: string }[];
  stats: Record<string, number>;
}

const people = [
  { name: 'Ada', age: 36, tags: ['math', 'poetry'], address: { city: 'London' } },
  { name: 'Alan', age: 41, tags: ['math'], address: { city: 'Wilmslow' } },
  { name: 'Grace', age: 85, tags: [], address: null },
  { name: 'Linus', nickname: null },
];

describe('filter_records', () => {
  const kit = dataKit();
  const names = async (where: unknown, extra: Record<string, unknown> = {}) =>
    (await kit.execute<Output>('filter_records', { records: people, where, ...extra })).records.map(
      (r) => r.name,
    );

  it.each([
    [[{ field: 'name', op: 'eq', value: 'Ada' }], ['Ada']],
    [[{ field: 'address', op: 'eq', value: { city: 'London' } }], ['Ada']],
    [[{ field: 'name', op: 'ne', value: 'Ada' }], ['Alan', 'Grace', 'Linus']],
    [[{ field: 'age', op: 'gt', value: 41 }], ['Grace']],
    [[{ field: 'age', op: 'gte', value: 41 }], ['Alan', 'Grace']],
    [[{ field: 'age', op: 'lt', value: 41 }], ['Ada']],
    [[{ field: 'age', op: 'lte', value: 41 }], ['Ada', 'Alan']],
    [[{ field: 'name', op: 'lt', value: 'B' }], ['Ada', 'Alan']],
    [[{ field: 'name', op: 'in', value: ['Grace', 'Linus', 'Zed'] }], ['Grace', 'Linus']],
    [[{ field: 'tags', op: 'contains', value: 'poetry' }], ['Ada']],
    [[{ field: 'name', op: 'contains', value: 'la' }], ['Alan']],
    [[{ field: 'nickname', op: 'exists' }], ['Linus']],
    [[{ field: 'nickname', op: 'exists', value: false }], ['Ada', 'Alan', 'Grace']],
    [[{ field: 'address.city', op: 'eq', value: 'Wilmslow' }], ['Alan']],
    [[{ field: 'tags.0', op: 'eq', value: 'math' }], ['Ada', 'Alan']],
    [[{ field: 'name', op: 'matches', value: '^A' }], ['Ada', 'Alan']],
    [[{ field: 'name', op: 'matches', value: 'ACE$', case_insensitive: true }], ['Grace']],
  ])('applies %j', async (where, expected) => {
    expect(await names(where)).toEqual(expected);
  });

  it('combines predicates with all by default and any on request', async () => {
    const where = [
      { field: 'age', op: 'gt', value: 40 },
      { field: 'tags', op: 'contains', value: 'math' },
    ];
    expect(await names(where)).toEqual(['Alan']);
    expect(await names(where, { match: 'any' })).toEqual(['Ada', 'Alan', 'Grace']);
  });

  it('compares with JSON types: in and eq never confuse 1, "1", true and "true"', async () => {
    const records = [
      { v: 1 },
      { v: '1' },
      { v: true },
      { v: 'true' },
      { v: null },
      { v: { a: [1] } },
      {},
    ];
    const run = async (where: unknown) =>
      (await kit.execute<Output>('filter_records', { records, where })).records.map((r) => r.v);
    expect(await run([{ field: 'v', op: 'in', value: ['1', true, null, { a: [1] }] }])).toEqual([
      '1',
      true,
      null,
      { a: [1] },
    ]);
    expect(await run([{ field: 'v', op: 'eq', value: 1 }])).toEqual([1]);
    expect(await run([{ field: 'v', op: 'ne', value: 'true' }])).toEqual([
      1,
      '1',
      true,
      null,
      { a: [1] },
      undefined,
    ]);
  });

  it('reads keys containing dots through the array form of a field', async () => {
    const out = await kit.execute<Output>('filter_records', {
      records: [{ 'a.b': 1 }, { a: { b: 1 } }],
      where: [{ field: ['a.b'], op: 'eq', value: 1 }],
    });
    expect(out.records).toEqual([{ 'a.b': 1 }]);
  });

  it('never reads inherited properties: constructor is missing unless the record has it', async () => {
    const out = await kit.execute<Output>('filter_records', {
      records: json('[{"x":1},{"constructor":"own"}]'),
      where: [{ field: 'constructor', op: 'exists' }],
    });
    expect(out.records).toEqual([{ constructor: 'own' }]);
  });

  it('reports a type mismatch as records[i].field and keeps the accounting whole', async () => {
    const out = await kit.execute<Output>('filter_records', {
      records: [{ age: 30 }, { age: 'thirty' }, { age: 50 }, {}],
      where: [{ field: 'age', op: 'gt', value: 40 }],
    });
    expect(out.records).toEqual([{ age: 50 }]);
    expect(out.errors).toEqual([
      {
        index: 1,
        path: 'records[1].age',
        field: 'age',
        reason: 'type_mismatch',
        message: 'records[1].age: expected a number to compare with gt 40, got a string',
      },
    ]);
    expect(out.stats).toEqual({
      records_in: 4,
      records_out: 1,
      records_errored: 1,
      records_rejected: 2,
    });
    expect(out.stats.records_in).toBe(
      out.stats.records_out! + out.stats.records_errored! + out.stats.records_rejected!,
    );
  });

  it('reports matches on a non-string value as a per-record error', async () => {
    const out = await kit.execute<Output>('filter_records', {
      records: [{ code: 'A1' }, { code: 7 }, { code: null }],
      where: [{ field: 'code', op: 'matches', value: '^[A-Z][0-9]$' }],
    });
    expect(out.records).toEqual([{ code: 'A1' }]);
    expect(out.errors.map((e) => e.path)).toEqual(['records[1].code']);
  });

  it('answers -32101 naming records[i].field when on_record_error is fail', async () => {
    const error = await failure(kit, 'filter_records', {
      records: [{ tags: 'x' }, { tags: { a: 1 } }],
      where: [{ field: 'tags', op: 'contains', value: 1 }],
      on_record_error: 'fail',
    });
    expect(error.code).toBe(-32101);
    expect(error.message).toBe(
      'records[0].tags: a string field can only contain a string, got a number as the value',
    );
    expect(error.data).toMatchObject({ record: 0, field: 'tags', path: 'records[0].tags' });
  });

  it('compares strings by code point, so astral characters sort after U+FFxx', async () => {
    const out = await kit.execute<Output>('filter_records', {
      records: [{ s: '\uff5e' }, { s: '😀' }],
      where: [{ field: 's', op: 'gt', value: '\uffff' }],
    });
    expect(out.records).toEqual([{ s: '😀' }]);
  });

  it('matches one code point with a dot, also for astral characters', async () => {
    const out = await kit.execute<Output>('filter_records', {
      records: [{ s: '😀' }, { s: 'ab' }],
      where: [{ field: 's', op: 'matches', value: '^.$' }],
    });
    expect(out.records).toEqual([{ s: '😀' }]);
  });

  it.each([
    ['(a', 'invalid_regex'],
    ['(a)\\1', 'invalid_regex'],
    ['(?=a)', 'invalid_regex'],
    ['(?:(?:a{30}){30}){30}', 'regex_too_complex'],
  ])('answers -32103 for the pattern %s (%s)', async (pattern, reason) => {
    const error = await failure(kit, 'filter_records', {
      records: [{ s: 'a' }],
      where: [{ field: 's', op: 'matches', value: pattern }],
    });
    expect(error).toMatchObject({ code: -32103, data: { reason, field: 'input.where[0].value' } });
  });

  it('answers -32103 regex_too_long when the pattern exceeds maxPatternLength', async () => {
    const error = await failure(dataKit({ maxPatternLength: 8 }), 'filter_records', {
      records: [],
      where: [{ field: 's', op: 'matches', value: 'a'.repeat(9) }],
    });
    expect(error).toMatchObject({
      code: -32103,
      data: { reason: 'regex_too_long', limit: 8, actual: 9 },
    });
  });

  it('answers -32103 regex_timeout when matching exceeds regexTimeoutMs, within 1.5 s', async () => {
    const started = performance.now();
    const error = await failure(dataKit({ regexTimeoutMs: 200 }), 'filter_records', {
      records: [{ s: 'a'.repeat(50_000) }],
      where: [{ field: 's', op: 'matches', value: '(.*a){1000}' }],
    });
    expect(performance.now() - started).toBeLessThan(1500);
    expect(error).toMatchObject({ code: -32103, data: { reason: 'regex_timeout', limit: 200 } });
  });

  it('answers -32003 naming the predicate when value is missing for eq', async () => {
    const error = await failure(kit, 'filter_records', {
      records: [],
      where: [{ field: 'a', op: 'eq' }],
    });
    expect(error.code).toBe(-32003);
    expect(error.message).toBe('input.where[0].value: a value is required');
  });

  it('answers -32003 for an unknown operator', async () => {
    const error = await failure(kit, 'filter_records', {
      records: [],
      where: [{ field: 'a', op: 'like', value: 'x' }],
    });
    expect(error.code).toBe(-32003);
    expect(error.message).toMatch(/^input\.where\[0\]\.op: /);
  });
});
