import { connectionStringSchema, raiseOnFailureSchema } from './statement.js';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BadRequestError,
  ErrorCodes,
  jsonObject,
  LazyArray,
  lazyArray,
  RpcError,
  type ComponentContext,
  z,
} from '@stepflow-packs/core';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { resolveTarget, withClient } from './connection.js';
import { BINARY_HEADER, BINARY_TRAILER, BinaryRowWriter, binaryKinds } from './binary.js';
import { encoderFor, NULL_TEXT, type Encoder } from './copy-format.js';
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

type Row = Record<string, unknown>;

/**
 * `records`: an array of objects (column name → value), as a core `lazyArray`: in a large
 * request over the wire the records arrive unparsed and are parsed batch by batch while COPY
 * streams the previous ones (see `streamInsert`). Checked with a plain predicate per record (a
 * zod parse per record would cost ~30 ms per 100,000); the first non-object is reported at its
 * index (`input.records[i]`). The JSON Schema stays `array` of `object`.
 */
export const recordsSchema = lazyArray(jsonObject().describe('A row: column name → value'), {
  message: 'expected an object (column name → value)',
});

export const bulkInputShape = {
  connection_string: connectionStringSchema,
  table_name: z
    .string()
    .min(1)
    .describe('Target table: table or schema.table (quote parts with "…" for exact case)'),
  records: recordsSchema.describe(
    'Rows to write; the column set is the union of their keys (a missing key takes the column default)',
  ),
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
  raise_on_failure: raiseOnFailureSchema,
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

/**
 * The column set (union of the records' keys, in first-seen order) and each record's shape (its
 * key set). Most calls have one shape; `shapeOf` is only built when there are several.
 */
export interface Shapes {
  columns: string[];
  /** Key sets, each in column order. */
  shapes: string[][];
  /** Shape index of each record; undefined when every record has the same keys. */
  shapeOf: Int32Array | undefined;
}

/** Whether Object.prototype has enumerable properties (then for…in also lists inherited keys). */
function prototypePolluted(): boolean {
  for (const key in Object.prototype) if (key !== undefined) return true;
  return false;
}

/**
 * Whether a plain object's own enumerable keys are exactly `keys`, in order. for…in over an
 * object whose hidden class has an enum cache allocates nothing (Object.keys allocates an array
 * per record); it lists own keys first, so with a clean Object.prototype the two agree.
 */
function hasKeys(record: Record<string, unknown>, keys: readonly string[]): boolean {
  let j = 0;
  for (const key in record) if (key !== keys[j++]) return false;
  return j === keys.length;
}

/** Whether records have exactly `keys`, in that order (the first record's shape when streaming). */
function shapeTest(keys: readonly string[]): (record: Row) => boolean {
  if (!prototypePolluted()) {
    return (record) => Object.getPrototypeOf(record) === Object.prototype && hasKeys(record, keys);
  }
  return (record) => {
    const own = Object.keys(record);
    return own.length === keys.length && own.every((k, j) => k === keys[j]);
  };
}

export function analyseShapes(records: readonly Record<string, unknown>[]): Shapes {
  const seen = new Set<string>();
  const bySignature = new Map<string, number>();
  const keySets: string[][] = [];
  const fastKeys = !prototypePolluted();
  let shapeOf: Int32Array | undefined;
  let previous: string[] | undefined;
  let previousShape = -1;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    // Fast path: records usually have the same keys in the same order as the one before.
    if (
      previous &&
      fastKeys &&
      Object.getPrototypeOf(record) === Object.prototype &&
      hasKeys(record, previous)
    ) {
      if (shapeOf) shapeOf[i] = previousShape;
      continue;
    }
    const keys = Object.keys(record);
    if (previous && keys.length === previous.length && keys.every((k, j) => k === previous![j])) {
      if (shapeOf) shapeOf[i] = previousShape;
      continue;
    }
    for (const key of keys) seen.add(key);
    const signature = [...keys].sort().join('\u0000');
    let shape = bySignature.get(signature);
    if (shape === undefined) {
      shape = keySets.length;
      bySignature.set(signature, shape);
      keySets.push(keys);
    }
    if (shape !== 0 && !shapeOf) shapeOf = new Int32Array(records.length);
    if (shapeOf) shapeOf[i] = shape;
    previous = keys;
    previousShape = shape;
  }
  const columns = [...seen];
  const order = new Map(columns.map((c, i) => [c, i]));
  const shapes = keySets.map((keys) => [...keys].sort((a, b) => order.get(a)! - order.get(b)!));
  return { columns, shapes, shapeOf };
}

/** Union of the records' keys, in first-seen order. */
export function columnUnion(records: readonly Record<string, unknown>[]): string[] {
  return analyseShapes(records).columns;
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

/** Marks "use the column default" in COPY … WITH (DEFAULT '\\D') (PostgreSQL 16+). */
const DEFAULT_TEXT = '\\D';

/** Records by index: an array (wrapped) or a lazily parsed one. */
type RecordSource = Pick<LazyArray<Row>, 'at'>;

interface CopyPlan {
  records: RecordSource;
  columns: readonly string[];
  encoders: readonly Encoder[];
  batchSize: number;
  /** Record indexes to write, in order (all records when undefined). */
  indexes: readonly number[] | Int32Array | undefined;
  /** Text per column for a key missing from a record: NULL, or the DEFAULT marker. */
  missing: readonly string[];
  /** Extra last field per record: the shape index of an upsert stage (an int4). */
  extra?: (index: number) => number;
  /** Binary kinds of the columns when the plan may start in binary format (see binary.ts). */
  binary?: Uint8Array | undefined;
  /** Filled while streaming: how many chunks of batchSize records (or the last) were sent. */
  batches: number;
  /** Plan positions to write: all of them, unless a record fails `conforms` (then it stops there). */
  end: number;
  /** Streaming plans: records must have the plan's shape; the first that has not ends the plan. */
  conforms?: ((record: Row) => boolean) | undefined;
  /** Called after each chunk is handed to COPY (progress reporting). */
  onBatch?: (() => void) | undefined;
}

/** Read a field; keys that exist on Object.prototype must be own properties to count. */
function readers(columns: readonly string[]): ((record: Record<string, unknown>) => unknown)[] {
  return columns.map((name) =>
    name in Object.prototype
      ? (record) => (Object.hasOwn(record, name) ? record[name] : undefined)
      : (record) => record[name],
  );
}

/**
 * Text COPY data for plan positions `from`…end. Chunks end on multiples of batchSize (counted
 * from the start of the plan), so a text tail after binary rows continues the same batches.
 */
function* textChunks(plan: CopyPlan, from: number): Generator<string> {
  const { records, columns, encoders, batchSize, indexes, missing, extra, conforms } = plan;
  const width = columns.length;
  const read = readers(columns);
  let chunk = '';
  for (let n = from; n < plan.end; n++) {
    const i = indexes ? indexes[n]! : n;
    const record = records.at(i)!;
    if (conforms && !conforms(record)) {
      plan.end = n;
      break;
    }
    let line = '';
    for (let c = 0; c < width; c++) {
      const value = read[c]!(record);
      const text = value === undefined ? missing[c]! : encoders[c]!(value);
      line = c === 0 ? text : line + '\t' + text;
    }
    if (extra) line += '\t' + String(extra(i));
    chunk += line + '\n';
    if ((n + 1) % batchSize === 0 || n + 1 === plan.end) {
      plan.batches++;
      plan.onBatch?.();
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') {
    plan.batches++;
    plan.onBatch?.();
    yield chunk;
  }
}

/**
 * Binary COPY data for plan positions 0…, one batch per chunk, encoded lazily (while PostgreSQL
 * ingests the previous chunk). Stops before the first record with a value that has no binary
 * form (`misfit`); `position` is then that record's plan position and the caller sends the rest
 * as text.
 */
class BinaryCopy {
  readonly #plan: CopyPlan;
  readonly #writer: BinaryRowWriter;
  position = 0;
  misfit = false;

  constructor(plan: CopyPlan, kinds: Uint8Array) {
    this.#plan = plan;
    this.#writer = new BinaryRowWriter(kinds, readers(plan.columns), plan.extra !== undefined);
    this.#writer.bytes(BINARY_HEADER);
  }

  /** Encode up to `limit` rows, stopping at the next batch boundary, the end or a misfit. */
  fill(limit = Infinity): void {
    const plan = this.#plan;
    const { records, indexes, extra, batchSize, conforms } = plan;
    const writer = this.#writer;
    const start = this.position;
    let end = Math.min(plan.end, (Math.floor(start / batchSize) + 1) * batchSize, start + limit);
    for (let n = start; n < end; n++) {
      const i = indexes ? indexes[n]! : n;
      const record = records.at(i)!;
      if (conforms && !conforms(record)) {
        plan.end = end = n;
        break;
      }
      if (!writer.row(record, extra ? extra(i) : 0)) {
        this.misfit = true;
        this.position = n;
        return;
      }
    }
    this.position = end;
  }

  *chunks(): Generator<Buffer> {
    const plan = this.#plan;
    for (;;) {
      this.fill();
      // A batch cut short by a misfit is finished by the text COPY that follows.
      if (!this.misfit) {
        plan.batches++;
        plan.onBatch?.();
      }
      if (this.misfit || this.position === plan.end) {
        this.#writer.bytes(BINARY_TRAILER);
        yield this.#writer.take(false);
        return;
      }
      yield this.#writer.take();
    }
  }
}

/** One COPY … FROM STDIN fed from `source`; the number of rows PostgreSQL stored. */
async function streamCopy(
  client: pg.PoolClient,
  sql: string,
  source: Iterable<string | Buffer>,
  signal: AbortSignal,
): Promise<number> {
  const stream = client.query(copyFrom(sql));
  await pipeline(Readable.from(source, { objectMode: false, highWaterMark: 1 }), stream, {
    signal,
  });
  return stream.rowCount;
}

/**
 * Map COPY line numbers (1-based, rows of the COPY starting at plan position `from`) to record
 * indexes (plus `offset` when the plan's records start at that record).
 */
function lineMap(plan: CopyPlan, from: number, offset = 0) {
  const indexes = plan.indexes;
  return (line: number) => {
    if (line < 1 || line > plan.end - from) return undefined;
    return offset + (indexes ? indexes[from + line - 1]! : from + line - 1);
  };
}

/**
 * COPY the plan's records into `target` (a quoted table and column list): binary while every
 * value fits, then text for the rest (at most two COPYs, in record order, in the caller's
 * transaction). Sets `progress.lineToRecord` for the COPY in flight; `offset` is the index of
 * the plan's first record among the call's records.
 */
async function copyInto(
  client: pg.PoolClient,
  target: string,
  plan: CopyPlan,
  signal: AbortSignal,
  progress: Progress,
  offset = 0,
): Promise<number> {
  let from = 0;
  let rows = 0;
  if (plan.binary) {
    const binary = new BinaryCopy(plan, plan.binary);
    binary.fill(1);
    if (binary.position > 0) {
      progress.lineToRecord = lineMap(plan, 0, offset);
      rows += await streamCopy(
        client,
        `COPY ${target} FROM STDIN WITH (FORMAT binary)`,
        binary.chunks(),
        signal,
      );
      from = binary.position;
    }
  }
  if (from < plan.end) {
    progress.lineToRecord = lineMap(plan, from, offset);
    const options = plan.missing.includes(DEFAULT_TEXT) ? ` WITH (DEFAULT '\\D')` : '';
    rows += await streamCopy(
      client,
      `COPY ${target} FROM STDIN${options}`,
      textChunks(plan, from),
      signal,
    );
  }
  return rows;
}

/** Plans whose missing keys mean NULL may go binary when every column type has a binary form. */
function withBinary(plan: CopyPlan, columns: readonly ColumnInfo[]): CopyPlan {
  if (plan.missing.some((m) => m !== NULL_TEXT)) return plan;
  plan.binary = binaryKinds(columns);
  return plan;
}

async function serverVersion(client: pg.PoolClient): Promise<number> {
  const result = await client.query<{ v: number }>(
    "SELECT current_setting('server_version_num')::int AS v",
  );
  return result.rows[0]?.v ?? 0;
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
  const records = input.records;
  const count = records.length;
  const upsertKey = input.upsert_key;
  // A plain insert of records that arrived as JSON text streams them (parsing overlaps COPY);
  // everything else is parsed now. Streaming starts in the first record's shape.
  const all = upsertKey || !records.deferred ? records.toArray() : undefined;
  if (!all) ctx.log.debug('records arrived unparsed: parsing them while COPY streams', { count });
  const shapes = analyseShapes(all ?? (count > 0 ? [records.at(0)!] : []));
  const columnNames = shapes.columns;
  for (const name of columnNames) checkIdentifier(name, 'records');
  if (upsertKey) {
    for (const name of upsertKey) checkIdentifier(name, 'upsert_key');
    if (new Set(upsertKey).size !== upsertKey.length) {
      throw new BadRequestError('upsert_key lists a column twice', {
        reason: 'invalid_upsert_key',
        field: 'upsert_key',
      });
    }
    shapes.shapes.forEach((keys, shape) => {
      const missing = upsertKey.find((k) => !keys.includes(k));
      if (missing === undefined) return;
      const record = shapes.shapeOf ? shapes.shapeOf.indexOf(shape) : 0;
      throw new BadRequestError(
        `upsert_key column ${JSON.stringify(missing)} is missing from records[${record}]; every record needs the whole key`,
        { reason: 'invalid_upsert_key', field: `records[${record}]`, identifier: missing, record },
      );
    });
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
        if (count === 0) return { written: 0, inserted: 0, updated: 0, duplicates: 0 };
        await client.query('BEGIN');
        progress.commitState = 'rolled_back';
        await setTimeouts(client, statementTimeout, config.lockTimeoutMs, true);
        let sent = 0;
        const write: Write = {
          client,
          table,
          batchSize: input.batch_size,
          progress,
          signal: ctx.signal,
          // Rides on the Stepflow 0.13 heartbeats; a no-op on the JSON-RPC generations.
          onBatch: () => {
            sent = Math.min(count, sent + input.batch_size);
            ctx.reportProgress(sent / count, `${sent} of ${count} records sent to COPY`);
          },
        };
        const written = !all
          ? await streamInsert(write, records, columns)
          : upsertKey
            ? await upsert(write, all, columns, shapes, upsertKey)
            : await insert(write, all, 0, columns, shapes);
        progress.commitState = 'unknown';
        await client.query('COMMIT');
        progress.commitState = 'committed';
        return written;
      },
      ctx.signal,
    );
    return {
      success: true,
      records_processed: count,
      batches_processed: progress.batches,
      execution_time_ms: elapsed(),
      ...(upsertKey
        ? {
            rows_inserted: result.inserted,
            rows_updated: result.updated,
            duplicate_records: result.duplicates,
          }
        : {}),
      commit_state: count === 0 ? 'none' : 'committed',
    };
  } catch (err) {
    // Invalid requests are errors, never failure data: identifiers, and records found invalid
    // (or not JSON) while streaming.
    if (err instanceof BadRequestError || isInputError(err)) throw err;
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
    if (failure.code === ErrorCodes.COMPONENT_BAD_REQUEST) throw failureError(failure);
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

const isInputError = (err: unknown) =>
  err instanceof RpcError &&
  (err.code === ErrorCodes.INVALID_INPUT_SCHEMA || err.code === ErrorCodes.PARSE_ERROR);

/** One bulk write in progress: its client (inside the transaction) and settings. */
interface Write {
  client: pg.PoolClient;
  table: TableInfo;
  batchSize: number;
  progress: Progress;
  signal: AbortSignal;
  /** Called after each chunk of records is sent (ctx.reportProgress). */
  onBatch: () => void;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

/** COPY one plan, keeping the batch count in `progress` even when it fails. */
async function runPlan(write: Write, target: string, plan: CopyPlan): Promise<number> {
  plan.onBatch = write.onBatch;
  try {
    return await copyInto(write.client, target, plan, write.signal, write.progress);
  } finally {
    write.progress.batches = plan.batches;
  }
}

/**
 * Plain insert of records that arrived as JSON text: one COPY in the first record's shape,
 * each batch parsed while PostgreSQL ingests the previous one. The first record with other keys
 * ends that COPY; the rest (parsed then) is written by `insert` like records given parsed, in
 * the same transaction, so the outcome is the same either way.
 */
async function streamInsert(write: Write, records: LazyArray<Row>, columns: readonly ColumnInfo[]) {
  const names = columns.map((c) => c.name);
  const plan: CopyPlan = withBinary(
    {
      records,
      columns: names,
      encoders: columns.map(encoderFor),
      batchSize: write.batchSize,
      indexes: undefined,
      missing: columns.map(() => NULL_TEXT),
      batches: write.progress.batches,
      end: records.length,
      conforms: shapeTest(names),
    },
    columns,
  );
  const rows = await runPlan(write, `${write.table.quoted} (${columnList(columns)})`, plan);
  if (plan.end === records.length)
    return { written: rows, inserted: rows, updated: 0, duplicates: 0 };
  const all = records.toArray();
  const shapes = analyseShapes(all.slice(plan.end));
  write.progress.columns = shapes.columns;
  const rest = await insert(
    write,
    all,
    plan.end,
    resolveColumns(write.table, shapes.columns, 'records'),
    shapes,
  );
  const written = rows + rest.written;
  return { written, inserted: written, updated: 0, duplicates: 0 };
}

/**
 * Plain inserts of `records[from…]` (`shapes` describes that part) stream through COPY. With
 * one record shape that is one COPY. When records have different keys, a missing key takes the
 * column's DEFAULT: on PostgreSQL 16+ one COPY with the DEFAULT marker; before that, one COPY
 * per run of records with the same keys (so the rows still arrive in record order).
 */
async function insert(
  write: Write,
  records: Row[],
  from: number,
  columns: readonly ColumnInfo[],
  shapes: Shapes,
) {
  const { client, table } = write;
  const source = LazyArray.from(records);
  const byName = new Map(columns.map((c) => [c.name, c]));
  const plan = (
    cols: readonly ColumnInfo[],
    indexes: CopyPlan['indexes'],
    useDefaults: boolean,
  ): CopyPlan =>
    withBinary(
      {
        records: source,
        columns: cols.map((c) => c.name),
        encoders: cols.map(encoderFor),
        batchSize: write.batchSize,
        indexes,
        // The DEFAULT marker is an error for a column without a default: NULL is its default.
        missing: cols.map((c) => (useDefaults && c.hasDefault ? DEFAULT_TEXT : NULL_TEXT)),
        batches: write.progress.batches,
        end: indexes ? indexes.length : records.length,
      },
      cols,
    );
  const positions = from === 0 ? undefined : range(from, records.length);
  const target = (cols: readonly ColumnInfo[]) => `${table.quoted} (${columnList(cols)})`;
  let rows = 0;
  if (!shapes.shapeOf) {
    rows = await runPlan(write, target(columns), plan(columns, positions, false));
  } else if ((await serverVersion(client)) >= 160000) {
    rows = await runPlan(write, target(columns), plan(columns, positions, true));
  } else {
    const shapeOf = shapes.shapeOf;
    const count = records.length - from;
    for (let start = 0; start < count;) {
      let end = start + 1;
      while (end < count && shapeOf[end] === shapeOf[start]) end++;
      const cols = shapes.shapes[shapeOf[start]!]!.map((name) => byName.get(name)!);
      rows += await runPlan(
        write,
        target(cols),
        plan(cols, range(from + start, from + end), false),
      );
      start = end;
    }
  }
  return { written: rows, inserted: rows, updated: 0, duplicates: 0 };
}

const STAGE = quoteIdent('stepflow_upsert_stage');
const SHAPE = quoteIdent('stepflow_shape');

/**
 * Upserts: COPY every record into a temporary table, then one INSERT … SELECT … ON CONFLICT DO
 * UPDATE per record shape. Only the columns a record has are written: a missing key takes the
 * column default when the row is new and leaves the stored value alone when it is updated.
 */
async function upsert(
  write: Write,
  records: Row[],
  columns: readonly ColumnInfo[],
  shapes: Shapes,
  upsertKey: readonly string[],
) {
  const { client, table, progress } = write;
  const skip = supersededRecords(records, upsertKey);
  let indexes: number[] | undefined;
  if (skip) {
    indexes = [];
    for (let i = 0; i < records.length; i++) if (!skip.has(i)) indexes.push(i);
  }
  const shapeOf = shapes.shapeOf;
  const copy: CopyPlan = withBinary(
    {
      records: LazyArray.from(records),
      columns: columns.map((c) => c.name),
      encoders: columns.map(encoderFor),
      batchSize: write.batchSize,
      indexes,
      missing: columns.map(() => NULL_TEXT),
      ...(shapeOf ? { extra: (i: number) => shapeOf[i]! } : {}),
      batches: 0,
      end: indexes ? indexes.length : records.length,
    },
    columns,
  );
  const list = columnList(columns);
  await client.query(
    `CREATE TEMP TABLE ${STAGE} ON COMMIT DROP AS SELECT ${list}${shapeOf ? `, 0::int AS ${SHAPE}` : ''} FROM ${table.quoted} WITH NO DATA`,
  );
  await runPlan(write, `pg_temp.${STAGE} (${list}${shapeOf ? `, ${SHAPE}` : ''})`, copy);
  progress.lineToRecord = undefined;
  const keySet = new Set(upsertKey);
  const conflict = upsertKey.map(quoteIdent).join(', ');
  const byName = new Map(columns.map((c) => [c.name, c]));
  let inserted = 0;
  let total = 0;
  for (let shape = 0; shape < shapes.shapes.length; shape++) {
    if (shapeOf && !shapeOf.includes(shape)) continue;
    const cols = shapes.shapes[shape]!.map((name) => byName.get(name)!);
    const names = columnList(cols);
    const updates = cols.filter((c) => !keySet.has(c.name));
    const overriding = cols.some((c) => c.generated === 'a') ? ' OVERRIDING SYSTEM VALUE' : '';
    const action =
      updates.length === 0
        ? 'DO NOTHING'
        : `DO UPDATE SET ${updates.map((c) => `${quoteIdent(c.name)} = EXCLUDED.${quoteIdent(c.name)}`).join(', ')}`;
    const where = shapeOf ? ` WHERE ${SHAPE} = ${shape}` : '';
    // xmax = 0 only for freshly inserted rows: counts inserts vs updates without a second scan.
    const merged = await client.query<{ inserted: number; total: number }>(
      `WITH merged AS (INSERT INTO ${table.quoted} (${names})${overriding} SELECT ${names} FROM pg_temp.${STAGE}${where} ON CONFLICT (${conflict}) ${action} RETURNING (xmax = 0) AS inserted)
     SELECT count(*) FILTER (WHERE inserted)::int AS inserted, count(*)::int AS total FROM merged`,
    );
    inserted += merged.rows[0]?.inserted ?? 0;
    total += merged.rows[0]?.total ?? 0;
  }
  return { written: total, inserted, updated: total - inserted, duplicates: skip?.size ?? 0 };
}
