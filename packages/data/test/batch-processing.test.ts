import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dataKit, failure, json } from './helpers.js';

interface Output {
  processed_items: Record<string, unknown>[];
  processing_stats: Record<string, number>;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('batch_processing', () => {
  const kit = dataKit();

  it('marks every item processed with a SHA-256 of its canonical JSON, in input order', async () => {
    const items = Array.from({ length: 250 }, (_, i) => ({ id: i, name: `item ${i}` }));
    const out = await kit.execute<Output>('batch_processing', { items, batch_size: 100 });
    expect(out.processed_items.map((item) => item.id)).toEqual(items.map((item) => item.id));
    expect(out.processed_items[7]).toEqual({
      id: 7,
      name: 'item 7',
      processed: true,
      checksum: sha256('{"id":7,"name":"item 7"}'),
    });
    expect(out.processing_stats).toEqual({
      total_items: 250,
      batches_processed: 3,
      batch_size: 100,
      workers_used: 1,
    });
  });

  it('gives the same checksum whatever the key order', async () => {
    const out = await kit.execute<Output>('batch_processing', {
      items: [
        { a: 1, b: { d: 2, c: 3 } },
        { b: { c: 3, d: 2 }, a: 1 },
      ],
    });
    expect(out.processed_items[0]!.checksum).toBe(out.processed_items[1]!.checksum);
    expect(out.processed_items[0]!.checksum).toBe(sha256('{"a":1,"b":{"c":3,"d":2}}'));
  });

  it('handles an empty list', async () => {
    const out = await kit.execute<Output>('batch_processing', { items: [] });
    expect(out).toEqual({
      processed_items: [],
      processing_stats: { total_items: 0, batches_processed: 0, batch_size: 100, workers_used: 0 },
    });
  });

  it('keeps __proto__ keys and includes them in the checksum', async () => {
    const out = await kit.execute<Output>('batch_processing', {
      items: [json('{"__proto__":{"x":1}}')],
    });
    const item = out.processed_items[0]!;
    expect(Object.keys(item)).toEqual(['__proto__', 'processed', 'checksum']);
    expect(item.checksum).toBe(sha256('{"__proto__":{"x":1}}'));
  });

  it('answers -32103 too_many_records naming items when there are more than maxRecords', async () => {
    const error = await failure(dataKit({ maxRecords: 2 }), 'batch_processing', {
      items: [{}, {}, {}],
    });
    expect(error).toMatchObject({
      code: -32103,
      data: { reason: 'too_many_records', field: 'items', limit: 2, actual: 3 },
    });
  });

  it('answers -32003 when batch_size is 0', async () => {
    const error = await failure(kit, 'batch_processing', { items: [], batch_size: 0 });
    expect(error.code).toBe(-32003);
    expect(error.message).toMatch(/^input\.batch_size: /);
  });
});
