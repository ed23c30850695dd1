import { BadRequestError, z } from '@stepflow-packs/core';
import type pg from 'pg';
import { parameterValue } from './copy-format.js';

export const fetchModeSchema = z
  .enum(['all', 'one', 'none'])
  .default('all')
  .describe('all: every row; one: the first row only; none: no rows, row_count = rows affected');

export const parametersSchema = z
  .array(z.unknown())
  .optional()
  .describe('Values for $1, $2, …: always sent as bound parameters, never spliced into the SQL');

/** `connection_string` as in Stepflow's docs: optional, the server default otherwise. */
export const connectionStringSchema = z
  .string()
  .optional()
  .describe(
    'postgres:// URL; defaults to the server configuration (DATABASE_URL / PG* variables). May be disabled by the server.',
  );

/** Failures as data (the docs' contract) unless the caller asks for JSON-RPC errors. */
export const raiseOnFailureSchema = z
  .boolean()
  .default(false)
  .describe(
    'Raise a JSON-RPC error (-32101 data, -32102 unavailable/timeout) instead of returning success: false',
  );

export type FetchMode = z.output<typeof fetchModeSchema>;

/** How long after statement_timeout the client stops waiting for the server's answer. */
export const CLIENT_GRACE_MS = 3000;

export interface StatementResult {
  rows?: Record<string, unknown>[];
  row_count: number;
  command: string;
}

/**
 * Run one statement on the extended protocol (a single statement; values bound, never
 * interpolated) and shape its result by fetch mode. More rows than `maxRows` is refused.
 */
export async function runStatement(
  client: pg.ClientBase,
  query: string,
  parameters: readonly unknown[] | undefined,
  fetchMode: FetchMode,
  maxRows: number,
  statementTimeoutMs?: number,
): Promise<StatementResult> {
  const result = await client.query({
    text: query,
    values: (parameters ?? []).map(parameterValue),
    queryMode: 'extended',
    // Backstop when the server cannot even answer the cancel (network gone): the client gives up
    // a little after the server-side statement_timeout and the connection is destroyed.
    ...(statementTimeoutMs !== undefined
      ? { query_timeout: statementTimeoutMs + CLIENT_GRACE_MS }
      : {}),
  } as pg.QueryConfig);
  const command = result.command ?? '';
  const returned = Array.isArray(result.rows) ? result.rows.length : 0;
  const rowCount = result.rowCount ?? returned;
  if (fetchMode === 'none') return { row_count: rowCount, command };
  if (fetchMode === 'one') return { rows: result.rows.slice(0, 1), row_count: rowCount, command };
  if (returned > maxRows) {
    throw new BadRequestError(
      `the query returned ${returned} rows, more than the server limit of ${maxRows}; add LIMIT or use copy_out`,
      {
        reason: 'row_limit',
        limit: maxRows,
        actual: returned,
      },
    );
  }
  return { rows: result.rows, row_count: rowCount, command };
}
