import { defineComponent, z } from '@stepflow-packs/core';
import { checkRecords } from '../limits.js';
import { onRecordError, RecordErrors } from '../record-errors.js';
import {
  compareScalars,
  getPath,
  isScalar,
  parseField,
  typeName,
  type Fields,
  type Scalar,
} from '../records.js';
import { errors, fieldRef, records, stats } from '../schemas.js';
import { settings } from '../settings.js';
import { RECORDS_BLOB_ALTERNATIVE, recordsBlobId, recordsOut, toBlob } from '../schemas.js';
import { deliverRecords } from '../deliver.js';

interface Row {
  record: Fields;
  keys: (Scalar | null)[];
}

export const sortRecords = defineComponent({
  name: 'sort_records',
  description:
    'Sort records by one or more fields, each ascending or descending; stable, with missing and null values last.',
  settings,
  blobInputs: ['records'],
  blobAlternative: RECORDS_BLOB_ALTERNATIVE,
  input: z.strictObject({
    to_blob: toBlob,
    records,
    by: z
      .array(
        z.strictObject({
          field: fieldRef,
          order: z.enum(['asc', 'desc']).default('asc').describe('asc or desc'),
        }),
      )
      .min(1)
      .max(32)
      .describe(
        'Sort keys, most significant first. Mixed types order as booleans < numbers < strings; strings compare by code point',
      ),
    nulls: z
      .enum(['last', 'first'])
      .default('last')
      .describe('Where records with a missing or null key go, whatever the order'),
    on_record_error: onRecordError,
  }),
  output: z.object({
    records: recordsOut('Sorted records (records with equal keys keep their input order)'),
    records_blob_id: recordsBlobId,
    errors,
    stats: stats(),
  }),
  async execute({ records: list, by, nulls, on_record_error, to_blob }, ctx) {
    checkRecords(list, ctx.config);
    const problems = new RecordErrors(on_record_error);
    const keys = by.map((k) => ({ path: parseField(k.field), sign: k.order === 'asc' ? 1 : -1 }));
    const nullSign = nulls === 'last' ? 1 : -1;
    const rows: Row[] = [];
    list.forEach((record, i) => {
      const row: Row = { record, keys: [] };
      for (const k of keys) {
        const found = getPath(record, k.path);
        const value = found.found ? found.value : null;
        if (value !== null && !isScalar(value)) {
          problems.add(
            i,
            k.path,
            'not_sortable',
            `cannot sort by ${typeName(value)}; expected a string, number, boolean or null`,
          );
          return;
        }
        row.keys.push(value);
      }
      rows.push(row);
    });
    // Array.prototype.sort is stable (ES2019).
    rows.sort((a, b) => {
      for (let k = 0; k < keys.length; k += 1) {
        const x = a.keys[k]!;
        const y = b.keys[k]!;
        if (x === null || y === null) {
          if (x === y) continue;
          return x === null ? nullSign : -nullSign;
        }
        const c = compareScalars(x, y);
        if (c !== 0) return c * keys[k]!.sign;
      }
      return 0;
    });
    return {
      ...(await deliverRecords(
        rows.map((r) => r.record),
        to_blob,
        ctx,
      )),
      errors: problems.issues,
      stats: { records_in: list.length, records_out: rows.length, records_errored: problems.count },
    };
  },
});
