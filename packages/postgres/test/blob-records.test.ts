import { MemoryBlobStore } from '@stepflow-packs/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closePools } from '../src/index.js';
import { kitFor, rpcError } from './support/kit.js';
import { createDatabase, sql } from './support/pg.js';

let db: Awaited<ReturnType<typeof createDatabase>>;

beforeAll(async () => {
  db = await createDatabase('blob_records');
});
beforeEach(async () => {
  await sql(
    db.url,
    'DROP TABLE IF EXISTS items; CREATE TABLE items (id int PRIMARY KEY, name text)',
  );
});
afterAll(async () => {
  await closePools();
  await db.drop();
});

describe('bulk_insert records from a blob, with progress', () => {
  it('reads {"$blob": id} records from the blob store and reports progress per batch', async () => {
    const blobs = new MemoryBlobStore();
    const progress: [number | undefined, string | undefined][] = [];
    const kit = kitFor(db.url, {}, { blobs, onProgress: (p, m) => progress.push([p, m]) });
    const records = Array.from({ length: 2500 }, (_, i) => ({ id: i, name: `n${i}` }));
    const id = await blobs.put(records);
    const out = await kit.execute<{ success: boolean; records_processed: number }>('bulk_insert', {
      table_name: 'items',
      records: { $blob: id },
      batch_size: 1000,
    });
    expect(out).toMatchObject({ success: true, records_processed: 2500 });
    expect((await sql<{ n: number }>(db.url, 'SELECT count(*)::int AS n FROM items'))[0]!.n).toBe(
      2500,
    );
    expect(progress).toEqual([
      [0.4, '1000 of 2500 records sent to COPY'],
      [0.8, '2000 of 2500 records sent to COPY'],
      [1, '2500 of 2500 records sent to COPY'],
    ]);
  });

  it('names the field when the records blob does not exist, and writes nothing', async () => {
    const kit = kitFor(db.url);
    const error = await rpcError(kit, 'bulk_upsert', {
      table_name: 'items',
      records: { $blob: 'b'.repeat(64) },
      upsert_key: ['id'],
    });
    expect(error).toMatchObject({
      code: -32103,
      data: { reason: 'blob_not_found', field: 'input.records' },
    });
  });
});
