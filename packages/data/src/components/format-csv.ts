import { stringify } from 'csv-stringify/sync';
import { defineComponent, z } from '@stepflow-packs/core';
import { delimiter, quote } from '../csv.js';
import { checkRecords, OutputBudget, Pacer } from '../limits.js';
import { ownValue, type Fields } from '../records.js';
import { records, stats } from '../schemas.js';
import { settings } from '../settings.js';

const ROWS_PER_CHUNK = 500;

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function allColumns(list: readonly Fields[]): string[] {
  const seen = new Set<string>();
  for (const record of list) for (const key of Object.keys(record)) seen.add(key);
  return [...seen];
}

export const formatCsv = defineComponent({
  name: 'format_csv',
  blobInputs: ['records'],
  description:
    'Write records as CSV text with a header row; nested objects and arrays become JSON text, null and missing values empty fields.',
  settings,
  input: z.strictObject({
    records,
    columns: z
      .array(z.string().max(1024))
      .max(10_000)
      .refine((names) => new Set(names).size === names.length, 'column names must be distinct')
      .optional()
      .describe(
        'Columns to write, in order (default: every top-level key, in order of first appearance)',
      ),
    header: z.boolean().default(true).describe('Write the column names as the first row'),
    delimiter,
    quote,
    quoted: z
      .boolean()
      .default(false)
      .describe('Quote every field (default: only fields that need it)'),
    record_delimiter: z
      .enum(['unix', 'windows'])
      .default('unix')
      .describe('unix: \\n; windows: \\r\\n'),
    escape_formulas: z
      .boolean()
      .default(false)
      .describe(
        'Prefix fields starting with = + - @ (or tab/CR) with a quote so spreadsheets do not run them as formulas',
      ),
  }),
  output: z.object({
    csv: z.string().describe('The CSV text, ending with a record delimiter when not empty'),
    columns: z.array(z.string()).describe('The columns written'),
    stats: stats().describe('records_out counts data rows written'),
  }),
  async execute(input, ctx) {
    const list = input.records;
    checkRecords(list, ctx.config);
    const budget = new OutputBudget(ctx.config.maxOutputBytes);
    const pacer = new Pacer(ctx.signal);
    const columns = input.columns ?? allColumns(list);
    const options = {
      delimiter: input.delimiter,
      quote: input.quote,
      quoted: input.quoted,
      record_delimiter: input.record_delimiter,
      escape_formulas: input.escape_formulas,
    };
    const parts: string[] = [];
    const append = (text: string) => {
      budget.charge(Buffer.byteLength(text), 'csv');
      parts.push(text);
    };
    if (input.header && columns.length > 0) append(stringify([columns], options));
    for (let start = 0; start < list.length; start += ROWS_PER_CHUNK) {
      const rows = list
        .slice(start, start + ROWS_PER_CHUNK)
        .map((record) => columns.map((c) => cell(ownValue(record, c))));
      append(stringify(rows, options));
      if (pacer.due()) await pacer.pause();
    }
    return {
      csv: parts.join(''),
      columns,
      stats: { records_in: list.length, records_out: list.length, records_errored: 0 },
    };
  },
});
