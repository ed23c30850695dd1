import type { TestKit } from '@stepflow-packs/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closePools } from '../src/index.js';
import { kitFor, rpcError } from './support/kit.js';
import { createDatabase, sql } from './support/pg.js';

let db: Awaited<ReturnType<typeof createDatabase>>;
let kit: TestKit;

interface CopyOutput {
  success: boolean;
  format: string;
  row_count: number;
  columns: string[];
  data?: string;
  records?: Record<string, unknown>[];
  blob_id?: string;
  sqlstate?: string;
  error_code?: number;
}

beforeAll(async () => {
  db = await createDatabase('copyout');
  kit = kitFor(db.url);
  await sql(
    db.url,
    `CREATE TABLE t (id int, name text, tags text[], doc jsonb, at timestamptz, ok boolean);
     INSERT INTO t VALUES (1, 'plain', '{a,b}', '{"k": 1}', '2024-01-01 00:00:00+00', true),
       (2, 'comma, "quote"', NULL, NULL, NULL, false), (3, '', '{}', '[]', NULL, NULL), (4, ' padded ', NULL, NULL, NULL, NULL)`,
  );
});

afterAll(async () => {
  await closePools();
  await db.drop();
});

describe('copy_out', () => {
  it('exports CSV exactly like COPY … CSV HEADER (NULL empty, empty string quoted)', async () => {
    const out = await kit.execute<CopyOutput>('copy_out', {
      query: 'SELECT * FROM t ORDER BY id',
      format: 'csv',
    });
    expect(out.row_count).toBe(4);
    expect(out.columns).toEqual(['id', 'name', 'tags', 'doc', 'at', 'ok']);
    expect(out.data).toBe(
      'id,name,tags,doc,at,ok\n' +
        '1,plain,"{a,b}","{""k"": 1}",2024-01-01 00:00:00+00,t\n' +
        '2,"comma, ""quote""",,,,f\n' +
        '3,"",{},[],,\n' +
        '4," padded ",,,,\n',
    );
  });

  it('exports JSON records with the same conversions as database_query', async () => {
    const out = await kit.execute<CopyOutput>('copy_out', {
      query: 'SELECT id, tags, doc, at FROM t WHERE id = $1',
      parameters: [1],
    });
    expect(out.records).toEqual([
      { id: 1, tags: ['a', 'b'], doc: { k: 1 }, at: '2024-01-01T00:00:00Z' },
    ]);
  });

  it('streams through the cursor in fetch_size chunks and keeps every row in order', async () => {
    const out = await kit.execute<CopyOutput>('copy_out', {
      query: 'SELECT g FROM generate_series(1, 2345) g ORDER BY g',
      format: 'csv',
      header: false,
      fetch_size: 100,
    });
    expect(out.row_count).toBe(2345);
    const lines = out.data!.trimEnd().split('\n');
    expect(lines).toHaveLength(2345);
    expect(lines[0]).toBe('1');
    expect(lines[2344]).toBe('2345');
  });

  it('stores the export in the blob store when to_blob is set', async () => {
    const out = await kit.execute<CopyOutput>('copy_out', {
      query: 'SELECT id FROM t ORDER BY id',
      to_blob: true,
    });
    expect(out.data).toBeUndefined();
    expect(out.records).toBeUndefined();
    expect(await kit.blobs.get(out.blob_id!)).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }]);
    const csv = await kit.execute<CopyOutput>('copy_out', {
      query: 'SELECT id FROM t WHERE id < 3 ORDER BY id',
      format: 'csv',
      to_blob: true,
    });
    expect(await kit.blobs.get(csv.blob_id!)).toBe('id\n1\n2\n');
  });

  it('runs read-only: a writing query fails and changes nothing', async () => {
    await sql(db.url, 'CREATE SEQUENCE IF NOT EXISTS s');
    const out = await kit.execute<CopyOutput>('copy_out', { query: "SELECT nextval('s')" });
    expect(out.success).toBe(false);
    expect(out.sqlstate).toBe('25006');
    const writes = await kit.execute<CopyOutput>('copy_out', {
      query: 'DELETE FROM t RETURNING id',
    });
    expect(writes.success).toBe(false);
    expect((await sql<{ n: number }>(db.url, 'SELECT count(*)::int AS n FROM t'))[0]!.n).toBe(4);
  });

  it('refuses exports over max_rows with -32103', async () => {
    const small = kitFor(db.url, { maxRows: 3 });
    const err = await rpcError(small, 'copy_out', { query: 'SELECT * FROM t', fetch_size: 2 });
    expect(err.code).toBe(-32103);
    expect(err.data).toMatchObject({ reason: 'row_limit', limit: 3 });
  });
});
