import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BadRequestError, type ComponentContext, z } from '@stepflow-packs/core';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { resolveTarget, withClient } from './connection.js';
import { encoderFor, type Encoder } from './copy-format.js';
import {
  classify,
  failureError,
  failureFields,
  failureOutput,
  type CommitState,
} from './failure.js';
import {
  checkIdentifier,
  lookupTable,
  parseQualifiedName,
  quoteIdent,
  resolveColumns,
  type ColumnInfo,
  type TableInfo,
} from './identifiers.js';
import type { PostgresSettings } from './settings.js';
import { setTimeouts, timeoutMs } from './timeouts.js';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One record: an object whose keys are column names. Checked cheaply (no copy) for speed. */
export const recordSchema = z
  .custom<Record<string, unknown>>(isRecord, {
    message: 'expected an object (column name → value)',
  })
  .meta({ type: 'object', description: 'A row: column name → value' });

export const bulkInputShape = {
  connection_string: z
    .string()
    .optional()
    .describe(
      'postgres:// URL; defaults to the server configuration (DATABASE_URL / PG* variables). May be disabled by the server.',
    ),
  table_name: z
    .string()
    .min(1)
    .describe('Target table: table or schema.table (quote parts with "…" for exact case)'),
  records: z
    .array(recordSchema)
    .describe('Rows to write; the column set is the union of their keys (a missing key is NULL)'),
  batch_size: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(1000)
    .describe('Records serialised and streamed per chunk; all chunks belong to one transaction'),
  upsert_key: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe('Columns of a unique index: rows whose key exists are updated instead of inserted'),
  timeout: z
    .number()
    .positive()
    .max(86_400)
    .optional()
    .describe(
      'Server-side statement timeout in seconds for each statement (default: server setting)',
    ),
  raise_on_failure: z
    .boolean()
    .default(false)
    .describe(
      'Raise a JSON-RPC error (-32101 data, -32102 unavailable/timeout) instead of returning success: false',
    ),
};

export const bulkInput = z.strictObject(bulkInputShape);
export type BulkInput = z.output<typeof bulkInput>;

export const bulkOutput = z.object({
  success: z.boolean().describe('True when every record was written and committed'),
  records_processed: z.number().int().describe('Records written (all or none: 0 on failure)'),
  batches_processed: z.number().int().describe('Chunks of batch_size records streamed'),
  execution_time_ms: z.number().describe('Wall time of the call'),
  rows_inserted: z.number().int().optional().describe('Upserts: rows inserted'),
  rows_updated: z.number().int().optional().describe('Upserts: existing rows updated'),
  duplicate_records: z
    .number()
    .int()
    .optional()
    .describe(
      'Upserts: records superseded by a later record with the same upsert_key in this call',
    ),
  ...failureFields,
});
export type BulkOutput = z.input<typeof bulkOutput>;

/** Union of the records' keys, in first-seen order. */
export function columnUnion(records: readonly Record<string, unknown>[]): string[] {
  const seen = new Set<string>();
  let previous: string[] | undefined;
  for (const record of records) {
    const keys = Object.keys(record);
    // Fast path: records usually share one shape.
    if (previous && keys.length === previous.length && keys.every((k, i) => k === previous![i]))
      continue;
    for (const key of keys) seen.add(key);
    previous = keys;
  }
  return [...seen];
}

function keyOf(record: Record<string, unknown>, keys: readonly string[]): string {
  if (keys.length === 1) {
    const v = record[keys[0]!];
    return typeof v === 'string' ? `s${v}` : `j${JSON.stringify(v ?? null)}`;
  }
  return JSON.stringify(keys.map((k) => record[k] ?? null));
}

/**
 * Records that are superseded by a later record with the same key (last one wins). Returns
 * undefined when there are none (the common case, nothing to skip).
 */
export function supersededRecords(
  records: readonly Record<string, unknown>[],
  keys: readonly string[],
): Set<number> | undefined {
  const last = new Map<string, number>();
  let superseded: Set<number> | undefined;
  for (let i = 0; i < records.length; i++) {
    const key = keyOf(records[i]!, keys);
    const before = last.get(key);
    if (before !== undefined) (superseded ??= new Set()).add(before);
    last.set(key, i);
  }
  return superseded;
}

interface CopyPlan {
  records: readonly Record<string, unknown>[];
  columns: readonly string[];
  encoders: readonly Encoder[];
  batchSize: number;
  skip: Set<number> | undefined;
  /** Filled while streaming: how many chunks were produced. */
  batches: number;
}

function* copyChunks(plan: CopyPlan): Generator<string> {
  const { records, columns, encoders, batchSize, skip } = plan;
  const width = columns.length;
  let chunk = '';
  let inChunk = 0;
  for (let i = 0; i < records.length; i++) {
    if (skip?.has(i)) continue;
    const record = records[i]!;
    let line = encoders[0]!(record[columns[0]!]);
    for (let c = 1; c < width; c++) line += '\t' + encoders[c]!(record[columns[c]!]);
    chunk += line + '\n';
    if (++inChunk === batchSize) {
      plan.batches++;
      yield chunk;
      chunk = '';
      inChunk = 0;
    }
  }
  if (inChunk > 0) {
    plan.batches++;
    yield chunk;
  }
}

async function copyInto(
  client: pg.PoolClient,
  sql: string,
  plan: CopyPlan,
  signal: AbortSignal,
): Promise<number> {
  const stream = client.query(copyFrom(sql));
  await pipeline(Readable.from(copyChunks(plan), { objectMode: false, highWaterMark: 1 }), stream, {
    signal,
  });
  return stream.rowCount;
}

export interface BulkContext {
  config: PostgresSettings;
  ctx: ComponentContext<PostgresSettings>;
  component: string;
}

interface Progress {
  commitState: CommitState;
  table?: TableInfo;
  columns?: readonly string[];
  lineToRecord?: (line: number) => number | undefined;
  batches: number;
}

/** bulk_insert / bulk_upsert: one transaction, COPY FROM STDIN, merge for upserts. */
export async function bulkWrite(
  input: BulkInput,
  { config, ctx, component }: BulkContext,
): Promise<BulkOutput> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  const target = resolveTarget(input.connection_string, config);
  const tableName = parseQualifiedName(input.table_name);
  const columnNames = columnUnion(input.records);
  for (const name of columnNames) checkIdentifier(name, 'records');
  const upsertKey = input.upsert_key;
  if (upsertKey) {
    for (const name of upsertKey) checkIdentifier(name, 'upsert_key');
    if (new Set(upsertKey).size !== upsertKey.length) {
      throw new BadRequestError('upsert_key lists a column twice', {
        reason: 'invalid_upsert_key',
        field: 'upsert_key',
      });
    }
    const missing = upsertKey.filter((k) => !columnNames.includes(k));
    if (input.records.length > 0 && missing.length > 0) {
      throw new BadRequestError(
        `upsert_key column ${JSON.stringify(missing[0])} is not a key of the records`,
        {
          reason: 'invalid_upsert_key',
          field: 'upsert_key',
          identifier: missing[0],
        },
      );
    }
  }
  const statementTimeout = timeoutMs(input.timeout, config.statementTimeoutMs);
  const progress: Progress = { commitState: 'none', batches: 0 };
  const action = `${component} into ${input.table_name}`;
  try {
    const result = await withClient(
      target,
      config,
      ctx.log,
      async (client) => {
        const table = await lookupTable(client, tableName);
        progress.table = table;
        const columns = resolveColumns(table, columnNames, 'records');
        if (upsertKey) resolveColumns(table, upsertKey, 'upsert_key');
        progress.columns = columnNames;
        if (input.records.length === 0)
          return { written: 0, inserted: 0, updated: 0, duplicates: 0 };
        await client.query('BEGIN');
        progress.commitState = 'rolled_back';
        await setTimeouts(client, statementTimeout, config.lockTimeoutMs, true);
        const written = upsertKey
          ? await upsert(client, input, table, columns, upsertKey, progress, ctx.signal)
          : await insert(client, input, table, columns, progress, ctx.signal);
        progress.commitState = 'unknown';
        await client.query('COMMIT');
        progress.commitState = 'committed';
        return written;
      },
      ctx.signal,
    );
    return {
      success: true,
      records_processed: input.records.length,
      batches_processed: progress.batches,
      execution_time_ms: elapsed(),
      ...(upsertKey
        ? {
            rows_inserted: result.inserted,
            rows_updated: result.updated,
            duplicate_records: result.duplicates,
          }
        : {}),
      commit_state: input.records.length === 0 ? 'none' : 'committed',
    };
  } catch (err) {
    if (err instanceof BadRequestError) throw err;
    const sqlstate = (err as { code?: unknown }).code;
    if (sqlstate === '42P10' && upsertKey) {
      throw new BadRequestError(
        `upsert_key (${upsertKey.join(', ')}) does not match a unique index or primary key of ${input.table_name}`,
        {
          reason: 'no_unique_constraint',
          field: 'upsert_key',
          sqlstate,
        },
      );
    }
    const failure = classify(err, {
      secrets: target.secrets,
      action,
      commitState: progress.commitState,
      columns: progress.columns,
      ...(progress.lineToRecord ? { lineToRecord: progress.lineToRecord } : {}),
      idempotent: upsertKey !== undefined,
    });
    if (failure.code === -32103) throw failureError(failure);
    ctx.log.info('bulk write failed', {
      component,
      reason: failure.reason,
      sqlstate: failure.sqlstate,
      commitState: failure.commitState,
    });
    if (input.raise_on_failure) throw failureError(failure);
    return {
      records_processed: 0,
      batches_processed: progress.batches,
      execution_time_ms: elapsed(),
      ...failureOutput(failure),
    };
  }
}

function columnList(columns: readonly ColumnInfo[]): string {
  return columns.map((c) => quoteIdent(c.name)).join(', ');
}

async function insert(
  client: pg.PoolClient,
  input: BulkInput,
  table: TableInfo,
  columns: readonly ColumnInfo[],
  progress: Progress,
  signal: AbortSignal,
) {
  const plan: CopyPlan = {
    records: input.records,
    columns: columns.map((c) => c.name),
    encoders: columns.map(encoderFor),
    batchSize: input.batch_size,
    skip: undefined,
    batches: 0,
  };
  progress.lineToRecord = (line) =>
    line >= 1 && line <= input.records.length ? line - 1 : undefined;
  try {
    const rows = await copyInto(
      client,
      `COPY ${table.quoted} (${columnList(columns)}) FROM STDIN`,
      plan,
      signal,
    );
    return { written: rows, inserted: rows, updated: 0, duplicates: 0 };
  } finally {
    progress.batches = plan.batches;
  }
}

const STAGE = quoteIdent('stepflow_upsert_stage');

async function upsert(
  client: pg.PoolClient,
  input: BulkInput,
  table: TableInfo,
  columns: readonly ColumnInfo[],
  upsertKey: readonly string[],
  progress: Progress,
  signal: AbortSignal,
) {
  const skip = supersededRecords(input.records, upsertKey);
  const plan: CopyPlan = {
    records: input.records,
    columns: columns.map((c) => c.name),
    encoders: columns.map(encoderFor),
    batchSize: input.batch_size,
    skip,
    batches: 0,
  };
  if (skip) {
    const kept: number[] = [];
    for (let i = 0; i < input.records.length; i++) if (!skip.has(i)) kept.push(i);
    progress.lineToRecord = (line) => kept[line - 1];
  } else {
    progress.lineToRecord = (line) =>
      line >= 1 && line <= input.records.length ? line - 1 : undefined;
  }
  const list = columnList(columns);
  await client.query(
    `CREATE TEMP TABLE ${STAGE} ON COMMIT DROP AS SELECT ${list} FROM ${table.quoted} WITH NO DATA`,
  );
  try {
    await copyInto(client, `COPY pg_temp.${STAGE} (${list}) FROM STDIN`, plan, signal);
  } finally {
    progress.batches = plan.batches;
  }
  progress.lineToRecord = undefined;
  const keySet = new Set(upsertKey);
  const updates = columns.filter((c) => !keySet.has(c.name));
  const overriding = columns.some((c) => c.generated === 'a') ? ' OVERRIDING SYSTEM VALUE' : '';
  const conflict = upsertKey.map(quoteIdent).join(', ');
  const action =
    updates.length === 0
      ? 'DO NOTHING'
      : `DO UPDATE SET ${updates.map((c) => `${quoteIdent(c.name)} = EXCLUDED.${quoteIdent(c.name)}`).join(', ')}`;
  // xmax = 0 only for freshly inserted rows: counts inserts vs updates without a second scan.
  const merged = await client.query<{ inserted: number; total: number }>(
    `WITH merged AS (INSERT INTO ${table.quoted} (${list})${overriding} SELECT ${list} FROM pg_temp.${STAGE} ON CONFLICT (${conflict}) ${action} RETURNING (xmax = 0) AS inserted)
     SELECT count(*) FILTER (WHERE inserted)::int AS inserted, count(*)::int AS total FROM merged`,
  );
  const row = merged.rows[0] ?? { inserted: 0, total: 0 };
  return {
    written: row.total,
    inserted: row.inserted,
    updated: row.total - row.inserted,
    duplicates: skip?.size ?? 0,
  };
}
