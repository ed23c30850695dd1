import type { WorkerClient } from '@stepflow-packs/core/client';
import { startBuiltWorker } from '@stepflow-packs/core/testing';
import { LAZY_FRAME_MIN_CHARS } from '@stepflow-packs/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kitFor } from './support/kit.js';
import { createDatabase, packSessions, sql } from './support/pg.js';
import { binPath, run, startPackWorker, type PackWorker } from './support/worker.js';

/**
 * Large bulk_insert requests over the wire arrive with `records` unparsed and are parsed batch
 * by batch while COPY streams (core lazyArray). These tests drive the built binary with
 * requests well over the deferral threshold and compare every outcome with the same call made
 * in-process (records already parsed), so both paths must agree row for row.
 */
let db: Awaited<ReturnType<typeof createDatabase>>;
let pack: PackWorker;
let http: WorkerClient;
const kit = () => kitFor(db.url);

const COLUMNS =
  "id int PRIMARY KEY, name text NOT NULL DEFAULT 'unnamed', doc jsonb, score float8, created_at timestamptz";

beforeAll(async () => {
  db = await createDatabase('streaming');
  await sql(db.url, `CREATE TABLE wire (${COLUMNS}); CREATE TABLE kit (${COLUMNS})`);
  pack = await startPackWorker({ DATABASE_URL: db.url });
  http = await startBuiltWorker(binPath, 'http-subprocess', {
    env: { DATABASE_URL: db.url },
    dialect: 'v0.11',
    requestTimeoutMs: 60_000,
  });
});

afterAll(async () => {
  await pack?.close();
  await http?.close();
  await db.drop();
});

beforeEach(() => sql(db.url, 'TRUNCATE wire; TRUNCATE kit'));

const tricky = ['a]b', 'c,d', '}{', 'quote " in', 'back\\slash', 'tab\tnew\nline', 'ü ✓ 😀'];
function rows(count: number, shape: (i: number) => Record<string, unknown> = (i) => full(i)) {
  return Array.from({ length: count }, (_, i) => shape(i));
}
const full = (i: number) => ({
  id: i,
  name: `${tricky[i % tricky.length]} ${i}`,
  doc: { i, list: [i, { deep: `]${i}[` }], none: null },
  score: i / 7,
  created_at: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
});

/** Rows of one table missing from the other, both ways (0 when they hold the same rows). */
async function differences(): Promise<number> {
  const [result] = await sql<{ n: number }>(
    db.url,
    `SELECT ((SELECT count(*) FROM (SELECT * FROM wire EXCEPT SELECT * FROM kit) a) +
             (SELECT count(*) FROM (SELECT * FROM kit EXCEPT SELECT * FROM wire) b))::int AS n`,
  );
  return result!.n;
}
const count = async (table: string) =>
  (await sql<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM ${table}`))[0]!.n;

describe('bulk_insert of a large request (records parsed while COPY streams)', () => {
  it('writes the same rows as the in-process call, over stdio and HTTP', async () => {
    const records = rows(6000);
    expect(JSON.stringify(records).length).toBeGreaterThan(LAZY_FRAME_MIN_CHARS);
    const wire = await run(pack.worker, '/bulk_insert', { table_name: 'wire', records });
    expect(wire.output).toMatchObject({
      success: true,
      records_processed: 6000,
      batches_processed: 6,
    });
    await kit().execute('bulk_insert', { table_name: 'kit', records });
    expect(await count('wire')).toBe(6000);
    expect(await differences()).toBe(0);
    await sql(db.url, 'TRUNCATE wire');
    await expect(
      http.execute('/bulk_insert', { table_name: 'wire', records }),
    ).resolves.toMatchObject({ success: true, records_processed: 6000 });
    expect(await differences()).toBe(0);
  });

  it('switches COPY when the record shape changes mid-stream: missing keys take their DEFAULT', async () => {
    const records = rows(6000, (i) => {
      const { id, name, doc } = full(i);
      if (i < 2500) return { id, name };
      if (i < 5000) return { doc, id };
      return i % 2 ? { id, name, doc } : { id };
    });
    const wire = await run(pack.worker, '/bulk_insert', { table_name: 'wire', records });
    expect(wire.output).toMatchObject({ success: true, records_processed: 6000 });
    await kit().execute('bulk_insert', { table_name: 'kit', records });
    expect(await differences()).toBe(0);
    const [sample] = await sql<{ name: string; doc: unknown }>(
      db.url,
      'SELECT name, doc FROM wire WHERE id = 3000',
    );
    expect(sample).toEqual({ name: 'unnamed', doc: full(3000).doc });
  });

  it('fails with -32003 at an invalid record found mid-stream, writes nothing and keeps serving', async () => {
    const records: unknown[] = rows(6000);
    records[4500] = 'not a row';
    const failed = await run(pack.worker, '/bulk_insert', { table_name: 'wire', records });
    expect(failed.error).toMatchObject({
      code: -32003,
      message: 'input.records[4500]: expected an object (column name → value)',
    });
    expect(await count('wire')).toBe(0);
    expect(
      (await packSessions(db.url, db.name)).filter((s) => s.state === 'idle in transaction'),
    ).toEqual([]);
    const again = await run(pack.worker, '/bulk_insert', {
      table_name: 'wire',
      records: rows(6000),
    });
    expect(again.output).toMatchObject({ success: true, records_processed: 6000 });
  });

  it('refuses an unknown column of a later record shape with -32103, writing nothing', async () => {
    const records = rows(6000, (i) => (i === 5000 ? { ...full(i), nope: 1 } : full(i)));
    const failed = await run(pack.worker, '/bulk_insert', { table_name: 'wire', records });
    expect(failed.error).toMatchObject({ code: -32103, data: { identifier: 'nope' } });
    expect(await count('wire')).toBe(0);
  });

  it('reports a constraint violation mid-stream with its record index, like the in-process call', async () => {
    const records = rows(6000, (i) => (i === 4000 ? { ...full(i), id: 10 } : full(i)));
    const wire = await run(pack.worker, '/bulk_insert', { table_name: 'wire', records });
    const local = await kit().execute('bulk_insert', { table_name: 'kit', records });
    expect(wire.output).toMatchObject({ success: false, sqlstate: '23505', record_index: 4000 });
    expect({ ...wire.output, execution_time_ms: 0 }).toEqual({
      ...(local as Record<string, unknown>),
      execution_time_ms: 0,
      error_message: expect.any(String),
    });
    expect(await count('wire')).toBe(0);
  });

  it('parses everything first for upserts (duplicate keys need every record)', async () => {
    const records = rows(6000, (i) => ({ ...full(i % 5000), name: `v${i}` }));
    const wire = await run(pack.worker, '/bulk_upsert', {
      table_name: 'wire',
      records,
      upsert_key: ['id'],
    });
    expect(wire.output).toMatchObject({
      success: true,
      rows_inserted: 5000,
      duplicate_records: 1000,
    });
    const [row] = await sql<{ name: string }>(db.url, 'SELECT name FROM wire WHERE id = 10');
    expect(row!.name).toBe('v5010');
  });
});
