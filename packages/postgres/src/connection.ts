import { createHash } from 'node:crypto';
import { BadRequestError, type Logger } from '@stepflow-packs/core';
import pg from 'pg';
import type { PostgresSettings } from './settings.js';
import { resultTypes } from './types.js';

export const APPLICATION_NAME = 'stepflow-pack-postgres';

/** Where to connect: a pool key, the pg configuration and the secrets to scrub from messages. */
export interface Target {
  readonly key: string;
  readonly connectionString: string | undefined;
  readonly secrets: readonly string[];
}

/** True for a `postgres://` / `postgresql://` URL that `new URL` accepts. */
export function isPostgresUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'postgres:' || url.protocol === 'postgresql:';
  } catch {
    return false;
  }
}

function secretsOf(connectionString: string | undefined): string[] {
  const secrets: string[] = [];
  if (connectionString) {
    try {
      const url = new URL(connectionString);
      if (url.password) {
        secrets.push(url.password);
        try {
          secrets.push(decodeURIComponent(url.password));
        } catch {
          /* undecodable: the raw form is already listed */
        }
      }
      const queryPassword = url.searchParams.get('password');
      if (queryPassword) secrets.push(queryPassword);
    } catch {
      /* not a URL: rejected before use */
    }
  }
  if (process.env.PGPASSWORD) secrets.push(process.env.PGPASSWORD);
  return secrets;
}

/**
 * The connection target of a call: the per-call `connection_string` when given and allowed,
 * else the server's DATABASE_URL, else libpq's PG* environment variables.
 */
export function resolveTarget(
  connectionString: string | undefined,
  config: PostgresSettings,
): Target {
  if (connectionString !== undefined) {
    if (!config.allowConnectionString) {
      throw new BadRequestError(
        'connection_string is disabled on this server (STEPFLOW_PG_ALLOW_CONNECTION_STRING=false); omit it to use the configured database',
        { reason: 'connection_string_disabled', field: 'connection_string' },
      );
    }
    if (!isPostgresUrl(connectionString)) {
      throw new BadRequestError(
        'connection_string must be a postgres:// or postgresql:// URL (the value is not shown because it may contain a password)',
        { reason: 'invalid_connection_string', field: 'connection_string' },
      );
    }
  }
  const chosen = connectionString ?? config.databaseUrl;
  return {
    key: createHash('sha256')
      .update(
        chosen ??
          `env:${process.env.PGHOST ?? ''}:${process.env.PGPORT ?? ''}:${process.env.PGUSER ?? ''}:${process.env.PGDATABASE ?? ''}`,
      )
      .digest('hex'),
    connectionString: chosen,
    secrets: secretsOf(chosen),
  };
}

interface PoolEntry {
  pool: pg.Pool;
  lastUsed: number;
  busy: number;
}

const pools = new Map<string, PoolEntry>();
/** Errors raised while opening or checking out a connection (nothing was sent yet). */
export const connectFailures = new WeakSet<object>();
/** Clients whose connection reported an error: never reused. */
const broken = new WeakSet<pg.ClientBase>();

function poolKey(target: Target, config: PostgresSettings): string {
  return `${target.key}|${config.poolMax}|${config.connectTimeoutMs}|${config.idleTimeoutMs}|${config.lockTimeoutMs}|${config.statementTimeoutMs}`;
}

function createPool(target: Target, config: PostgresSettings, log: Logger): pg.Pool {
  const pool = new pg.Pool({
    ...(target.connectionString ? { connectionString: target.connectionString } : {}),
    max: config.poolMax,
    connectionTimeoutMillis: config.connectTimeoutMs,
    idleTimeoutMillis: config.idleTimeoutMs,
    allowExitOnIdle: true,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: APPLICATION_NAME,
    options: '-c TimeZone=UTC -c DateStyle=ISO',
    statement_timeout: config.statementTimeoutMs,
    lock_timeout: config.lockTimeoutMs,
    // A leaked transaction can never hold locks for long: the server ends such sessions.
    idle_in_transaction_session_timeout: 60_000,
    types: resultTypes,
  });
  // Errors of idle clients arrive here (the pool then drops the client); never crash on them.
  pool.on('error', (err) => {
    log.warn('idle PostgreSQL connection failed; it was removed from the pool', {
      error: errorCode(err),
    });
  });
  // Errors of checked-out clients: mark the client broken (destroyed on release) and keep going.
  pool.on('connect', (client) => {
    client.on('error', (err) => {
      broken.add(client);
      log.debug('PostgreSQL connection failed', { error: errorCode(err) });
    });
  });
  return pool;
}

function errorCode(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string')
    return err.code;
  return err instanceof Error ? err.name : 'unknown';
}

/** The pool of a target (created on first use; the least recently used idle pool is closed). */
export function poolFor(target: Target, config: PostgresSettings, log: Logger): pg.Pool {
  const key = poolKey(target, config);
  let entry = pools.get(key);
  if (!entry) {
    entry = { pool: createPool(target, config, log), lastUsed: Date.now(), busy: 0 };
    pools.set(key, entry);
    if (pools.size > config.maxPools) {
      const idle = [...pools.entries()]
        .filter(([k, e]) => k !== key && e.busy === 0)
        .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
      const victim = idle[0];
      if (victim) {
        pools.delete(victim[0]);
        void victim[1].pool.end().catch(() => undefined);
      }
    }
  }
  entry.lastUsed = Date.now();
  return entry.pool;
}

function isUnusable(client: pg.PoolClient): boolean {
  const state = client as unknown as { _ended?: boolean; _ending?: boolean };
  return broken.has(client) || state._ended === true || state._ending === true;
}

/** The server is starting up or shutting down (57P03): worth waiting for, briefly. */
function isStartingUp(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '57P03';
}

/**
 * Check out a healthy client: stale ones left by a server restart are destroyed and skipped, and
 * a server that is still starting up is waited for (within `waitMs`).
 */
export async function acquire(pool: pg.Pool, waitMs = 0): Promise<pg.PoolClient> {
  const deadline = Date.now() + waitMs;
  let stale = 0;
  for (;;) {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      if (isStartingUp(err) && Date.now() + 100 < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      throw err;
    }
    if (!isUnusable(client)) return client;
    client.release(new Error('stale connection'));
    if (++stale > pool.options.max + 1) throw new Error('Connection terminated unexpectedly');
  }
}

/**
 * Give a client back: destroyed when its connection failed or its state is unknown, rolled back
 * when it is still inside a transaction (no `idle in transaction` leaks), else reused.
 */
export async function release(client: pg.PoolClient, destroy = false): Promise<void> {
  if (destroy || isUnusable(client)) {
    client.release(new Error('connection discarded'));
    return;
  }
  const status = (
    client as unknown as { getTransactionStatus?: () => string | null }
  ).getTransactionStatus?.();
  if (status === 'T' || status === 'E') {
    try {
      await client.query('ROLLBACK');
    } catch {
      client.release(new Error('rollback failed'));
      return;
    }
  }
  client.release();
}

/** Close every pool (tests, embedding, shutdown). */
export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((e) => e.pool.end().catch(() => undefined)));
}

/** Ask the server to cancel what a backend is running (own short-lived connection). */
async function cancelBackend(pool: pg.Pool, pid: number, log: Logger): Promise<void> {
  const client = new pg.Client({ ...pool.options, types: undefined } as pg.ClientConfig);
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query({
      text: 'SELECT pg_catalog.pg_cancel_backend($1)',
      values: [pid],
      queryMode: 'extended',
    } as pg.QueryConfig);
  } catch (err) {
    log.warn('could not cancel the running statement', { error: errorCode(err) });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Run `fn` with a client of the target's pool, releasing it afterwards (see `release`). When
 * `signal` aborts (client gone, shutdown) the running statement is cancelled on the server.
 */
export async function withClient<T>(
  target: Target,
  config: PostgresSettings,
  log: Logger,
  fn: (client: pg.PoolClient) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const key = poolKey(target, config);
  const pool = poolFor(target, config, log);
  const entry = pools.get(key);
  if (entry) entry.busy++;
  try {
    let client: pg.PoolClient;
    try {
      client = await acquire(pool, config.connectTimeoutMs);
    } catch (err) {
      if (err && typeof err === 'object') connectFailures.add(err);
      throw err;
    }
    let destroy = false;
    const pid = (client as unknown as { processID?: number }).processID;
    const onAbort = () => {
      if (pid !== undefined) void cancelBackend(pool, pid, log);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await fn(client);
    } catch (err) {
      destroy = isConnectionLevel(err);
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await release(client, destroy);
    }
  } finally {
    if (entry) {
      entry.busy--;
      entry.lastUsed = Date.now();
    }
  }
}

const CONNECTION_MESSAGES = [
  'Connection terminated',
  'connection error',
  'not queryable',
  'Query read timeout',
  'timeout exceeded when trying to connect',
  'Connection terminated unexpectedly',
];
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

/** Whether an error means the connection itself is gone or in an unknown state. */
export function isConnectionLevel(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code)) return true;
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03')
      return true;
    if (code === 'ABORT_ERR') return true;
  }
  if (err.name === 'AbortError') return true;
  return CONNECTION_MESSAGES.some((m) => err.message.includes(m));
}
