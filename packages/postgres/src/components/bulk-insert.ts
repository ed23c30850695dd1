import { defineComponent } from '@stepflow-packs/core';
import { bulkInput, bulkOutput, bulkWrite } from '../bulk.js';
import { settings } from '../settings.js';

/** The `bulk_insert` contract from Stepflow's docs, at COPY speed and all-or-nothing. */
export const bulkInsert = defineComponent({
  name: 'bulk_insert',
  description:
    'Write records into a table in one transaction (all rows or none) through COPY FROM STDIN; with upsert_key, existing rows are updated.',
  settings,
  blobInputs: ['records'],
  blobAlternative:
    'records may be given as a blob reference {"$blob": "<id>"} (a JSON array stored with put_blob)',
  idempotent: false,
  input: bulkInput,
  output: bulkOutput,
  execute: (input, ctx) => bulkWrite(input, { config: ctx.config, ctx, component: 'bulk_insert' }),
});
