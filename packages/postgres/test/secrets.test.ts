import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, sql, urlFor } from './support/pg.js';
import { binPath, run, startPackWorker, type PackWorker } from './support/worker.js';

// A unique canary is the PostgreSQL password; it must never come back out of the worker.
const CANARY = `Canary-${randomBytes(8).toString('hex')}`;
const ENCODED = encodeURIComponent(`${CANARY}/@:`);
let db: Awaited<ReturnType<typeof createDatabase>>;
let goodUrl: string;
let pack: PackWorker;
const responses: string[] = [];

beforeAll(async () => {
  db = await createDatabase('secrets');
  await sql(db.url, `CREATE ROLE canary_user LOGIN PASSWORD '${CANARY}'`);
  await sql(db.url, `CREATE ROLE canary_user2 LOGIN PASSWORD '${CANARY}/@:'`);
  await sql(
    db.url,
    'GRANT ALL ON SCHEMA public TO canary_user; CREATE TABLE t (id int PRIMARY KEY); GRANT ALL ON t TO canary_user',
  );
  goodUrl = urlFor({ base: db.url, user: 'canary_user', password: CANARY });
  pack = await startPackWorker({ DATABASE_URL: goodUrl, STEPFLOW_LOG_LEVEL: 'debug' });
});

afterAll(async () => {
  await pack?.close();
  await sql(
    db.url,
    'DROP OWNED BY canary_user; DROP ROLE IF EXISTS canary_user; DROP ROLE IF EXISTS canary_user2',
  ).catch(() => undefined);
  await db.drop();
});

function countCanary(text: string): number {
  return text.split(CANARY).length - 1 + (text.split(ENCODED).length - 1);
}

const cases: { name: string; component: string; input: Record<string, unknown> }[] = [
  {
    name: 'valid DATABASE_URL, good query',
    component: '/database_query',
    input: { query: 'SELECT current_user AS u' },
  },
  {
    name: 'valid DATABASE_URL, failing query',
    component: '/database_query',
    input: { query: 'SELECT * FROM nowhere', raise_on_failure: true },
  },
  {
    name: 'valid DATABASE_URL, data error in bulk insert',
    component: '/bulk_insert',
    input: { table_name: 't', records: [{ id: 'x' }] },
  },
  {
    name: 'per-call URL with the canary password',
    component: '/database_query',
    input: { query: 'SELECT 1 AS one' },
  },
  {
    name: 'per-call URL with an encoded canary password',
    component: '/database_query',
    input: { query: 'SELECT 1 AS one' },
  },
  {
    name: 'wrong password (the canary)',
    component: '/database_query',
    input: { query: 'SELECT 1' },
  },
  {
    name: 'wrong password, raised',
    component: '/bulk_insert',
    input: { table_name: 't', records: [{ id: 1 }], raise_on_failure: true },
  },
  { name: 'malformed URL', component: '/database_query', input: { query: 'SELECT 1' } },
  { name: 'keyword/value string', component: '/database_query', input: { query: 'SELECT 1' } },
  { name: 'unreachable host', component: '/copy_out', input: { query: 'SELECT 1' } },
  {
    name: 'unknown database',
    component: '/transaction',
    input: { statements: [{ query: 'SELECT 1' }], raise_on_failure: true },
  },
];

function connectionFor(name: string): string | undefined {
  switch (name) {
    case 'per-call URL with the canary password':
      return goodUrl;
    case 'per-call URL with an encoded canary password':
      return urlFor({ base: db.url, user: 'canary_user2', password: `${CANARY}/@:` });
    case 'wrong password (the canary)':
    case 'wrong password, raised':
      return urlFor({ base: db.url, user: 'postgres', password: CANARY });
    case 'malformed URL':
      return `postgres://canary_user:${CANARY}@[::1/db`;
    case 'keyword/value string':
      return `host=127.0.0.1 user=canary_user password=${CANARY}`;
    case 'unreachable host':
      return `postgres://canary_user:${CANARY}@127.0.0.1:1/db`;
    case 'unknown database':
      return urlFor({ base: goodUrl, database: 'no_such_db' });
    default:
      return undefined;
  }
}

describe('the PostgreSQL password never appears in any output', () => {
  it.each(cases)(
    '$name: 0 occurrences of the canary in the response',
    async ({ name, component, input }) => {
      const connection_string = connectionFor(name);
      const outcome = await run(
        pack.worker,
        component,
        connection_string ? { ...input, connection_string } : input,
      );
      const text = JSON.stringify(outcome);
      responses.push(text);
      expect(countCanary(text)).toBe(0);
      if (name.startsWith('per-call') || name === 'valid DATABASE_URL, good query')
        expect(outcome.ok).toBe(true);
      if (name.startsWith('wrong password')) expect(text).toContain('28P01');
    },
  );

  it('0 occurrences in every stdout frame and stderr line of the worker (debug logging)', () => {
    expect(responses.length).toBe(cases.length);
    expect(pack.received.length).toBeGreaterThan(cases.length);
    expect(countCanary(pack.received.join('\n'))).toBe(0);
    const stderr = pack.worker.stderrTail().join('\n');
    expect(countCanary(stderr)).toBe(0);
  });

  it('0 occurrences when the worker refuses a malformed DATABASE_URL at start-up', () => {
    const result = spawnSync(process.execPath, [binPath, '--transport', 'stdio'], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: `postgres//user:${CANARY}@host/db` },
      input: '',
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('DATABASE_URL');
    expect(countCanary(result.stdout + result.stderr)).toBe(0);
  });
});
