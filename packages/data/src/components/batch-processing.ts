import { createHash } from 'node:crypto';
import { defineComponent, z } from '@stepflow-packs/core';
import { checkRecords, OutputBudget, Pacer } from '../limits.js';
import { canonicalJson, copyRecord } from '../records.js';
import { jsonObject } from '../schemas.js';
import { settings } from '../settings.js';

/**
 * The `batch_processing` contract from Stepflow's documentation. Hashing a batch takes far
 * less time than handing it to a thread would, so batches run one after another on the event
 * loop, which is yielded between batches; `max_workers` is accepted for compatibility and
 * `workers_used` honestly reports 1.
 */
export const batchProcessing = defineComponent({
  name: 'batch_processing',
  blobInputs: ['items'],
  description:
    'Mark every item processed and add a stable SHA-256 checksum of its canonical JSON, in batches, preserving input order.',
  settings,
  input: z.strictObject({
    items: z.array(jsonObject('An item')).describe('Items to process'),
    batch_size: z.number().int().min(1).max(100_000).default(100).describe('Items per batch'),
    max_workers: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(4)
      .describe('Accepted for compatibility; batches run sequentially on the event loop'),
  }),
  output: z.object({
    processed_items: z
      .array(z.record(z.string(), z.unknown()))
      .describe(
        'Each item with processed: true and checksum (hex SHA-256 of the item’s canonical JSON, keys sorted)',
      ),
    processing_stats: z.object({
      total_items: z.number().int(),
      batches_processed: z.number().int(),
      batch_size: z.number().int(),
      workers_used: z.number().int().describe('1 when there was work, else 0 (see max_workers)'),
    }),
  }),
  async execute({ items, batch_size }, ctx) {
    checkRecords(items, ctx.config, 'items');
    const budget = new OutputBudget(ctx.config.maxOutputBytes);
    const pacer = new Pacer(ctx.signal);
    const processed: Record<string, unknown>[] = new Array(items.length);
    let batches = 0;
    for (let start = 0; start < items.length; start += batch_size) {
      batches += 1;
      for (let i = start; i < Math.min(start + batch_size, items.length); i += 1) {
        const item = items[i]!;
        const canonical = canonicalJson(item);
        const out = copyRecord(item);
        out.processed = true;
        out.checksum = createHash('sha256').update(canonical).digest('hex');
        budget.charge(Buffer.byteLength(canonical) + 100, 'processed_items');
        processed[i] = out;
      }
      if (pacer.due()) await pacer.pause();
    }
    return {
      processed_items: processed,
      processing_stats: {
        total_items: items.length,
        batches_processed: batches,
        batch_size,
        workers_used: batches > 0 ? 1 : 0,
      },
    };
  },
});
