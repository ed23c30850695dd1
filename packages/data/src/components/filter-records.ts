import { defineComponent, z } from '@stepflow-packs/core';
import { checkRecords, Pacer } from '../limits.js';
import { onRecordError, RecordErrors } from '../record-errors.js';
import {
  canonicalJson,
  compareCodePoints,
  getPath,
  parseField,
  typeName,
  type Fields,
} from '../records.js';
import { checkPattern, matchAll, type PatternSpec } from '../regex.js';
import { errors, fieldRef, jsonValue, records, stats } from '../schemas.js';
import { settings } from '../settings.js';
import { RECORDS_BLOB_ALTERNATIVE, recordsBlobId, recordsOut, toBlob } from '../schemas.js';
import { deliverRecords } from '../deliver.js';

const predicate = z.discriminatedUnion('op', [
  z.strictObject({
    field: fieldRef,
    op: z
      .enum(['eq', 'ne'])
      .describe('eq: equal JSON value (deep); ne: not eq (a missing field is ne anything)'),
    value: jsonValue('Value to compare with'),
  }),
  z.strictObject({
    field: fieldRef,
    op: z
      .enum(['gt', 'gte', 'lt', 'lte'])
      .describe('Order comparison; numbers with numbers, strings with strings (by code point)'),
    value: z.union([z.number(), z.string()]).describe('Number or string to compare with'),
  }),
  z.strictObject({
    field: fieldRef,
    op: z.literal('in').describe('The field equals one of the values (deep equality)'),
    value: z.array(jsonValue('A candidate value')).max(100_000).describe('Candidate values'),
  }),
  z.strictObject({
    field: fieldRef,
    op: z
      .literal('contains')
      .describe('A string field contains the substring, or an array field contains the element'),
    value: jsonValue('Substring (for string fields) or element (for array fields)'),
  }),
  z.strictObject({
    field: fieldRef,
    op: z.literal('exists').describe('The field is present (null counts as present)'),
    value: z
      .boolean()
      .default(true)
      .describe('true: keep records that have the field; false: records that lack it'),
  }),
  z.strictObject({
    field: fieldRef,
    op: z
      .literal('matches')
      .describe('A string field matches an RE2 regular expression (unanchored search)'),
    value: z.string().describe('RE2 syntax (no backreferences or lookaround); anchor with ^ and $'),
    case_insensitive: z.boolean().default(false).describe('Match letters regardless of case'),
  }),
]);

type Predicate = z.output<typeof predicate>;
type Verdict = boolean | { error: string; reason: string };

const ORDER = {
  gt: (c: number) => c > 0,
  gte: (c: number) => c >= 0,
  lt: (c: number) => c < 0,
  lte: (c: number) => c <= 0,
};

interface Prepared {
  predicate: Predicate;
  path: readonly string[];
  canonical?: string;
  candidates?: Set<string>;
  /** matches: per-record result (1/0), or -1 when the record had no string to test. */
  matched?: Int32Array;
}

const isObjectLike = (value: unknown) => typeof value === 'object' && value !== null;

/** Deep JSON equality; scalars compare directly, objects and arrays by canonical JSON. */
function equals(value: unknown, target: unknown, canonicalTarget: string): boolean {
  if (!isObjectLike(value) || !isObjectLike(target)) return value === target;
  return canonicalJson(value) === canonicalTarget;
}

/** Set key of a scalar, equal to its canonical JSON without serialising strings twice. */
const scalarKey = (value: unknown): string =>
  typeof value === 'string' ? `s${value}` : `v${String(value)}`;

function evaluate(p: Prepared, record: Fields, index: number): Verdict {
  const found = getPath(record, p.path);
  const value = found.found ? found.value : undefined;
  const { predicate } = p;
  switch (predicate.op) {
    case 'exists':
      return found.found === predicate.value;
    case 'eq':
      return found.found && equals(value, predicate.value, p.canonical!);
    case 'ne':
      return !(found.found && equals(value, predicate.value, p.canonical!));
    case 'in':
      return (
        found.found &&
        p.candidates!.has(isObjectLike(value) ? canonicalJson(value) : scalarKey(value))
      );
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (value === undefined || value === null) return false;
      const target = predicate.value;
      if (typeof value !== typeof target) {
        return {
          reason: 'type_mismatch',
          error: `expected ${typeName(target)} to compare with ${predicate.op} ${JSON.stringify(target)}, got ${typeName(value)}`,
        };
      }
      const c =
        typeof target === 'number'
          ? (value as number) - target
          : compareCodePoints(value as string, target);
      return ORDER[predicate.op](c);
    }
    case 'contains': {
      if (value === undefined || value === null) return false;
      if (typeof value === 'string') {
        if (typeof predicate.value !== 'string') {
          return {
            reason: 'type_mismatch',
            error: `a string field can only contain a string, got ${typeName(predicate.value)} as the value`,
          };
        }
        return value.includes(predicate.value);
      }
      if (Array.isArray(value))
        return value.some((item) => equals(item, predicate.value, p.canonical!));
      return {
        reason: 'type_mismatch',
        error: `contains needs a string or an array, got ${typeName(value)}`,
      };
    }
    case 'matches': {
      const result = p.matched![index]!;
      if (result >= 0) return result === 1;
      if (value === undefined || value === null) return false;
      return { reason: 'type_mismatch', error: `matches needs a string, got ${typeName(value)}` };
    }
  }
}

export const filterRecords = defineComponent({
  name: 'filter_records',
  description:
    'Keep the records that satisfy field predicates (eq, ne, gt, gte, lt, lte, in, contains, exists, matches), combined with all (AND) or any (OR).',
  settings,
  blobInputs: ['records'],
  blobAlternative: RECORDS_BLOB_ALTERNATIVE,
  input: z.strictObject({
    to_blob: toBlob,
    records,
    where: z.array(predicate).min(1).max(100).describe('Predicates, evaluated in order'),
    match: z
      .enum(['all', 'any'])
      .default('all')
      .describe('all: every predicate must hold; any: at least one'),
    on_record_error: onRecordError,
  }),
  output: z.object({
    records: recordsOut('Records that passed, in input order'),
    records_blob_id: recordsBlobId,
    errors,
    stats: stats({ records_rejected: z.number().int().describe('Records that did not pass') }),
  }),
  async execute({ records: input, where, match, on_record_error, to_blob }, ctx) {
    checkRecords(input, ctx.config);
    const prepared: Prepared[] = where.map((predicate) => {
      const p: Prepared = { predicate, path: parseField(predicate.field) };
      if (predicate.op === 'eq' || predicate.op === 'ne' || predicate.op === 'contains')
        p.canonical = canonicalJson(predicate.value);
      if (predicate.op === 'in') {
        p.candidates = new Set(
          predicate.value.map((v) => (isObjectLike(v) ? canonicalJson(v) : scalarKey(v))),
        );
      }
      return p;
    });
    await runPatterns(prepared, input, ctx.config, ctx.signal);

    const problems = new RecordErrors(on_record_error);
    const pacer = new Pacer(ctx.signal);
    const kept: Fields[] = [];
    let rejected = 0;
    for (let i = 0; i < input.length; i += 1) {
      const record = input[i]!;
      let pass = match === 'all';
      for (const p of prepared) {
        const verdict = evaluate(p, record, i);
        if (typeof verdict === 'object') {
          problems.add(i, p.path, verdict.reason, verdict.error);
          break;
        }
        if (match === 'all' && !verdict) {
          pass = false;
          break;
        }
        if (match === 'any' && verdict) {
          pass = true;
          break;
        }
      }
      if (problems.has(i)) continue;
      if (pass) kept.push(record);
      else rejected += 1;
      if (pacer.due()) await pacer.pause();
    }
    return {
      ...(await deliverRecords(kept, to_blob, ctx)),
      errors: problems.issues,
      stats: {
        records_in: input.length,
        records_out: kept.length,
        records_errored: problems.count,
        records_rejected: rejected,
      },
    };
  },
});

/** Run every `matches` predicate over its string values off the main thread, in one job. */
async function runPatterns(
  prepared: Prepared[],
  input: readonly Fields[],
  config: { maxPatternLength: number; regexTimeoutMs: number },
  signal: AbortSignal,
): Promise<void> {
  const jobs = prepared.filter((p) => p.predicate.op === 'matches');
  if (jobs.length === 0) return;
  const specs: PatternSpec[] = [];
  const lists: string[][] = [];
  for (const p of jobs) {
    const predicate = p.predicate as Extract<Predicate, { op: 'matches' }>;
    const spec = { source: predicate.value, caseInsensitive: predicate.case_insensitive };
    checkPattern(spec, `input.where[${prepared.indexOf(p)}].value`, config.maxPatternLength);
    const strings: string[] = [];
    p.matched = new Int32Array(input.length).fill(-1);
    for (let i = 0; i < input.length; i += 1) {
      const found = getPath(input[i]!, p.path);
      if (found.found && typeof found.value === 'string') {
        p.matched[i] = strings.length;
        strings.push(found.value);
      }
    }
    specs.push(spec);
    lists.push(strings);
  }
  const results = await matchAll(specs, lists, config.regexTimeoutMs, signal);
  jobs.forEach((p, j) => {
    const hits = results[j]!;
    const matched = p.matched!;
    for (let i = 0; i < matched.length; i += 1)
      if (matched[i]! >= 0) matched[i] = hits[matched[i]!]!;
  });
}
