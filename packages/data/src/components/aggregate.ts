import { ComponentValueError, defineComponent, z } from '@stepflow-packs/core';
import { checkRecords, OutputBudget, Pacer } from '../limits.js';
import { onRecordError, RecordErrors } from '../record-errors.js';
import {
  canonicalJson,
  compareScalars,
  emptyRecord,
  fieldName,
  getPath,
  isScalar,
  parseField,
  typeName,
  type Fields,
  type Scalar,
} from '../records.js';
import { errors, fieldRef, records, stats } from '../schemas.js';
import { settings } from '../settings.js';

const metric = z.strictObject({
  op: z.enum(['count', 'sum', 'avg', 'min', 'max']).describe('count, sum, avg, min or max'),
  field: fieldRef
    .optional()
    .describe('Field to aggregate (required except for count, which counts records without it)'),
  as: z
    .string()
    .min(1)
    .max(1024)
    .optional()
    .describe('Output name (default "count" or "<op>_<field>")'),
});

type Metric = z.output<typeof metric>;

const metricName = (m: Metric) =>
  m.as ?? (m.field === undefined ? m.op : `${m.op}_${fieldName(parseField(m.field))}`);

const input = z
  .strictObject({
    records,
    group_by: z
      .array(fieldRef)
      .max(32)
      .default([])
      .describe('Fields whose values form the group key (none: one group)'),
    metrics: z.array(metric).min(1).max(100).describe('What to compute per group'),
    on_record_error: onRecordError,
  })
  .superRefine((value, ctx) => {
    const names = new Set(value.group_by.map((g) => fieldName(parseField(g))));
    value.metrics.forEach((m, i) => {
      if (m.op !== 'count' && m.field === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['metrics', i, 'field'],
          message: `${m.op} needs a field`,
        });
      }
      const name = metricName(m);
      if (names.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['metrics', i, 'as'],
          message: `output name ${JSON.stringify(name)} is used twice`,
        });
      }
      names.add(name);
    });
  });

interface Accumulator {
  count: number;
  sum: number;
  compensation: number;
  min: Scalar | null;
  max: Scalar | null;
}

interface Group {
  key: unknown[];
  records: number;
  metrics: Accumulator[];
}

export const aggregate = defineComponent({
  name: 'aggregate',
  blobInputs: ['records'],
  description:
    'Group records by key fields and compute count, sum, avg, min and max per group (groups in order of first appearance).',
  settings,
  input,
  output: z.object({
    groups: z
      .array(z.record(z.string(), z.unknown()))
      .describe(
        'One object per group: the group_by fields (missing = null) and the metrics. Missing/null values are ignored; sum of none is 0, avg/min/max of none are null',
      ),
    errors,
    stats: stats({ groups: z.number().int().describe('Number of groups') }).describe(
      'records_out counts the records that were aggregated',
    ),
  }),
  async execute({ records: list, group_by, metrics, on_record_error }, ctx) {
    checkRecords(list, ctx.config);
    const problems = new RecordErrors(on_record_error);
    const pacer = new Pacer(ctx.signal);
    const keyPaths = group_by.map(parseField);
    const plan = metrics.map((m) => ({
      op: m.op,
      path: m.field === undefined ? undefined : parseField(m.field),
      name: metricName(m),
    }));
    const groups = new Map<string, Group>();
    let aggregated = 0;

    for (let i = 0; i < list.length; i += 1) {
      const record = list[i]!;
      const values: unknown[] = [];
      let bad = false;
      for (const m of plan) {
        const found = m.path ? getPath(record, m.path) : { found: false as const };
        const value = found.found ? found.value : null;
        if (m.path && value !== null) {
          const numeric = m.op === 'sum' || m.op === 'avg';
          if (numeric ? typeof value !== 'number' : m.op !== 'count' && !isScalar(value)) {
            problems.add(
              i,
              m.path,
              'type_mismatch',
              `${m.op} needs ${numeric ? 'a number' : 'a string, number or boolean'}, got ${typeName(value)}`,
            );
            bad = true;
            break;
          }
        }
        values.push(value);
      }
      if (bad) continue;
      const key = keyPaths.map((p) => {
        const found = getPath(record, p);
        return found.found ? found.value : null;
      });
      const id = canonicalJson(key);
      let group = groups.get(id);
      if (!group) {
        group = {
          key,
          records: 0,
          metrics: plan.map(() => ({ count: 0, sum: 0, compensation: 0, min: null, max: null })),
        };
        groups.set(id, group);
      }
      group.records += 1;
      plan.forEach((m, j) => accumulate(group.metrics[j]!, values[j]));
      aggregated += 1;
      if (pacer.due()) await pacer.pause();
    }

    const budget = new OutputBudget(ctx.config.maxOutputBytes);
    const out: Fields[] = [];
    for (const group of groups.values()) {
      const row = emptyRecord();
      keyPaths.forEach((p, k) => (row[fieldName(p)] = group.key[k]));
      plan.forEach((m, j) => (row[m.name] = result(m, group, group.metrics[j]!)));
      budget.chargeValue(row, 'groups');
      out.push(row);
    }
    return {
      groups: out,
      errors: problems.issues,
      stats: {
        records_in: list.length,
        records_out: aggregated,
        records_errored: problems.count,
        groups: out.length,
      },
    };
  },
});

function accumulate(acc: Accumulator, value: unknown): void {
  if (value === null || value === undefined) return;
  acc.count += 1;
  if (typeof value === 'number') {
    // Neumaier summation keeps long sums of mixed magnitudes accurate.
    const t = acc.sum + value;
    acc.compensation +=
      Math.abs(acc.sum) >= Math.abs(value) ? acc.sum - t + value : value - t + acc.sum;
    acc.sum = t;
  }
  if (isScalar(value)) {
    if (acc.min === null || compareScalars(value, acc.min) < 0) acc.min = value;
    if (acc.max === null || compareScalars(value, acc.max) > 0) acc.max = value;
  }
}

function result(
  m: { op: Metric['op']; path: readonly string[] | undefined; name: string },
  group: Group,
  acc: Accumulator,
): unknown {
  switch (m.op) {
    case 'count':
      return m.path ? acc.count : group.records;
    case 'sum':
      return finite(acc.sum + acc.compensation, m.name);
    case 'avg':
      return acc.count === 0 ? null : finite((acc.sum + acc.compensation) / acc.count, m.name);
    case 'min':
      return acc.min;
    case 'max':
      return acc.max;
  }
}

function finite(value: number, name: string): number {
  if (!Number.isFinite(value)) {
    throw new ComponentValueError(`${name} overflows the range of a double`, {
      reason: 'non_finite_result',
      metric: name,
    });
  }
  return value === 0 ? 0 : value;
}
