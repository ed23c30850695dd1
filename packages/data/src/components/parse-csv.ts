import { parse } from 'csv-parse';
import { BadRequestError, ComponentValueError, defineComponent, z } from '@stepflow-packs/core';
import { chunksOf, delimiter, quote } from '../csv.js';
import { checkCount, OutputBudget, Pacer } from '../limits.js';
import { onRecordError, RecordErrors } from '../record-errors.js';
import { emptyRecord, type Fields } from '../records.js';
import { errors, stats } from '../schemas.js';
import { settings } from '../settings.js';
import { RECORDS_BLOB_ALTERNATIVE, recordsBlobId, recordsOut, toBlob } from '../schemas.js';
import { deliverRecords } from '../deliver.js';

const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

function infer(cell: string): unknown {
  if (cell === '') return null;
  if (cell === 'true') return true;
  if (cell === 'false') return false;
  if (NUMBER.test(cell)) {
    const n = Number(cell);
    if (Number.isFinite(n)) return n;
  }
  return cell;
}

interface Row {
  record: string[];
  info: { lines: number };
}

export const parseCsv = defineComponent({
  name: 'parse_csv',
  description:
    'Parse CSV text into records (objects keyed by the header row or given column names); rows with the wrong number of fields are per-record errors.',
  settings,
  blobInputs: ['csv'],
  blobAlternative: RECORDS_BLOB_ALTERNATIVE,
  input: z.strictObject({
    to_blob: toBlob,
    csv: z.string().describe('CSV text (a UTF-8 byte order mark is ignored)'),
    header: z.boolean().default(true).describe('The first row holds the column names'),
    columns: z
      .array(z.string().max(1024))
      .min(1)
      .max(10_000)
      .refine((names) => new Set(names).size === names.length, 'column names must be distinct')
      .optional()
      .describe(
        'Column names to use (replacing the header row when header is true); default: the header row, or column_1… without one',
      ),
    delimiter,
    quote,
    escape: z
      .string()
      .length(1)
      .default('"')
      .describe('Character that escapes a quote inside a quoted field (default ")'),
    trim: z.boolean().default(false).describe('Remove whitespace around unquoted fields'),
    skip_empty_lines: z.boolean().default(true).describe('Ignore empty lines'),
    infer_types: z
      .boolean()
      .default(false)
      .describe(
        'Turn JSON-style numbers into numbers, true/false into booleans and empty fields into null (default: all strings)',
      ),
    on_record_error: onRecordError,
  }),
  output: z.object({
    records: recordsOut('One object per data row, keys in column order'),
    records_blob_id: recordsBlobId,
    columns: z.array(z.string()).describe('The column names used'),
    errors,
    stats: stats().describe('records_in counts data rows (the header row excluded)'),
  }),
  async execute(input, ctx) {
    const budget = new OutputBudget(ctx.config.maxOutputBytes);
    const pacer = new Pacer(ctx.signal);
    const problems = new RecordErrors(input.on_record_error);
    const parser = parse({
      delimiter: input.delimiter,
      quote: input.quote,
      escape: input.escape,
      trim: input.trim,
      skip_empty_lines: input.skip_empty_lines,
      relax_column_count: true,
      bom: true,
      info: true,
    });
    void feed(parser, input.csv, pacer);

    let columns: string[] | undefined = input.columns;
    let expectHeader = input.header;
    const out: Fields[] = [];
    let rows = 0;
    try {
      for await (const { record: cells, info } of parser as AsyncIterable<Row>) {
        if (expectHeader) {
          expectHeader = false;
          columns ??= checkHeader(cells);
          continue;
        }
        columns ??= cells.map((_, i) => `column_${i + 1}`);
        const index = rows;
        rows += 1;
        checkCount(rows, ctx.config, 'csv rows');
        if (cells.length !== columns.length) {
          problems.add(
            index,
            null,
            'column_count',
            `line ${info.lines} has ${cells.length} fields; expected ${columns.length}`,
          );
          continue;
        }
        const record = emptyRecord();
        columns.forEach(
          (name, i) => (record[name] = input.infer_types ? infer(cells[i]!) : cells[i]),
        );
        budget.chargeValue(record, 'records');
        out.push(record);
        if (pacer.due()) await pacer.pause();
      }
    } catch (err) {
      if (
        err instanceof Error &&
        'code' in err &&
        typeof err.code === 'string' &&
        err.code.startsWith('CSV_')
      ) {
        throw new ComponentValueError(`csv: ${err.message}`, {
          reason: 'csv_syntax',
          csv_code: err.code,
          line: (err as { lines?: number }).lines,
        });
      }
      throw err;
    } finally {
      parser.destroy();
    }
    return {
      ...(await deliverRecords(out, input.to_blob, ctx)),
      columns: columns ?? [],
      errors: problems.issues,
      stats: { records_in: rows, records_out: out.length, records_errored: problems.count },
    };
  },
});

function checkHeader(cells: string[]): string[] {
  const seen = new Set<string>();
  for (const name of cells) {
    if (seen.has(name)) {
      throw new BadRequestError(
        `csv: the header names column ${JSON.stringify(name)} twice; give distinct names in columns`,
        {
          reason: 'duplicate_column',
          column: name,
        },
      );
    }
    seen.add(name);
  }
  return cells;
}

/** Write the text in chunks, honouring back-pressure and yielding to other requests. */
async function feed(parser: ReturnType<typeof parse>, text: string, pacer: Pacer): Promise<void> {
  try {
    for (const chunk of chunksOf(text)) {
      if (parser.destroyed) return;
      if (!parser.write(chunk)) {
        await new Promise<void>((resolve) => {
          parser.once('drain', resolve);
          parser.once('close', resolve);
        });
      }
      if (pacer.due()) await pacer.pause();
    }
    parser.end();
  } catch (err) {
    parser.destroy(err instanceof Error ? err : new Error(String(err)));
  }
}
