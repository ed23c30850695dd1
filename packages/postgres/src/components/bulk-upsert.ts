import { defineComponent, z } from '@stepflow-packs/core';
import { bulkInputShape, bulkOutput, bulkWrite } from '../bulk.js';
import { settings } from '../settings.js';

/** bulk_insert with a required upsert_key: the same code path, named for what it does. */
export const bulkUpsert = defineComponent({
  name: 'bulk_upsert',
  description:
    'Insert or update records by upsert_key in one transaction: COPY into a temporary table, then INSERT … ON CONFLICT DO UPDATE. Later records with the same key win.',
  settings,
  blobInputs: ['records'],
  blobAlternative:
    'records may be given as a blob reference {"$blob": "<id>"} (a JSON array stored with put_blob)',
  idempotent: true,
  input: z.strictObject({
    ...bulkInputShape,
    upsert_key: bulkInputShape.upsert_key
      .unwrap()
      .describe('Columns of a unique index or primary key identifying a row'),
  }),
  output: bulkOutput,
  execute: (input, ctx) => bulkWrite(input, { config: ctx.config, ctx, component: 'bulk_upsert' }),
});
