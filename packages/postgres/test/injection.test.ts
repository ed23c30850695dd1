import { readFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startCluster, type Cluster } from '../scripts/embedded-pg.mjs';
import { sql, urlFor } from './support/pg.js';
import { run, startPackWorker, type PackWorker } from './support/worker.js';

// These tests read the server log with log_statement = 'all': the shared embedded cluster's
// log, or an own cluster when the tests run against an external DATABASE_URL.
let own: Cluster | undefined;
let url: string;
let logFile: string;
let logStart = 0;
let pack: PackWorker;

const INJECTED = 'DROP TABLE canary';

beforeAll(async () => {
  logFile = inject('pgLogFile');
  let base = inject('pgUrl');
  if (!logFile) {
    own = await startCluster({ password: `pw-${randomBytes(6).toString('hex')}` });
    base = own.url;
    logFile = own.logFile;
  }
  const database = `inject_${randomBytes(4).toString('hex')}`;
  await sql(base, `CREATE DATABASE ${database}`);
  await sql(base, `ALTER DATABASE ${database} SET log_statement = 'all'`);
  url = urlFor({ base, database });
  await sql(
    url,
    `CREATE TABLE canary (id int, note text); INSERT INTO canary VALUES (1, 'alive'), (2, 'still alive');
    CREATE TABLE t (id int PRIMARY KEY, a text)`,
  );
  logStart = statSync(logFile).size;
  pack = await startPackWorker({ DATABASE_URL: url });
});

afterAll(async () => {
  await pack?.close();
  await own?.stop();
});

const attacks: {
  name: string;
  component: string;
  input: Record<string, unknown>;
  identifier: string;
}[] = [
  {
    name: 'table name breaking out of a quote',
    component: '/bulk_insert',
    input: { table_name: 't"; DROP TABLE canary; --', records: [{ id: 1 }] },
    identifier: 't"; DROP TABLE canary; --',
  },
  {
    name: 'column name closing the column list',
    component: '/bulk_insert',
    input: { table_name: 't', records: [{ id: 1, 'a) VALUES (1); DROP TABLE canary; --': 'x' }] },
    identifier: 'a) VALUES (1); DROP TABLE canary; --',
  },
  {
    name: 'quoted table name containing the attack',
    component: '/bulk_insert',
    input: { table_name: '"t""; DROP TABLE canary; --"', records: [{ id: 1 }] },
    identifier: 't"; DROP TABLE canary; --',
  },
  {
    name: 'schema part carrying the attack',
    component: '/bulk_upsert',
    input: {
      table_name: 'public; DROP TABLE canary; --.t',
      upsert_key: ['id'],
      records: [{ id: 1 }],
    },
    identifier: 'public; DROP TABLE canary; --.t',
  },
  {
    name: 'upsert key carrying the attack',
    component: '/bulk_upsert',
    input: {
      table_name: 't',
      upsert_key: ['id) DO NOTHING; DROP TABLE canary; --'],
      records: [{ id: 1, 'id) DO NOTHING; DROP TABLE canary; --': 1 }],
    },
    identifier: 'id) DO NOTHING; DROP TABLE canary; --',
  },
];

describe('identifier injection', () => {
  it.each(attacks)(
    'refuses a $name with -32103 naming the identifier',
    async ({ component, input, identifier }) => {
      const outcome = await run(pack.worker, component, input);
      expect(outcome.ok).toBe(false);
      expect(outcome.error!.code).toBe(-32103);
      expect(outcome.error!.data.identifier).toBe(identifier);
      expect(outcome.error!.message).toContain(JSON.stringify(identifier));
    },
  );

  it('leaves the canary table and its rows intact, and no logged statement contains the injected text unquoted', async () => {
    for (const { component, input } of attacks) await run(pack.worker, component, input);
    expect(await sql(url, 'SELECT id, note FROM canary ORDER BY id')).toEqual([
      { id: 1, note: 'alive' },
      { id: 2, note: 'still alive' },
    ]);
    expect(await sql(url, 'SELECT count(*)::int AS n FROM t')).toEqual([{ n: 0 }]);
    const log = readFileSync(logFile, 'utf8').slice(logStart);
    // The catalog lookups were logged, so logging works…
    expect(log).toMatch(/LOG: {2}execute <unnamed>: SELECT n\.nspname/);
    // …and the injected text only ever appears inside a bound-parameter literal, never in a
    // logged statement (entries start with a timestamp; statements continue on tab lines).
    const entries = log.split(/\n(?=\d{4}-\d\d-\d\d )/).filter((entry) => entry.includes(INJECTED));
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) {
      expect(entry).toMatch(/^\S+ \S+ \S+ \[\d+\] DETAIL: {2}Parameters: \$1 = '[^\n]*'$/);
    }
  });
});
