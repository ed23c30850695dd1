import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

export const serverUrl = (): string => inject('pgUrl');

/** A URL for another database (or user/password) on the test server. */
export function urlFor(parts: {
  database?: string;
  user?: string;
  password?: string;
  base?: string;
}): string {
  const url = new URL(parts.base ?? serverUrl());
  if (parts.database !== undefined) url.pathname = `/${parts.database}`;
  if (parts.user !== undefined) url.username = parts.user;
  if (parts.password !== undefined) url.password = encodeURIComponent(parts.password);
  return url.toString();
}

export async function connect(url = serverUrl()): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Run SQL on the given database as the superuser and return the rows. */
export async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = await connect(url);
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A fresh database for one test file; returns its URL and a drop function. */
export async function createDatabase(
  prefix: string,
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await sql(serverUrl(), `CREATE DATABASE "${name}"`);
  const url = urlFor({ database: name });
  return {
    url,
    name,
    drop: async () => {
      await sql(
        serverUrl(),
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      await sql(serverUrl(), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/** Sessions of the pack (by application_name) in a database, by state. */
export async function packSessions(
  url: string,
  database: string,
): Promise<{ pid: number; state: string | null; query: string }[]> {
  return sql(
    url,
    `SELECT pid, state, query FROM pg_stat_activity WHERE application_name = 'stepflow-pack-postgres' AND datname = $1`,
    [database],
  );
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
