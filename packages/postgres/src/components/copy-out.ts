import { BadRequestError, defineComponent, z, type JsonValue } from '@stepflow-packs/core';
import type pg from 'pg';
import { resolveTarget, withClient } from '../connection.js';
import { classify, failureError, failureFields, failureOutput } from '../failure.js';
import { settings } from '../settings.js';
import { connectionStringSchema, parametersSchema, raiseOnFailureSchema } from '../statement.js';
import { parameterValue } from '../copy-format.js';
import { setTimeouts, timeoutMs } from '../timeouts.js';

const CURSOR = '"stepflow_copy_out"';

/** Values exactly as PostgreSQL prints them (what COPY … CSV writes). */
const rawTypes = {
  getTypeParser: () => (value: string) => value,
} as unknown as pg.CustomTypesConfig;

const CSV_SPECIAL = /[",\n\r]/;

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  // An empty string is quoted so that it differs from NULL, as COPY … CSV does.
  if (text === '' || CSV_SPECIAL.test(text) || text.trim() !== text)
    return `"${text.replaceAll('"', '""')}"`;
  return text;
}

function csvLine(values: readonly unknown[]): string {
  let line = csvField(values[0]);
  for (let i = 1; i < values.length; i++) line += ',' + csvField(values[i]);
  return `${line}\n`;
}

/** Export a query's rows as CSV or JSON records, fetched in chunks through a server cursor. */
export const copyOut = defineComponent({
  name: 'copy_out',
  description:
    "Export a read-only query's rows as CSV text or JSON records, streamed from a server-side cursor in chunks; optionally stored as a blob.",
  settings,
  idempotent: true,
  blobAlternative: 'set to_blob: true to store the export in the blob store and return its blob_id',
  input: z.strictObject({
    connection_string: connectionStringSchema,
    query: z.string().min(1).describe('A SELECT (or VALUES) statement; use $1, $2, … for values'),
    parameters: parametersSchema,
    format: z
      .enum(['csv', 'json'])
      .default('json')
      .describe('csv: RFC 4180 text as COPY … CSV writes it; json: an array of row objects'),
    header: z.boolean().default(true).describe('csv: start with a header line of column names'),
    to_blob: z
      .boolean()
      .default(false)
      .describe('Store the result in the blob store and return blob_id instead of the data'),
    fetch_size: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(1000)
      .describe('Rows fetched from the cursor per round trip'),
    timeout: z
      .number()
      .positive()
      .max(86_400)
      .optional()
      .describe('Statement timeout in seconds (default: server setting)'),
    raise_on_failure: raiseOnFailureSchema,
  }),
  output: z.object({
    success: z.boolean(),
    format: z.enum(['csv', 'json']),
    row_count: z.number().int().describe('Rows exported'),
    columns: z.array(z.string()).describe('Column names in order'),
    data: z.string().optional().describe('csv without to_blob: the CSV text'),
    records: z
      .array(z.record(z.string(), z.unknown()))
      .optional()
      .describe('json without to_blob: the rows'),
    blob_id: z
      .string()
      .optional()
      .describe('to_blob: id of the blob holding the CSV text or the records array'),
    execution_time_ms: z.number(),
    ...failureFields,
  }),
  async execute(input, ctx) {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
    const target = resolveTarget(input.connection_string, ctx.config);
    const limit = ctx.config.maxRows;
    try {
      const exported = await withClient(
        target,
        ctx.config,
        ctx.log,
        async (client) => {
          await client.query('BEGIN READ ONLY');
          await setTimeouts(
            client,
            timeoutMs(input.timeout, ctx.config.statementTimeoutMs),
            ctx.config.lockTimeoutMs,
            true,
          );
          await client.query({
            text: `DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${input.query}`,
            values: (input.parameters ?? []).map(parameterValue),
            queryMode: 'extended',
          } as pg.QueryConfig);
          let columns: string[] = [];
          const csvParts: string[] = [];
          const records: Record<string, unknown>[] = [];
          let count = 0;
          const fetchSql = `FETCH FORWARD ${input.fetch_size} FROM ${CURSOR}`;
          for (;;) {
            const batch =
              input.format === 'csv'
                ? await client.query({ text: fetchSql, rowMode: 'array', types: rawTypes })
                : await client.query({ text: fetchSql, rowMode: 'array' });
            if (count === 0) {
              columns = batch.fields.map((f) => f.name);
              if (input.format === 'csv' && input.header) csvParts.push(csvLine(columns));
            }
            const rows = batch.rows as unknown[][];
            count += rows.length;
            if (count > limit) {
              throw new BadRequestError(
                `the query returned more than the server limit of ${limit} rows`,
                {
                  reason: 'row_limit',
                  limit,
                },
              );
            }
            if (input.format === 'csv') {
              let chunk = '';
              for (const row of rows) chunk += csvLine(row);
              csvParts.push(chunk);
            } else {
              for (const row of rows) {
                const record: Record<string, unknown> = Object.create(null) as Record<
                  string,
                  unknown
                >;
                for (let c = 0; c < columns.length; c++) record[columns[c]!] = row[c];
                records.push(record);
              }
            }
            if (rows.length < input.fetch_size) break;
          }
          await client.query('COMMIT');
          return {
            columns,
            count,
            csv: input.format === 'csv' ? csvParts.join('') : undefined,
            records,
          };
        },
        ctx.signal,
      );
      const payload: JsonValue = (exported.csv ?? exported.records) as JsonValue;
      const base = {
        success: true,
        format: input.format,
        row_count: exported.count,
        columns: exported.columns,
      };
      if (input.to_blob) {
        const blobId = await ctx.putBlob(payload, 'data');
        return { ...base, blob_id: blobId, execution_time_ms: elapsed() };
      }
      return {
        ...base,
        ...(exported.csv !== undefined ? { data: exported.csv } : { records: exported.records }),
        execution_time_ms: elapsed(),
      };
    } catch (err) {
      if (err instanceof BadRequestError) throw err;
      const failure = classify(err, {
        secrets: target.secrets,
        action: 'copy_out',
        commitState: 'none',
      });
      if (input.raise_on_failure) throw failureError(failure);
      return {
        format: input.format,
        row_count: 0,
        columns: [],
        execution_time_ms: elapsed(),
        ...failureOutput(failure),
      };
    }
  },
});
