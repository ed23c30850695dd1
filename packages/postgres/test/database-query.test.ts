import type { TestKit } from '@stepflow-packs/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closePools } from '../src/index.js';
import { kitFor, rpcError } from './support/kit.js';
import { createDatabase, sql } from './support/pg.js';

let db: Awaited<ReturnType<typeof createDatabase>>;
let kit: TestKit;

beforeAll(async () => {
  db = await createDatabase('query');
  kit = kitFor(db.url);
  await sql(
    db.url,
    `CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2), big bigint, tags text[], meta jsonb,
    at timestamptz, day date, raw bytea, span interval, flag boolean)`,
  );
  await sql(
    db.url,
    `INSERT INTO items VALUES (1, 'one', 9.99, 9007199254740993, '{a,b}', '{"k": [1, 2]}', '2024-05-06 07:08:09.123456+00',
    '2024-05-06', '\\x0102', '1 day 02:00:00', true), (2, 'two', NULL, 42, NULL, NULL, NULL, NULL, NULL, NULL, false)`,
  );
});

afterAll(async () => {
  await closePools();
  await db.drop();
});

interface QueryOutput {
  success: boolean;
  rows?: Record<string, unknown>[];
  row_count: number;
  command?: string;
  error_message?: string;
  error_code?: number;
  sqlstate?: string;
  retryable?: boolean;
}

const query = (input: Record<string, unknown>) => kit.execute<QueryOutput>('database_query', input);

describe('database_query', () => {
  it('returns all rows with values converted to JSON without loss', async () => {
    const out = await query({ query: 'SELECT * FROM items ORDER BY id' });
    expect(out.success).toBe(true);
    expect(out.row_count).toBe(2);
    expect(out.command).toBe('SELECT');
    expect(out.rows![0]).toEqual({
      id: 1,
      name: 'one',
      price: '9.99',
      big: '9007199254740993',
      tags: ['a', 'b'],
      meta: { k: [1, 2] },
      at: '2024-05-06T07:08:09.123456Z',
      day: '2024-05-06',
      raw: '\\x0102',
      span: '1 day 02:00:00',
      flag: true,
    });
    expect(out.rows![1]).toMatchObject({ big: 42, price: null, tags: null });
  });

  it('binds parameters as values: an injection attempt is just a string that matches nothing', async () => {
    const out = await query({
      query: 'SELECT id FROM items WHERE name = $1',
      parameters: ["one' OR '1'='1"],
    });
    expect(out.rows).toEqual([]);
    const tables = await query({
      query: "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'items'",
    });
    expect(tables.rows).toEqual([{ n: 1 }]);
  });

  it('refuses several statements in one query (extended protocol) as a failure', async () => {
    const out = await query({ query: 'SELECT 1; DROP TABLE items' });
    expect(out).toMatchObject({ success: false, sqlstate: '42601', error_code: -32100 });
    expect((await query({ query: 'SELECT count(*) AS n FROM items' })).rows).toEqual([{ n: 2 }]);
  });

  it('passes arrays for = ANY($1) and objects as JSON text', async () => {
    const out = await query({
      query: 'SELECT id FROM items WHERE id = ANY($1::int[]) ORDER BY id',
      parameters: [[1, 2]],
    });
    expect(out.rows).toEqual([{ id: 1 }, { id: 2 }]);
    const json = await query({
      query: "SELECT $1::jsonb -> 'a' AS a",
      parameters: [{ a: { b: true } }],
    });
    expect(json.rows).toEqual([{ a: { b: true } }]);
  });

  it('fetch_mode one returns only the first row and none returns the affected row count', async () => {
    expect(
      (await query({ query: 'SELECT id FROM items ORDER BY id', fetch_mode: 'one' })).rows,
    ).toEqual([{ id: 1 }]);
    const none = await query({
      query: 'UPDATE items SET flag = flag WHERE id > $1',
      parameters: [0],
      fetch_mode: 'none',
    });
    expect(none).toMatchObject({ success: true, row_count: 2, command: 'UPDATE' });
    expect(none.rows).toBeUndefined();
  });

  it('reports SQL errors as data by default and as JSON-RPC errors with raise_on_failure', async () => {
    const out = await query({ query: 'SELECT 1/0' });
    expect(out).toMatchObject({
      success: false,
      sqlstate: '22012',
      error_code: -32101,
      retryable: false,
      row_count: 0,
    });
    expect(out.error_message).toContain('division by zero');
    const err = await rpcError(kit, 'database_query', {
      query: 'SELECT 1/0',
      raise_on_failure: true,
    });
    expect(err.code).toBe(-32101);
    expect(err.data).toMatchObject({ sqlstate: '22012', reason: 'data_exception' });
  });

  it('cancels on the server at the timeout: 57014, -32102 retryable, and the pool stays usable', async () => {
    const started = Date.now();
    const err = await rpcError(kit, 'database_query', {
      query: 'SELECT pg_sleep(10)',
      timeout: 0.3,
      raise_on_failure: true,
    });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(err.code).toBe(-32102);
    expect(err.data).toMatchObject({
      sqlstate: '57014',
      retryable: true,
      reason: 'statement_timeout',
    });
    expect((await query({ query: 'SELECT 1 AS ok' })).rows).toEqual([{ ok: 1 }]);
  });

  it('refuses results over max_rows with -32103 row_limit', async () => {
    const small = kitFor(db.url, { maxRows: 5 });
    const err = await rpcError(small, 'database_query', {
      query: 'SELECT g FROM generate_series(1, 6) g',
    });
    expect(err.code).toBe(-32103);
    expect(err.data).toMatchObject({ reason: 'row_limit', limit: 5, actual: 6 });
  });

  it('answers -32003 naming the field for unknown keys and bad fetch modes', async () => {
    expect((await rpcError(kit, 'database_query', { query: 'SELECT 1', sql: 'x' })).code).toBe(
      -32003,
    );
    const bad = await rpcError(kit, 'database_query', { query: 'SELECT 1', fetch_mode: 'many' });
    expect(bad.code).toBe(-32003);
    expect(bad.message).toContain('fetch_mode');
  });

  it('rolls back a transaction a query leaves open, so no session stays idle in transaction', async () => {
    await query({ query: 'BEGIN' });
    const sessions = await sql<{ n: number }>(
      db.url,
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%'",
      [db.name],
    );
    expect(sessions[0]!.n).toBe(0);
  });
});

describe('connection targets', () => {
  it('accepts a per-call connection_string and refuses it when the server disables it', async () => {
    const other = kitFor('postgres://nobody@127.0.0.1:1/none');
    const out = await other.execute<QueryOutput>('database_query', {
      query: 'SELECT 7 AS n',
      connection_string: db.url,
    });
    expect(out.rows).toEqual([{ n: 7 }]);
    const locked = kitFor(db.url, { allowConnectionString: false });
    const err = await rpcError(locked, 'database_query', {
      query: 'SELECT 1',
      connection_string: db.url,
    });
    expect(err.code).toBe(-32103);
    expect(err.data).toMatchObject({
      reason: 'connection_string_disabled',
      field: 'connection_string',
    });
  });

  it('reports an unreachable server as -32102 within the connect timeout', async () => {
    const down = kitFor('postgres://u:p@127.0.0.1:1/db', { connectTimeoutMs: 1000 });
    const started = Date.now();
    const out = await down.execute<QueryOutput>('database_query', { query: 'SELECT 1' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(out).toMatchObject({ success: false, error_code: -32102, retryable: true });
  });
});
