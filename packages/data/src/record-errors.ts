import { ComponentValueError, formatPath, z } from '@stepflow-packs/core';
import { fieldName } from './records.js';

export const onRecordError = z
  .enum(['report', 'fail'])
  .default('report')
  .describe(
    'What a per-record failure does: "report" leaves the record out of the result and lists it in `errors`; "fail" fails the whole call with -32101 naming records[i].field',
  );

type OnRecordError = z.output<typeof onRecordError>;

export const recordIssue = z.object({
  index: z.number().int().describe('Position of the record in the input list'),
  path: z.string().describe('Where the problem is, e.g. records[3].age'),
  field: z
    .string()
    .nullable()
    .describe('The field concerned (dot path), or null for the whole record'),
  reason: z.string().describe('Machine-readable reason'),
  message: z.string().describe('One-sentence explanation naming the path'),
});

type RecordIssue = z.output<typeof recordIssue>;

/** Collects per-record failures, or turns the first one into a -32101 error. */
export class RecordErrors {
  readonly issues: RecordIssue[] = [];
  readonly #mode: OnRecordError;
  readonly #root: string;
  readonly #failed = new Set<number>();

  constructor(mode: OnRecordError, root = 'records') {
    this.#mode = mode;
    this.#root = root;
  }

  add(index: number, field: readonly string[] | null, reason: string, detail: string): void {
    const path = formatPath(this.#root, [index, ...(field ?? [])]);
    const issue: RecordIssue = {
      index,
      path,
      field: field ? fieldName(field) : null,
      reason,
      message: `${path}: ${detail}`,
    };
    if (this.#mode === 'fail') {
      throw new ComponentValueError(issue.message, {
        reason,
        record: index,
        field: issue.field,
        path,
      });
    }
    this.#failed.add(index);
    this.issues.push(issue);
  }

  has(index: number): boolean {
    return this.#failed.has(index);
  }

  get count(): number {
    return this.#failed.size;
  }
}
