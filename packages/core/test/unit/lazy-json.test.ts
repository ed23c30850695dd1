import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidInputError, RpcError } from '../../src/errors.js';
import { LazyArray, lazyArray } from '../../src/lazy-array.js';
import {
  DeferredJsonArray,
  LAZY_ARRAY_MIN_CHARS,
  LAZY_FRAME_MIN_CHARS,
  isLazyArraySchema,
  lazyFieldsOf,
  parseFrame,
} from '../../src/lazy-json.js';
import { jsonObject } from '../../src/schemas.js';

const FIELDS = new Set(['records']);

const frame = (input: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: 7,
    method: 'components/execute',
    params: { component: '/bulk', input, ...extra },
  });

/** Records whose strings contain every character the scanner must not trip on. */
function hostileRecords(count: number) {
  const nasty = [
    'a]b',
    'c,d',
    '}{',
    'quote " inside',
    'back\\slash',
    '\\',
    '\\"',
    'ü ✓ 😀',
    '\n\t',
  ];
  return Array.from({ length: count }, (_, i) => ({
    id: i,
    text: `${nasty[i % nasty.length]}#${i}`.padEnd(40, '.'),
    nested: { list: [i, [i + 1, { deep: `]${i}[` }]], empty: {}, none: null },
    flag: i % 2 === 0,
    '\\"key': -(i + 1) * 1.5e-3,
  }));
}

type Input = { records: unknown; table?: string };
const inputOf = (parsed: unknown) => (parsed as { params: { input: Input } }).params.input;

describe('parseFrame', () => {
  it('parses small frames and frames without a lazy field exactly like JSON.parse', () => {
    const small = frame({ records: [{ a: 1 }] });
    expect(parseFrame(small, FIELDS)).toEqual(JSON.parse(small));
    const large = frame({ other: hostileRecords(4000) });
    expect(large.length).toBeGreaterThan(LAZY_FRAME_MIN_CHARS);
    expect(parseFrame(large, FIELDS)).toEqual(JSON.parse(large));
    expect(parseFrame(large, new Set())).toEqual(JSON.parse(large));
  });

  it.each([1, 1023, 1024, 1025, 2048, 5000])(
    'defers a large array of %i elements with exact batch boundaries',
    (count) => {
      const records = hostileRecords(count);
      // Pad the frame so even a single record makes it large enough to scan.
      const text = frame({ table: 'x'.repeat(LAZY_FRAME_MIN_CHARS), records, after: [1, '}'] });
      const parsed = parseFrame(text, FIELDS);
      const input = inputOf(parsed);
      const arrayChars = JSON.stringify(records).length;
      if (arrayChars < LAZY_ARRAY_MIN_CHARS) {
        expect(Array.isArray(input.records)).toBe(true);
        expect(parsed).toEqual(JSON.parse(text));
        return;
      }
      expect(input.records).toBeInstanceOf(DeferredJsonArray);
      const deferred = input.records as DeferredJsonArray;
      expect(deferred.length).toBe(count);
      expect(deferred.batches).toBe(Math.ceil(count / 1024));
      expect(deferred.parseAll()).toEqual(records);
      // Everything else is parsed normally.
      expect({ ...input, records: undefined }).toEqual({
        table: 'x'.repeat(LAZY_FRAME_MIN_CHARS),
        records: undefined,
        after: [1, '}'],
      });
      expect((parsed as { id: number }).id).toBe(7);
    },
  );

  it('handles whitespace between tokens (pretty-printed HTTP bodies)', () => {
    const records = hostileRecords(3000);
    const text = JSON.stringify(
      { jsonrpc: '2.0', id: 1, method: 'components/execute', params: { input: { records } } },
      null,
      2,
    );
    const input = inputOf(parseFrame(`\n ${text}\r\n`, FIELDS));
    expect(input.records).toBeInstanceOf(DeferredJsonArray);
    expect((input.records as DeferredJsonArray).parseAll()).toEqual(records);
  });

  it('matches keys written with escapes, and keeps JSON.parse semantics for duplicate keys', () => {
    const records = hostileRecords(3000);
    const body = JSON.stringify(records);
    const escaped = `{"jsonrpc":"2.0","id":1,"method":"x","params":{"in\\u0070ut":{"records":${body}}}}`;
    const input = inputOf(parseFrame(escaped, FIELDS));
    expect((input.records as DeferredJsonArray).parseAll()).toEqual(records);
    // A lazy field whose own name is escaped is simply parsed with the frame.
    const escapedField = escaped.replace('"records"', '"rec\\u006frds"');
    expect(parseFrame(escapedField, FIELDS)).toEqual(JSON.parse(escapedField));
    // A duplicate key: JSON.parse keeps the last value, and so does parseFrame (no deferral).
    const duplicate = `{"jsonrpc":"2.0","id":1,"method":"x","params":{"input":{"records":${body},"records":[1]}}}`;
    expect(parseFrame(duplicate, FIELDS)).toEqual(JSON.parse(duplicate));
    expect(inputOf(parseFrame(duplicate, FIELDS)).records).toEqual([1]);
  });

  it('throws like JSON.parse when the frame outside the array is malformed', () => {
    const body = JSON.stringify(hostileRecords(3000));
    for (const bad of [
      `{"jsonrpc":"2.0","id":1,"params":{"input":{"records":${body}}}`,
      `{"jsonrpc":"2.0","id":1,"params":{"input":{"records":${body},}}}`,
      `{"jsonrpc":"2.0","id":1,"params":{"input":{"records":${body}}}} trailing`,
      `{"jsonrpc":"2.0","id":1,"params":{"input":{"records":${body.slice(0, -1)}`,
    ]) {
      expect(() => JSON.parse(bad)).toThrow(SyntaxError);
      expect(() => parseFrame(bad, FIELDS)).toThrow(SyntaxError);
    }
  });

  it('reports a syntax error inside the array when its batch is parsed, as -32700 naming the elements', () => {
    const records = hostileRecords(3000);
    const body = JSON.stringify(records);
    // Break element 2500 (batch 2): `"id":2500` → `"id":25 00`.
    const broken = body.replace('"id":2500,', '"id":25 00,');
    const input = inputOf(
      parseFrame(frame({ records: 'placeholder' }).replace('"placeholder"', broken), FIELDS),
    );
    const deferred = input.records as DeferredJsonArray;
    expect(deferred.parseBatch(0)).toEqual(records.slice(0, 1024));
    expect(deferred.parseBatch(1)).toEqual(records.slice(1024, 2048));
    let error: unknown;
    try {
      deferred.parseBatch(2);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe(-32700);
    expect((error as RpcError).message).toMatch(
      /^Parse error: input\.records\[2048…2999\] is not valid JSON/,
    );
    expect((error as RpcError).data).toMatchObject({
      field: 'input.records',
      from: 2048,
      to: 2999,
    });
  });

  it('survives a fuzz of random JSON arrays', () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const chars = ['"', '\\', '[', ']', '{', '}', ',', ':', ' ', 'a', 'é', '\u2028', '\u0000'];
    const value = (depth: number): unknown => {
      const r = random();
      if (depth > 3 || r < 0.3)
        return Array.from(
          { length: Math.floor(random() * 6) },
          () => chars[Math.floor(random() * chars.length)],
        ).join('');
      if (r < 0.45) return Math.round(random() * 1e6) / 100 - 5000;
      if (r < 0.5) return random() < 0.5 ? null : random() < 0.5;
      if (r < 0.75) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(random() * 4) }, () => [
          String(value(5)),
          value(depth + 1),
        ]),
      );
    };
    for (let round = 0; round < 5; round++) {
      const records = Array.from({ length: 6000 + Math.floor(random() * 3000) }, () => value(0));
      const text = frame({ pad: 'p'.repeat(LAZY_FRAME_MIN_CHARS), records });
      const input = inputOf(parseFrame(text, FIELDS));
      expect(input.records).toBeInstanceOf(DeferredJsonArray);
      expect((input.records as DeferredJsonArray).parseAll()).toEqual(records);
    }
  });
});

describe('lazyArray', () => {
  const items = lazyArray(jsonObject(), { message: 'expected a row' }).describe('Rows');
  const schema = z.strictObject({ records: items, table: z.string() });

  it('is found by lazyFieldsOf through describe(), and publishes an array schema', () => {
    expect(isLazyArraySchema(items)).toBe(true);
    expect(isLazyArraySchema(z.array(z.number()))).toBe(false);
    expect([...lazyFieldsOf(schema)]).toEqual(['records']);
    expect(z.toJSONSchema(schema, { unrepresentable: 'any' }).properties).toMatchObject({
      records: { type: 'array', items: { type: 'object' }, description: 'Rows' },
    });
  });

  it('wraps parsed arrays without copying and validates them eagerly with a path', () => {
    const rows = [{ a: 1 }, { a: 2 }];
    const ok = schema.parse({ records: rows, table: 't' });
    expect(ok.records).toBeInstanceOf(LazyArray);
    expect(ok.records.deferred).toBe(false);
    expect(ok.records.toArray()).toBe(rows);
    expect(ok.records.at(1)).toEqual({ a: 2 });
    const bad = schema.safeParse({ records: [{}, 3], table: 't' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]).toMatchObject({ path: ['records', 1], message: 'expected a row' });
    expect(schema.safeParse({ records: 'no', table: 't' }).success).toBe(false);
  });

  it('parses and validates deferred arrays batch by batch, naming the first invalid element', () => {
    const rows: unknown[] = Array.from({ length: 3000 }, (_, i) => ({
      id: i,
      pad: 'x'.repeat(30),
    }));
    rows[2100] = [2100];
    const text = frame({ table: 't'.repeat(LAZY_FRAME_MIN_CHARS), records: rows });
    const parsed = schema.parse(inputOf(parseFrame(text, FIELDS)));
    const records = parsed.records;
    expect(records.deferred).toBe(true);
    expect(records.length).toBe(3000);
    expect(records.at(5)).toEqual({ id: 5, pad: 'x'.repeat(30) });
    expect(records.at(2047)).toEqual(rows[2047]);
    expect(records.at(3000)).toBeUndefined();
    expect(() => records.at(2048)).toThrow(InvalidInputError);
    expect(() => records.at(2048)).toThrow('input.records[2100]: expected a row');
    expect(() => records.toArray()).toThrow(/input\.records\[2100\]/);
  });

  it('validates items with their zod schema when it has no fast guard, and bounds the length', () => {
    const numbers = z.object({ values: lazyArray(z.number().int(), { maxItems: 9500 }) });
    const fields = new Set(['values']);
    const pad = 'p'.repeat(LAZY_FRAME_MIN_CHARS);
    const values: unknown[] = Array.from({ length: 9000 }, (_, i) => i * 1_000_003);
    const deferred = numbers.parse(inputOf(parseFrame(frame({ pad, values }), fields)));
    expect(deferred.values.deferred).toBe(true);
    const sum = [...deferred.values].reduce((a: number, b) => a + b, 0);
    expect(sum).toBe((values as number[]).reduce((a, b) => a + b, 0));
    values[10] = 1.5;
    const bad = numbers.parse(inputOf(parseFrame(frame({ pad, values }), fields)));
    expect(() => bad.values.at(0)).toThrow(/input\.values\[10\]: .*expected int/);
    const tooMany = Array.from({ length: 9600 }, () => 1_234_567);
    const refused = numbers.safeParse(inputOf(parseFrame(frame({ pad, values: tooMany }), fields)));
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toBe('expected at most 9500 items, got 9600');
  });
});
