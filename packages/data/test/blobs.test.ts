import { MemoryBlobStore } from '@stepflow-packs/core';
import { createTestKit } from '@stepflow-packs/core/testing';
import { describe, expect, it } from 'vitest';
import { dataPack } from '../src/index.js';

const records = Array.from({ length: 50 }, (_, i) => ({ id: i % 10, v: i }));

describe('records through the blob store (results larger than one 0.13 message)', () => {
  it.each([
    ['filter_records', { where: [{ field: 'v', op: 'gte', value: 25 }] }, 25],
    ['sort_records', { by: [{ field: 'v', order: 'desc' }] }, 50],
    ['deduplicate', { keys: ['id'] }, 10],
    ['map_fields', { pick: ['v'] }, 50],
  ] as const)(
    '%s reads {"$blob": id} records and with to_blob returns records_blob_id',
    async (component, options, expected) => {
      const blobs = new MemoryBlobStore();
      const kit = createTestKit(dataPack, { blobs });
      const inline = await kit.execute<{ records: unknown[] }>(component, { records, ...options });
      const id = await blobs.put(records);
      const out = await kit.execute<{ records?: unknown[]; records_blob_id?: string }>(component, {
        records: { $blob: id },
        ...options,
        to_blob: true,
      });
      expect(out.records).toBeUndefined();
      const stored = await blobs.get(out.records_blob_id!);
      expect(stored).toHaveLength(expected);
      expect(stored).toEqual(inline.records);
    },
  );

  it('parse_csv can return its records as a blob', async () => {
    const blobs = new MemoryBlobStore();
    const kit = createTestKit(dataPack, { blobs });
    const out = await kit.execute<{ records_blob_id: string; columns: string[] }>('parse_csv', {
      csv: 'a,b\n1,2\n3,4\n',
      to_blob: true,
    });
    expect(out.columns).toEqual(['a', 'b']);
    expect(await blobs.get(out.records_blob_id)).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ]);
  });
});
