import { describe, expect, it } from 'vitest';
import { analyseShapes, bulkInput, columnUnion, supersededRecords } from '../src/bulk.js';
import { leadingKeyword } from '../src/components/transaction.js';
import { arrayLiteral, encoderFor, escapeCopy, parameterValue } from '../src/copy-format.js';
import type { ColumnInfo } from '../src/identifiers.js';
import { redact } from '../src/redact.js';
import { isoTimestamp } from '../src/types.js';

const column = (
  kind: ColumnInfo['kind'],
  elementKind: ColumnInfo['kind'] = 'scalar',
): ColumnInfo => ({
  name: 'c',
  type: 't',
  baseOid: 25,
  kind,
  elementKind,
  notNull: false,
  hasDefault: false,
  generated: '',
});

describe('COPY text encoding', () => {
  it('escapes backslash, newline, carriage return and tab', () => {
    expect(escapeCopy('plain')).toBe('plain');
    expect(escapeCopy('a\\b\nc\rd\te')).toBe('a\\\\b\\nc\\rd\\te');
  });

  it('writes NULL for null and missing values in every kind of column', () => {
    for (const kind of ['json', 'array', 'bool', 'scalar'] as const) {
      expect(encoderFor(column(kind))(null)).toBe('\\N');
      expect(encoderFor(column(kind))(undefined)).toBe('\\N');
    }
  });

  it('stringifies json/jsonb values explicitly, so strings and arrays stay JSON', () => {
    const json = encoderFor(column('json'));
    expect(json({ a: [1, 'x\ty'] })).toBe('{"a":[1,"x\\\\ty"]}');
    expect(json([1, 2])).toBe('[1,2]');
    expect(json('text')).toBe('"text"');
    expect(json(false)).toBe('false');
  });

  it('builds array literals with quoted elements, NULLs and nesting', () => {
    expect(arrayLiteral(['a', 'b"c', 'd\\e', null], 'scalar')).toBe('{"a","b\\"c","d\\\\e",NULL}');
    expect(
      arrayLiteral(
        [
          [1, 2],
          [3, 4],
        ],
        'scalar',
      ),
    ).toBe('{{"1","2"},{"3","4"}}');
    expect(arrayLiteral([{ a: 1 }], 'json')).toBe('{"{\\"a\\":1}"}');
    expect(encoderFor(column('array'))(['x\ty'])).toBe('{"x\\ty"}');
    expect(encoderFor(column('array'))('{1,2}')).toBe('{1,2}');
  });

  it('passes scalars through in text form (PostgreSQL parses timestamps, numerics, uuids)', () => {
    const scalar = encoderFor(column('scalar'));
    expect(scalar('2024-01-02T03:04:05.123456Z')).toBe('2024-01-02T03:04:05.123456Z');
    expect(scalar(1.5)).toBe('1.5');
    expect(scalar(true)).toBe('true');
    expect(scalar({ a: 1 })).toBe('{"a":1}');
  });

  it('sends objects as JSON text in bound parameters and keeps scalar arrays for ANY($1)', () => {
    expect(parameterValue({ a: 1 })).toBe('{"a":1}');
    expect(parameterValue([1, 2])).toEqual([1, 2]);
    expect(parameterValue([{ a: 1 }])).toBe('[{"a":1}]');
    expect(parameterValue(null)).toBeNull();
    expect(parameterValue('x')).toBe('x');
  });
});

describe('record shapes', () => {
  it('takes the union of record keys in first-seen order', () => {
    expect(columnUnion([{ a: 1, b: 2 }, { a: 1, b: 2 }, { c: 3, a: 1 }, {}])).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(columnUnion([])).toEqual([]);
  });

  it('groups records by key set (order-insensitive) only when there are several', () => {
    expect(analyseShapes([{ a: 1 }, { a: 2 }]).shapeOf).toBeUndefined();
    const mixed = analyseShapes([{ a: 1, b: 1 }, { b: 2, a: 2 }, { a: 3 }, { c: 1, a: 1 }]);
    expect(mixed.columns).toEqual(['a', 'b', 'c']);
    expect(mixed.shapes).toEqual([['a', 'b'], ['a'], ['a', 'c']]);
    expect([...mixed.shapeOf!]).toEqual([0, 0, 1, 2]);
  });

  it('sees own keys only: a record with inherited enumerable keys or a polluted Object.prototype is its own shape', () => {
    const inherited = Object.create({ b: 2 }) as Record<string, unknown>;
    inherited.a = 1;
    const withInherited = analyseShapes([{ a: 1, b: 1 }, inherited]);
    expect(withInherited.shapes).toEqual([['a', 'b'], ['a']]);
    expect([...withInherited.shapeOf!]).toEqual([0, 1]);
    const proto = Object.prototype as Record<string, unknown>;
    proto.b = 'polluted';
    try {
      const polluted = analyseShapes([{ a: 1, b: 1 }, { a: 2 }]);
      expect(polluted.shapes).toEqual([['a', 'b'], ['a']]);
      expect([...polluted.shapeOf!]).toEqual([0, 1]);
    } finally {
      delete proto.b;
    }
  });

  it('keeps __proto__ keys as ordinary column names', () => {
    const records = JSON.parse('[{"__proto__": 1, "a": 2}]') as Record<string, unknown>[];
    expect(columnUnion(records)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('marks earlier records superseded by a later one with the same upsert key (last wins)', () => {
    const records = [{ id: 1 }, { id: 2 }, { id: 1 }, { id: '1' }, { id: 1 }];
    expect([...(supersededRecords(records, ['id']) ?? [])].sort()).toEqual([0, 2]);
    expect(supersededRecords([{ id: 1 }, { id: 2 }], ['id'])).toBeUndefined();
    const pairs = [
      { a: 1, b: 'x' },
      { a: 1, b: 'y' },
      { a: 1, b: 'x' },
    ];
    expect([...(supersededRecords(pairs, ['a', 'b']) ?? [])]).toEqual([0]);
  });
});

describe('records validation', () => {
  const records = (value: unknown) => bulkInput.safeParse({ table_name: 't', records: value });

  it('passes the records array through as given (no copy of 100,000 records)', () => {
    const many = Array.from({ length: 100_000 }, (_, i) => ({ id: i }));
    const parsed = records(many);
    expect(parsed.success && parsed.data.records.toArray()).toBe(many);
  });

  it('names the first record that is not an object, and refuses a non-array', () => {
    for (const [value, path] of [
      [
        [{ a: 1 }, null, 5],
        ['records', 1],
      ],
      [[[1]], ['records', 0]],
      ['rows', ['records']],
      [undefined, ['records']],
    ] as const) {
      const parsed = records(value);
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((issue) => issue.path)).toEqual([path]);
    }
  });
});

describe('text helpers', () => {
  it('redacts URL userinfo, password keywords and literal secrets (also URL-encoded)', () => {
    expect(redact('failed for postgres://u:s3cr%40t@h/db')).toBe('failed for postgres://***@h/db');
    expect(redact("host=h password='x y' user=u")).toBe('host=h password=*** user=u');
    expect(redact('got s3cr@t and s3cr%40t here', ['s3cr@t'])).toBe('got *** and *** here');
  });

  it('prints timestamps as ISO-8601 with full precision', () => {
    expect(isoTimestamp('2024-01-02 03:04:05.123456+00')).toBe('2024-01-02T03:04:05.123456Z');
    expect(isoTimestamp('2024-01-02 03:04:05')).toBe('2024-01-02T03:04:05');
    expect(isoTimestamp('2024-01-02 03:04:05+05:30')).toBe('2024-01-02T03:04:05+05:30');
    expect(isoTimestamp('2024-01-02 03:04:05-08')).toBe('2024-01-02T03:04:05-08:00');
    expect(isoTimestamp('infinity')).toBe('infinity');
  });

  it('finds the leading keyword of a statement after comments', () => {
    expect(leadingKeyword('  -- c\n /* x */ COMMIT')).toBe('commit');
    expect(leadingKeyword('select 1')).toBe('select');
    expect(leadingKeyword('/* unterminated')).toBe('');
  });
});
