import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, sql } from './support/pg.js';
import { run, startPackWorker, type PackWorker } from './support/worker.js';

let db: Awaited<ReturnType<typeof createDatabase>>;
const workers: PackWorker[] = [];

beforeAll(async () => {
  db = await createDatabase('worker');
  await sql(db.url, 'CREATE TABLE items (id int PRIMARY KEY, name text, doc jsonb)');
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await db.drop();
});

async function worker(dialect: 'v0.8' | 'v0.11', env: Record<string, string> = {}) {
  const w = await startPackWorker({ DATABASE_URL: db.url, ...env }, { dialect });
  workers.push(w);
  return w;
}

describe('the built binary over stdio', () => {
  it('lists its components with input schemas', async () => {
    const { worker: w } = await worker('v0.11');
    const names = (await w.list()).map((c) => c.component).sort();
    expect(names).toEqual([
      '/bulk_insert',
      '/bulk_upsert',
      '/copy_out',
      '/database_query',
      '/health_check',
      '/transaction',
    ]);
    const info = await w.info('/bulk_insert');
    expect(info.input_schema).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['table_name', 'records']),
    });
  });

  it('inserts, upserts, queries and exports to a blob in v0.11 (Blob HTTP API)', async () => {
    const { worker: w, blobs } = await worker('v0.11');
    const inserted = await run(w, '/bulk_insert', {
      table_name: 'items',
      records: [
        { id: 1, name: 'a', doc: { x: 1 } },
        { id: 2, name: 'b' },
      ],
    });
    expect(inserted.output).toMatchObject({ success: true, records_processed: 2 });
    const upserted = await run(w, '/bulk_upsert', {
      table_name: 'items',
      upsert_key: ['id'],
      records: [
        { id: 2, name: 'B' },
        { id: 3, name: 'c' },
      ],
    });
    expect(upserted.output).toMatchObject({ success: true, rows_inserted: 1, rows_updated: 1 });
    const rows = await run(w, '/database_query', {
      query: 'SELECT id, name, doc FROM items ORDER BY id',
    });
    expect(rows.output?.rows).toEqual([
      { id: 1, name: 'a', doc: { x: 1 } },
      { id: 2, name: 'B', doc: null },
      { id: 3, name: 'c', doc: null },
    ]);
    const exported = await run(w, '/copy_out', {
      query: 'SELECT id, name FROM items ORDER BY id',
      format: 'csv',
      to_blob: true,
    });
    expect(exported.ok).toBe(true);
    expect(await blobs.get(exported.output!.blob_id as string)).toBe('id,name\n1,a\n2,B\n3,c\n');
  });

  it('stores blobs through v0.8 callbacks on the same pipe', async () => {
    const { worker: w, blobs } = await worker('v0.8');
    const exported = await run(w, '/copy_out', { query: 'SELECT 1 AS one', to_blob: true });
    expect(exported.ok).toBe(true);
    expect(await blobs.get(exported.output!.blob_id as string)).toEqual([{ one: 1 }]);
  });

  it('answers policy refusals with -32103 and data errors with -32101 over the wire', async () => {
    const { worker: w } = await worker('v0.11');
    const bad = await run(w, '/bulk_insert', { table_name: 'no_such_table', records: [{ id: 1 }] });
    expect(bad.error).toMatchObject({ code: -32103, data: { reason: 'unknown_table' } });
    const dup = await run(w, '/bulk_insert', {
      table_name: 'items',
      records: [{ id: 1 }],
      raise_on_failure: true,
    });
    expect(dup.error).toMatchObject({
      code: -32101,
      data: { sqlstate: '23505', record: 0, commitState: 'rolled_back' },
    });
  });

  it('refuses to start with a DATABASE_URL that is not a postgres URL', async () => {
    await expect(startPackWorker({ DATABASE_URL: 'mysql://x' })).rejects.toThrow();
  });
});

describe('connection defaults', () => {
  it('uses the libpq PG* variables when DATABASE_URL is unset', async () => {
    const url = new URL(db.url);
    const w = await startPackWorker({
      PGHOST: url.hostname,
      PGPORT: url.port,
      PGUSER: decodeURIComponent(url.username),
      PGPASSWORD: decodeURIComponent(url.password),
      PGDATABASE: url.pathname.slice(1),
    });
    workers.push(w);
    const out = await run(w.worker, '/database_query', {
      query: 'SELECT current_database() AS db',
    });
    expect(out.output).toMatchObject({ success: true, rows: [{ db: db.name }] });
    const failing = await run(w.worker, '/database_query', {
      query: 'SELECT 1/0',
      raise_on_failure: true,
    });
    expect(JSON.stringify(failing)).not.toContain(decodeURIComponent(url.password));
  });
});
