import { defineComponent, z } from '@stepflow-packs/core';
import { checkRecords, OutputBudget, Pacer } from '../limits.js';
import { onRecordError, RecordErrors } from '../record-errors.js';
import {
  copyRecord,
  emptyRecord,
  fieldName,
  getPath,
  parseField,
  setPath,
  type Fields,
} from '../records.js';
import { errors, fieldRef, jsonValue, records, stats } from '../schemas.js';
import { settings } from '../settings.js';
import { RECORDS_BLOB_ALTERNATIVE, recordsBlobId, recordsOut, toBlob } from '../schemas.js';
import { deliverRecords } from '../deliver.js';

const key = z.string().max(1024);

function unique<T>(
  list: T[] | undefined,
  by: (item: T) => string,
  ctx: z.RefinementCtx,
  name: string,
) {
  const seen = new Set<string>();
  list?.forEach((item, i) => {
    const k = by(item);
    if (seen.has(k))
      ctx.addIssue({ code: 'custom', path: [name, i], message: `duplicate ${JSON.stringify(k)}` });
    seen.add(k);
  });
}

const input = z
  .strictObject({
    to_blob: toBlob,
    records,
    pick: z
      .array(key)
      .max(10_000)
      .optional()
      .describe('Keep only these top-level keys (applied first)'),
    omit: z.array(key).max(10_000).optional().describe('Remove these top-level keys'),
    rename: z
      .array(
        z.strictObject({
          from: key.describe('Existing top-level key'),
          to: key.describe('New name'),
        }),
      )
      .max(10_000)
      .optional()
      .describe(
        'Rename top-level keys, all at once and in place (a renamed value replaces an existing key of the new name)',
      ),
    copy: z
      .array(
        z.strictObject({
          from: fieldRef.describe('Path read from the ORIGINAL record'),
          to: fieldRef.describe(
            'Path written in the result (missing objects on the way are created)',
          ),
          default: jsonValue(
            'Value used when `from` is missing (without it a missing path is a per-record error)',
          ).optional(),
        }),
      )
      .max(1_000)
      .optional()
      .describe('Copy (nested) values'),
    set: z
      .array(
        z.strictObject({
          field: fieldRef.describe('Path to write'),
          value: jsonValue('Constant to store'),
        }),
      )
      .max(1_000)
      .optional()
      .describe('Set constants (applied last)'),
    on_record_error: onRecordError,
  })
  .superRefine((value, ctx) => {
    unique(value.rename, (r) => r.from, ctx, 'rename');
    unique(value.rename, (r) => r.to, ctx, 'rename');
  });

type Spec = z.output<typeof input>;

export const mapFields = defineComponent({
  name: 'map_fields',
  blobInputs: ['records'],
  blobAlternative: RECORDS_BLOB_ALTERNATIVE,
  description:
    'Reshape records: pick, omit and rename top-level keys, copy nested values, set constants — applied in that order.',
  settings,
  input,
  output: z.object({
    records: recordsOut('Reshaped records, in input order'),
    records_blob_id: recordsBlobId,
    errors,
    stats: stats(),
  }),
  async execute(spec, ctx) {
    const list = spec.records;
    checkRecords(list, ctx.config);
    const budget = new OutputBudget(ctx.config.maxOutputBytes);
    const problems = new RecordErrors(spec.on_record_error);
    const pacer = new Pacer(ctx.signal);
    const plan = {
      renames: spec.rename ? new Map(spec.rename.map((r) => [r.from, r.to])) : undefined,
      copies: (spec.copy ?? []).map((c) => ({
        from: parseField(c.from),
        to: parseField(c.to),
        spec: c,
      })),
      sets: (spec.set ?? []).map((s) => ({ path: parseField(s.field), value: s.value })),
    };
    const out: Fields[] = [];
    for (let i = 0; i < list.length; i += 1) {
      const mapped = mapRecord(list[i]!, i, spec, plan, problems);
      if (mapped) {
        budget.chargeValue(mapped, 'records');
        out.push(mapped);
      }
      if (pacer.due()) await pacer.pause();
    }
    return {
      ...(await deliverRecords(out, spec.to_blob, ctx)),
      errors: problems.issues,
      stats: { records_in: list.length, records_out: out.length, records_errored: problems.count },
    };
  },
});

interface Plan {
  renames: Map<string, string> | undefined;
  copies: {
    from: readonly string[];
    to: readonly string[];
    spec: NonNullable<Spec['copy']>[number];
  }[];
  sets: { path: readonly string[]; value: unknown }[];
}

function mapRecord(
  record: Fields,
  index: number,
  spec: Spec,
  plan: Plan,
  problems: RecordErrors,
): Fields | undefined {
  let out: Fields;
  if (spec.pick) {
    out = emptyRecord();
    for (const k of spec.pick) if (Object.hasOwn(record, k)) out[k] = record[k];
  } else {
    out = copyRecord(record);
  }
  for (const k of spec.omit ?? []) delete out[k];
  if (plan.renames) out = renameAll(out, plan.renames);
  for (const c of plan.copies) {
    const found = getPath(record, c.from);
    if (!found.found && c.spec.default === undefined) {
      problems.add(
        index,
        c.from,
        'missing_field',
        `not found (copy to ${fieldName(c.to)} needs it, or give a default)`,
      );
      return undefined;
    }
    const obstacle = setPath(out, c.to, found.found ? found.value : c.spec.default);
    if (obstacle) {
      problems.add(index, c.to, 'not_an_object', obstacle);
      return undefined;
    }
  }
  for (const s of plan.sets) {
    const obstacle = setPath(out, s.path, s.value);
    if (obstacle) {
      problems.add(index, s.path, 'not_an_object', obstacle);
      return undefined;
    }
  }
  return out;
}

/** Simultaneous renames keeping key positions; a renamed value replaces a key it lands on. */
function renameAll(source: Fields, renames: Map<string, string>): Fields {
  const landing = new Set<string>();
  for (const [from, to] of renames) if (Object.hasOwn(source, from)) landing.add(to);
  const out = emptyRecord();
  for (const k of Object.keys(source)) {
    const target = renames.get(k);
    if (target !== undefined) out[target] = source[k];
    else if (!landing.has(k)) out[k] = source[k];
  }
  return out;
}
