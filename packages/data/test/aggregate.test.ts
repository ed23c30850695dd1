import { describe, expect, it } from 'vitest';
import { dataKit, failure, json } from './helpers.js';

interface Output {
  groups: Record<string, unknown>[];
  errors: { path: string; reason: string }[];
  stats: Record<string, number>;
}

const sales = [
  { region: 'north', product: 'a', amount: 10 },
  { region: 'south', product: 'a', amount: 5 },
  { region: 'north', product: 'b', amount: 2.5 },
  { region: 'north', product: 'a' },
  { region: 'south', product: 'b', amount: null },
];

describe('aggregate', () => {
  const kit = dataKit();
  const run = (input: Record<string, unknown>) => kit.execute<Output>('aggregate', input);

  it('computes count, sum, avg, min and max per group in order of first appearance', async () => {
    const out = await run({
      records: sales,
      group_by: ['region'],
      metrics: [
        { op: 'count' },
        { op: 'count', field: 'amount' },
        { op: 'sum', field: 'amount' },
        { op: 'avg', field: 'amount', as: 'mean' },
        { op: 'min', field: 'amount' },
        { op: 'max', field: 'product' },
      ],
    });
    expect(out.groups).toEqual([
      {
        region: 'north',
        count: 3,
        count_amount: 2,
        sum_amount: 12.5,
        mean: 6.25,
        min_amount: 2.5,
        max_product: 'b',
      },
      {
        region: 'south',
        count: 2,
        count_amount: 1,
        sum_amount: 5,
        mean: 5,
        min_amount: 5,
        max_product: 'b',
      },
    ]);
    expect(out.stats).toEqual({ records_in: 5, records_out: 5, records_errored: 0, groups: 2 });
  });

  it('groups by several and nested keys, with missing values as null', async () => {
    const out = await run({
      records: [{ a: { b: 1 }, c: 'x' }, { a: { b: 1 }, c: 'x' }, { c: 'x' }],
      group_by: ['a.b', 'c'],
      metrics: [{ op: 'count' }],
    });
    expect(out.groups).toEqual([
      { 'a.b': 1, c: 'x', count: 2 },
      { 'a.b': null, c: 'x', count: 1 },
    ]);
  });

  it('gives sum 0 and avg/min/max null for a group without values', async () => {
    const out = await run({
      records: [{ k: 1 }],
      metrics: [
        { op: 'sum', field: 'v' },
        { op: 'avg', field: 'v' },
        { op: 'min', field: 'v' },
        { op: 'max', field: 'v' },
      ],
    });
    expect(out.groups).toEqual([{ sum_v: 0, avg_v: null, min_v: null, max_v: null }]);
  });

  it('sums accurately (Neumaier): 1e16 + 1 + -1e16 = 1', async () => {
    const out = await run({
      records: [{ v: 1e16 }, { v: 1 }, { v: -1e16 }],
      metrics: [{ op: 'sum', field: 'v' }],
    });
    expect(out.groups[0]!.sum_v).toBe(1);
  });

  it('reports a non-number for sum as records[i].field and leaves the record out of every metric', async () => {
    const out = await run({
      records: [{ v: 1 }, { v: '2' }, { v: 3 }],
      metrics: [{ op: 'count' }, { op: 'sum', field: 'v' }],
    });
    expect(out.groups).toEqual([{ count: 2, sum_v: 4 }]);
    expect(out.errors).toMatchObject([{ path: 'records[1].v', reason: 'type_mismatch' }]);
    expect(out.stats).toEqual({ records_in: 3, records_out: 2, records_errored: 1, groups: 1 });
  });

  it('groups on __proto__ and constructor values without touching prototypes', async () => {
    const out = await run({
      records: json('[{"__proto__":"x","v":1},{"__proto__":"x","v":2},{"constructor":"y","v":4}]'),
      group_by: ['__proto__'],
      metrics: [{ op: 'sum', field: 'v' }],
    });
    expect(JSON.stringify(out.groups)).toBe(
      '[{"__proto__":"x","sum_v":3},{"__proto__":null,"sum_v":4}]',
    );
  });

  it('answers -32101 non_finite_result when a sum overflows', async () => {
    const error = await failure(kit, 'aggregate', {
      records: [{ v: 1e308 }, { v: 1e308 }],
      metrics: [{ op: 'sum', field: 'v' }],
    });
    expect(error).toMatchObject({
      code: -32101,
      data: { reason: 'non_finite_result', metric: 'sum_v' },
    });
  });

  it('answers -32101 naming records[i].field when on_record_error is fail', async () => {
    const error = await failure(kit, 'aggregate', {
      records: [{ v: [] }],
      metrics: [{ op: 'max', field: 'v' }],
      on_record_error: 'fail',
    });
    expect(error).toMatchObject({ code: -32101, data: { path: 'records[0].v' } });
  });

  it('answers -32003 when sum has no field or two outputs share a name', async () => {
    const missing = await failure(kit, 'aggregate', { records: [], metrics: [{ op: 'sum' }] });
    expect(missing).toMatchObject({
      code: -32003,
      message: 'input.metrics[0].field: sum needs a field',
    });
    const clash = await failure(kit, 'aggregate', {
      records: [],
      group_by: ['count'],
      metrics: [{ op: 'count' }],
    });
    expect(clash).toMatchObject({
      code: -32003,
      message: 'input.metrics[0].as: output name "count" is used twice',
    });
  });
});
