import type pg from 'pg';

/** Seconds from the input (fractions allowed) or the server default, as whole milliseconds. */
export function timeoutMs(seconds: number | undefined, defaultMs: number): number {
  return seconds === undefined ? defaultMs : Math.max(1, Math.round(seconds * 1000));
}

/**
 * Server-side statement and lock timeouts for this connection (`local`: this transaction only).
 * Values are bound parameters of set_config, never spliced into SQL.
 */
export async function setTimeouts(
  client: pg.ClientBase,
  statementMs: number,
  lockMs: number,
  local: boolean,
): Promise<void> {
  await client.query({
    text: 'SELECT pg_catalog.set_config($1, $2, $5), pg_catalog.set_config($3, $4, $5)',
    values: ['statement_timeout', String(statementMs), 'lock_timeout', String(lockMs), local],
    queryMode: 'extended',
  } as pg.QueryConfig);
}
