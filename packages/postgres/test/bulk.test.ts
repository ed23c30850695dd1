import type { TestKit } from '@stepflow-packs/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closePools } from '../src/index.js';
import { kitFor, rpcError } from './support/kit.js';
import { createDatabase, sql } from './support/pg.js';

let db: Awaited<ReturnType<typeof createDatabase>>;
let kit: TestKit;

interface BulkOutput {
  success: boolean;
  records_processed: number;
  batches_processed: number;
  rows_inserted?: number;
  rows_updated?: number;
  duplicate_records?: number;
  error_message?: string;
  error_code?: number;
  sqlstate?: string;
  record_index?: number;
  column?: string;
  commit_state?: string;
  retryable?: boolean;
}

const insert = (input: Record<string, unknown>) => kit.execute<BulkOutput>('bulk_insert', input);
const count = async (table: string) =>
  (await sql<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM ${table}`))[0]!.n;

beforeAll(async () => {
  db = await createDatabase('bulk');
  kit = kitFor(db.url);
  await sql(db.url, 'CREATE SCHEMA "Sales"');
});

beforeEach(async () => {
  await sql(
    db.url,
    `DROP TABLE IF EXISTS people, typed, "Sales"."Orders", ident;
     CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL, email text UNIQUE, visits int DEFAULT 0, note text);
     CREATE TABLE typed (id int PRIMARY KEY, doc json, docb jsonb, tags text[], grid int[], nums numeric, f float8,
       at timestamptz, local timestamp, day date, ok boolean, uid uuid, big bigint, docs jsonb[]);
     CREATE TABLE "Sales"."Orders" ("OrderId" int PRIMARY KEY, "Total" numeric);
     CREATE TABLE ident (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text, doubled int GENERATED ALWAYS AS (length(name) * 2) STORED)`,
  );
});

afterAll(async () => {
  await closePools();
  await db.drop();
});

describe('bulk_insert', () => {
  it('writes every record in one COPY transaction and counts batches of batch_size', async () => {
    const records = Array.from({ length: 2500 }, (_, i) => ({
      id: i,
      name: `n${i}`,
      email: `u${i}@x.io`,
    }));
    const out = await insert({ table_name: 'people', records, batch_size: 1000 });
    expect(out).toMatchObject({
      success: true,
      records_processed: 2500,
      batches_processed: 3,
      commit_state: 'committed',
    });
    expect(await count('people')).toBe(2500);
  });

  it('converts JSON/JSONB, arrays, timestamps, numerics, booleans and nulls correctly', async () => {
    const record = {
      id: 1,
      doc: { a: [1, 'two', null], nested: { ok: true } },
      docb: ['x', { y: 1 }],
      tags: ['plain', 'with "quotes"', 'back\\slash', 'tab\there', null, ''],
      grid: [
        [1, 2],
        [3, 4],
      ],
      nums: '123456789012345678901234567890.123456789',
      f: 1.5e-7,
      at: '2024-02-29T23:59:59.999999+01:00',
      local: '2024-02-29 12:00:00.5',
      day: '2024-02-29',
      ok: false,
      uid: '123e4567-e89b-12d3-a456-426614174000',
      big: '9223372036854775807',
      docs: [{ a: 1 }, [2]],
    };
    const out = await insert({
      table_name: 'typed',
      records: [record, { id: 2, doc: 'a string', docb: null, tags: [] }],
    });
    expect(out.error_message).toBeUndefined();
    const rows = await kit.execute<{ rows: Record<string, unknown>[] }>('database_query', {
      query: 'SELECT * FROM typed ORDER BY id',
    });
    expect(rows.rows[0]).toEqual({
      ...record,
      docb: ['x', { y: 1 }],
      at: '2024-02-29T22:59:59.999999Z',
      local: '2024-02-29T12:00:00.5',
    });
    expect(rows.rows[1]).toMatchObject({
      doc: 'a string',
      docb: null,
      tags: [],
      nums: null,
      at: null,
    });
    const types = await sql<{ t: string; s: string }>(
      db.url,
      "SELECT jsonb_typeof(docb) AS t, docb #>> '{1,y}' AS s FROM typed WHERE id = 1",
    );
    expect(types[0]).toEqual({ t: 'array', s: '1' });
  });

  it('uses the union of record keys as the column set; a missing key takes the column default', async () => {
    const out = await insert({
      table_name: 'people',
      records: [
        { id: 1, name: 'a' },
        { id: 2, name: 'b', email: 'b@x' },
        { note: 'n', id: 3, name: 'c' },
      ],
    });
    expect(out.success).toBe(true);
    const rows = await sql(db.url, 'SELECT id, email, note, visits FROM people ORDER BY id');
    expect(rows).toEqual([
      { id: 1, email: null, note: null, visits: 0 },
      { id: 2, email: 'b@x', note: null, visits: 0 },
      { id: 3, email: null, note: 'n', visits: 0 },
    ]);
    expect(out.records_processed).toBe(3);
  });

  it('writes an explicit null as NULL but a missing key as the DEFAULT, keeping record order', async () => {
    const out = await insert({
      table_name: 'people',
      records: [
        { id: 1, name: 'a', visits: 5 },
        { id: 2, name: 'b' },
        { id: 3, name: 'c', visits: null },
        { id: 4, name: 'd' },
      ],
    });
    expect(out.success).toBe(true);
    expect(await sql(db.url, 'SELECT id, visits FROM people ORDER BY ctid')).toEqual([
      { id: 1, visits: 5 },
      { id: 2, visits: 0 },
      { id: 3, visits: null },
      { id: 4, visits: 0 },
    ]);
  });

  it('reads keys named like Object.prototype members only when the record has them', async () => {
    await sql(
      db.url,
      `CREATE TABLE protokeys (id int, "constructor" text DEFAULT 'dflt', "__proto__" text, "toString" text)`,
    );
    try {
      const records = JSON.parse(
        '[{"id": 1, "constructor": "c", "__proto__": "p", "toString": "t"}, {"id": 2}]',
      ) as unknown[];
      expect((await insert({ table_name: 'protokeys', records })).success).toBe(true);
      const rows = await sql(db.url, 'SELECT * FROM protokeys ORDER BY id');
      expect(JSON.stringify(rows)).toBe(
        '[{"id":1,"constructor":"c","__proto__":"p","toString":"t"},' +
          '{"id":2,"constructor":"dflt","__proto__":null,"toString":null}]',
      );
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    } finally {
      await sql(db.url, 'DROP TABLE protokeys');
    }
  });

  it('is all-or-nothing: a bad value in the last batch commits 0 rows and names records[i].column and SQLSTATE', async () => {
    const records: Record<string, unknown>[] = Array.from({ length: 3000 }, (_, i) => ({
      id: i,
      name: `n${i}`,
      visits: i,
    }));
    records[2999] = { id: 2999, name: 'bad', visits: 'many' };
    const out = await insert({ table_name: 'people', records, batch_size: 500 });
    expect(out).toMatchObject({
      success: false,
      records_processed: 0,
      error_code: -32101,
      sqlstate: '22P02',
      record_index: 2999,
      column: 'visits',
      commit_state: 'rolled_back',
      retryable: false,
    });
    expect(out.error_message).toContain('records[2999].visits');
    expect(await count('people')).toBe(0);
  });

  it('reports NOT NULL and duplicate-key violations with the record index', async () => {
    const nulls = await insert({
      table_name: 'people',
      records: [{ id: 1, name: 'a' }, { id: 2 }],
    });
    expect(nulls).toMatchObject({
      success: false,
      sqlstate: '23502',
      record_index: 1,
      column: 'name',
    });
    const dup = await insert({
      table_name: 'people',
      records: [
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
        { id: 1, name: 'c' },
      ],
    });
    expect(dup).toMatchObject({
      success: false,
      sqlstate: '23505',
      record_index: 2,
      error_code: -32101,
    });
    expect(await count('people')).toBe(0);
  });

  it('raises -32101 with data.sqlstate, data.record and data.column when raise_on_failure is set', async () => {
    const err = await rpcError(kit, 'bulk_insert', {
      table_name: 'people',
      records: [{ id: 'x', name: 'a' }],
      raise_on_failure: true,
    });
    expect(err.code).toBe(-32101);
    expect(err.data).toMatchObject({
      sqlstate: '22P02',
      record: 0,
      column: 'id',
      commitState: 'rolled_back',
    });
  });

  it('writes to schema-qualified, mixed-case tables through quoted names only', async () => {
    const out = await insert({
      table_name: '"Sales"."Orders"',
      records: [{ OrderId: 1, Total: 9.5 }],
    });
    expect(out.success).toBe(true);
    expect(await sql(db.url, 'SELECT * FROM "Sales"."Orders"')).toEqual([
      { OrderId: 1, Total: '9.5' },
    ]);
    const folded = await rpcError(kit, 'bulk_insert', {
      table_name: 'Sales.Orders',
      records: [{ OrderId: 2 }],
    });
    expect(folded.data).toMatchObject({ reason: 'unknown_table', identifier: 'sales.orders' });
  });

  it('refuses unknown tables, unknown columns, generated columns and 64-byte names with -32103 before writing', async () => {
    expect(
      (await rpcError(kit, 'bulk_insert', { table_name: 'nope', records: [{ a: 1 }] })).data,
    ).toMatchObject({
      reason: 'unknown_table',
      identifier: 'nope',
    });
    const col = await rpcError(kit, 'bulk_insert', {
      table_name: 'people',
      records: [
        { id: 1, name: 'a' },
        { id: 2, 'name ': 'b' },
      ],
    });
    expect(col.code).toBe(-32103);
    expect(col.data).toMatchObject({ reason: 'unknown_column', identifier: 'name ' });
    const generated = await rpcError(kit, 'bulk_insert', {
      table_name: 'ident',
      records: [{ name: 'a', doubled: 2 }],
    });
    expect(generated.data).toMatchObject({ reason: 'generated_column', identifier: 'doubled' });
    const long = await rpcError(kit, 'bulk_insert', {
      table_name: 'people',
      records: [{ ['c'.repeat(64)]: 1 }],
    });
    expect(long.data).toMatchObject({ reason: 'identifier_too_long', limit: 63, actual: 64 });
    expect(await count('people')).toBe(0);
  });

  it('fills identity columns by default and computes generated ones', async () => {
    const out = await insert({ table_name: 'ident', records: [{ name: 'ab' }, { name: 'abc' }] });
    expect(out.success).toBe(true);
    expect(await sql(db.url, 'SELECT id, doubled FROM ident ORDER BY id')).toEqual([
      { id: 1, doubled: 4 },
      { id: 2, doubled: 6 },
    ]);
  });

  it('succeeds with no records without writing anything', async () => {
    const out = await insert({ table_name: 'people', records: [] });
    expect(out).toMatchObject({
      success: true,
      records_processed: 0,
      batches_processed: 0,
      commit_state: 'none',
    });
  });

  it('answers -32003 naming the record when a record is not an object', async () => {
    const err = await rpcError(kit, 'bulk_insert', {
      table_name: 'people',
      records: [{ id: 1 }, 5],
    });
    expect(err.code).toBe(-32003);
    expect(err.message).toContain('records[1]');
  });
});

describe('upserts (bulk_insert with upsert_key, bulk_upsert)', () => {
  it('updates existing rows and inserts new ones, counting each', async () => {
    await insert({
      table_name: 'people',
      records: [
        { id: 1, name: 'old', visits: 1 },
        { id: 2, name: 'keep', visits: 2 },
      ],
    });
    const out = await kit.execute<BulkOutput>('bulk_upsert', {
      table_name: 'people',
      upsert_key: ['id'],
      records: [
        { id: 1, name: 'new', visits: 10 },
        { id: 3, name: 'three', visits: 3 },
      ],
    });
    expect(out).toMatchObject({
      success: true,
      records_processed: 2,
      rows_inserted: 1,
      rows_updated: 1,
      duplicate_records: 0,
    });
    expect(await sql(db.url, 'SELECT id, name, visits FROM people ORDER BY id')).toEqual([
      { id: 1, name: 'new', visits: 10 },
      { id: 2, name: 'keep', visits: 2 },
      { id: 3, name: 'three', visits: 3 },
    ]);
  });

  it('lets the last record win when one call repeats a key, reporting duplicate_records', async () => {
    const out = await insert({
      table_name: 'people',
      upsert_key: ['id'],
      records: [
        { id: 1, name: 'first' },
        { id: 2, name: 'two' },
        { id: 1, name: 'second' },
        { id: 1, name: 'last' },
      ],
    });
    expect(out).toMatchObject({
      success: true,
      records_processed: 4,
      rows_inserted: 2,
      rows_updated: 0,
      duplicate_records: 2,
    });
    expect(await sql(db.url, 'SELECT id, name FROM people ORDER BY id')).toEqual([
      { id: 1, name: 'last' },
      { id: 2, name: 'two' },
    ]);
  });

  it('fails with -32101 cardinality_violation when keys differ in JSON but are equal in PostgreSQL (1 vs "1")', async () => {
    const out = await insert({
      table_name: 'people',
      upsert_key: ['id'],
      records: [
        { id: 1, name: 'a' },
        { id: '1', name: 'b' },
      ],
    });
    expect(out).toMatchObject({
      success: false,
      sqlstate: '21000',
      error_code: -32101,
      commit_state: 'rolled_back',
    });
    expect(await count('people')).toBe(0);
  });

  it('updates only the columns a record has: a missing key keeps the stored value (or the default for new rows)', async () => {
    await insert({
      table_name: 'people',
      records: [{ id: 1, name: 'a', email: 'a@x', visits: 7, note: 'keep' }],
    });
    const out = await kit.execute<BulkOutput>('bulk_upsert', {
      table_name: 'people',
      upsert_key: ['id'],
      records: [
        { id: 1, name: 'A' },
        { id: 2, name: 'b', note: 'new' },
      ],
    });
    expect(out).toMatchObject({ success: true, rows_inserted: 1, rows_updated: 1 });
    expect(
      await sql(db.url, 'SELECT id, name, email, visits, note FROM people ORDER BY id'),
    ).toEqual([
      { id: 1, name: 'A', email: 'a@x', visits: 7, note: 'keep' },
      { id: 2, name: 'b', email: null, visits: 0, note: 'new' },
    ]);
  });

  it('refuses records that lack part of the upsert key with -32103 naming the record', async () => {
    const err = await rpcError(kit, 'bulk_upsert', {
      table_name: 'people',
      upsert_key: ['id'],
      records: [{ id: 1, name: 'a' }, { name: 'b' }],
    });
    expect(err.code).toBe(-32103);
    expect(err.data).toMatchObject({ reason: 'invalid_upsert_key', identifier: 'id', record: 1 });
  });

  it('does nothing on conflict when the records only contain the key', async () => {
    await insert({ table_name: '"Sales"."Orders"', records: [{ OrderId: 1, Total: 5 }] });
    const out = await insert({
      table_name: '"Sales"."Orders"',
      upsert_key: ['OrderId'],
      records: [{ OrderId: 1 }, { OrderId: 2 }],
    });
    expect(out).toMatchObject({ success: true, rows_inserted: 1, rows_updated: 0 });
    expect(await sql(db.url, 'SELECT * FROM "Sales"."Orders" ORDER BY 1')).toEqual([
      { OrderId: 1, Total: '5' },
      { OrderId: 2, Total: null },
    ]);
  });

  it('maps a type error in an upsert to the original record index despite skipped duplicates', async () => {
    const out = await insert({
      table_name: 'people',
      upsert_key: ['id'],
      records: [
        { id: 1, name: 'a' },
        { id: 1, name: 'b' },
        { id: 2, name: 'c', visits: 'x' },
      ],
    });
    expect(out).toMatchObject({
      success: false,
      sqlstate: '22P02',
      record_index: 2,
      column: 'visits',
    });
  });

  it('refuses an upsert_key without a matching unique index, or not among the record keys, with -32103', async () => {
    const noIndex = await rpcError(kit, 'bulk_upsert', {
      table_name: 'people',
      upsert_key: ['name'],
      records: [{ id: 1, name: 'a' }],
    });
    expect(noIndex.code).toBe(-32103);
    expect(noIndex.data).toMatchObject({ reason: 'no_unique_constraint' });
    const missing = await rpcError(kit, 'bulk_upsert', {
      table_name: 'people',
      upsert_key: ['email'],
      records: [{ id: 1, name: 'a' }],
    });
    expect(missing.data).toMatchObject({ reason: 'invalid_upsert_key', identifier: 'email' });
    expect((await rpcError(kit, 'bulk_upsert', { table_name: 'people', records: [] })).code).toBe(
      -32003,
    );
  });

  it('upserts into GENERATED ALWAYS identity columns with explicit ids', async () => {
    const out = await kit.execute<BulkOutput>('bulk_upsert', {
      table_name: 'ident',
      upsert_key: ['id'],
      records: [{ id: 7, name: 'x' }],
    });
    expect(out.success).toBe(true);
    expect(await sql(db.url, 'SELECT id, name FROM ident')).toEqual([{ id: 7, name: 'x' }]);
  });
});
