import { defineComponent, z } from '@stepflow-packs/core';
import { checkRecords, Pacer } from '../limits.js';
import { canonicalJson, getPath, parseField, type Fields } from '../records.js';
import { fieldRef, records, stats } from '../schemas.js';
import { settings } from '../settings.js';
import { RECORDS_BLOB_ALTERNATIVE, recordsBlobId, recordsOut, toBlob } from '../schemas.js';
import { deliverRecords } from '../deliver.js';

export const deduplicate = defineComponent({
  name: 'deduplicate',
  description:
    'Remove records whose key fields equal an earlier (keep first) or later (keep last) record’s; without keys, whole records are compared.',
  settings,
  blobInputs: ['records'],
  blobAlternative: RECORDS_BLOB_ALTERNATIVE,
  input: z.strictObject({
    to_blob: toBlob,
    records,
    keys: z
      .array(fieldRef)
      .max(32)
      .default([])
      .describe(
        'Fields that identify a record (deep JSON equality; missing = null). Empty: compare whole records',
      ),
    keep: z.enum(['first', 'last']).default('first').describe('Which of the duplicates survives'),
  }),
  output: z.object({
    records: recordsOut('The surviving records, in input order'),
    records_blob_id: recordsBlobId,
    stats: stats({
      duplicates_removed: z.number().int().describe('Records dropped as duplicates'),
    }).describe('records_in = records_out + duplicates_removed (no record can fail)'),
  }),
  async execute({ records: list, keys, keep, to_blob }, ctx) {
    checkRecords(list, ctx.config);
    const pacer = new Pacer(ctx.signal);
    const paths = keys.map(parseField);
    const identity = (record: Fields) =>
      paths.length === 0
        ? canonicalJson(record)
        : canonicalJson(
            paths.map((p) => {
              const found = getPath(record, p);
              return found.found ? found.value : null;
            }),
          );
    // Remember, per identity, the index of the record that survives.
    const survivor = new Map<string, number>();
    for (let i = 0; i < list.length; i += 1) {
      const id = identity(list[i]!);
      if (keep === 'last' || !survivor.has(id)) survivor.set(id, i);
      if (pacer.due()) await pacer.pause();
    }
    const kept = [...survivor.values()].sort((a, b) => a - b).map((i) => list[i]!);
    return {
      ...(await deliverRecords(kept, to_blob, ctx)),
      stats: {
        records_in: list.length,
        records_out: kept.length,
        records_errored: 0,
        duplicates_removed: list.length - kept.length,
      },
    };
  },
});
