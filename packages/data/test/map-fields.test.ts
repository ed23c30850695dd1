import { describe, expect, it } from 'vitest';
import { dataKit, failure, json } from './helpers.js';

interface Output {
  records: Record<string, unknown>[];
  errors: { path: string; reason: string; message: string }[];
  stats: Record<string, number>;
}

describe('map_fields', () => {
  const kit = dataKit();
  const map = (input: Record<string, unknown>) => kit.execute<Output>('map_fields', input);

  it('picks, omits, renames, copies and sets, in that order', async () => {
    const out = await map({
      records: [{ id: 1, first: 'Ada', secret: 'x', meta: { city: 'London' } }],
      pick: ['id', 'first', 'secret'],
      omit: ['secret'],
      rename: [{ from: 'first', to: 'name' }],
      copy: [{ from: 'meta.city', to: 'address.city' }],
      set: [{ field: 'source', value: 'import' }],
    });
    expect(out.records).toEqual([
      { id: 1, name: 'Ada', address: { city: 'London' }, source: 'import' },
    ]);
    expect(Object.keys(out.records[0]!)).toEqual(['id', 'name', 'address', 'source']);
  });

  it('renames in place and all at once (a → b, b → a swaps)', async () => {
    const out = await map({
      records: [{ a: 1, b: 2, c: 3 }],
      rename: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'a' },
      ],
    });
    expect(out.records[0]).toEqual({ b: 1, a: 2, c: 3 });
    expect(Object.keys(out.records[0]!)).toEqual(['b', 'a', 'c']);
  });

  it('lets a renamed value replace an existing key of the new name', async () => {
    const out = await map({ records: [{ a: 1, b: 2 }], rename: [{ from: 'a', to: 'b' }] });
    expect(out.records[0]).toEqual({ b: 1 });
  });

  it('does not modify nested objects of the input when writing into them', async () => {
    const shared = { city: 'London' };
    const records = [{ address: shared }, { address: shared }];
    const out = await map({ records, set: [{ field: 'address.zip', value: 'N1' }] });
    expect(out.records).toEqual([
      { address: { city: 'London', zip: 'N1' } },
      { address: { city: 'London', zip: 'N1' } },
    ]);
    expect(shared).toEqual({ city: 'London' });
  });

  it('uses the copy default for a missing path and reports a missing path without one', async () => {
    const out = await map({
      records: [{ a: { b: 1 } }, { a: {} }, {}],
      copy: [{ from: 'a.b', to: 'x' }],
    });
    expect(out.records).toEqual([{ a: { b: 1 }, x: 1 }]);
    expect(out.errors.map((e) => e.message)).toEqual([
      'records[1].a.b: not found (copy to x needs it, or give a default)',
      'records[2].a.b: not found (copy to x needs it, or give a default)',
    ]);
    expect(out.stats).toEqual({ records_in: 3, records_out: 1, records_errored: 2 });

    const withDefault = await map({
      records: [{}],
      copy: [{ from: 'a.b', to: 'x', default: null }],
    });
    expect(withDefault.records).toEqual([{ x: null }]);
  });

  it('reports writing through a non-object as records[i].field', async () => {
    const out = await map({ records: [{ a: 'text' }], set: [{ field: 'a.b', value: 1 }] });
    expect(out.records).toEqual([]);
    expect(out.errors[0]).toMatchObject({ path: 'records[0].a.b', reason: 'not_an_object' });
  });

  it('copies, renames and sets __proto__, constructor and prototype keys as data', async () => {
    const out = await map({
      records: json('[{"__proto__":{"polluted":true},"constructor":1}]'),
      rename: [{ from: '__proto__', to: 'proto' }],
      copy: [{ from: 'constructor', to: 'prototype' }],
      set: [{ field: '__proto__.polluted', value: 'yes' }],
    });
    expect(JSON.stringify(out.records)).toBe(
      '[{"proto":{"polluted":true},"constructor":1,"prototype":1,"__proto__":{"polluted":"yes"}}]',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('answers -32101 naming records[i].field when on_record_error is fail', async () => {
    const error = await failure(kit, 'map_fields', {
      records: [{}],
      copy: [{ from: 'x', to: 'y' }],
      on_record_error: 'fail',
    });
    expect(error).toMatchObject({ code: -32101, data: { record: 0, path: 'records[0].x' } });
  });

  it('answers -32103 output_too_large before building an output beyond maxOutputBytes', async () => {
    const records = Array.from({ length: 100 }, () => ({}));
    const error = await failure(dataKit({ maxOutputBytes: 4096 }), 'map_fields', {
      records,
      set: [{ field: 'blob', value: 'x'.repeat(1000) }],
    });
    expect(error).toMatchObject({
      code: -32103,
      data: { reason: 'output_too_large', limit: 4096 },
    });
    expect(error.data!.actual as number).toBeLessThan(4096 + 1100);
  });

  it('answers -32003 when two renames target the same key', async () => {
    const error = await failure(kit, 'map_fields', {
      records: [],
      rename: [
        { from: 'a', to: 'c' },
        { from: 'b', to: 'c' },
      ],
    });
    expect(error.code).toBe(-32003);
    expect(error.message).toBe('input.rename[1]: duplicate "c"');
  });
});
