import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDatabase, packSessions, sql, waitFor } from './support/pg.js';
import { isAlive, run, startPackWorker, type PackWorker } from './support/worker.js';

let db: Awaited<ReturnType<typeof createDatabase>>;
let pack: PackWorker;

const rows = (n: number, offset = 0) =>
  Array.from({ length: n }, (_, i) => ({
    id: offset + i,
    name: `name-${offset + i}`,
    email: `user${offset + i}@example.com`,
    score: (offset + i) * 0.5,
    created_at: '2024-03-01T12:00:00Z',
  }));

const count = async (table: string) =>
  (await sql<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM ${table}`))[0]!.n;

beforeAll(async () => {
  db = await createDatabase('faults');
  await sql(
    db.url,
    `CREATE TABLE big (id int PRIMARY KEY, name text, email text, score float8, created_at timestamptz);
     -- a per-row trigger slows COPY down enough to interrupt it reliably after the first chunk
     CREATE FUNCTION pass() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
     CREATE TRIGGER slow BEFORE INSERT ON big FOR EACH ROW EXECUTE FUNCTION pass();
     CREATE TABLE checked (id int PRIMARY KEY, name text, email text, score float8 CHECK (score < 1000000), created_at timestamptz);`,
  );
  pack = await startPackWorker({ DATABASE_URL: db.url, STEPFLOW_PG_POOL_MAX: '5' });
});

afterAll(async () => {
  await pack?.close();
  await db?.drop();
});

async function idleInTransaction(): Promise<number> {
  return (await packSessions(db.url, db.name)).filter((s) =>
    s.state?.startsWith('idle in transaction'),
  ).length;
}

describe('fault tests', () => {
  it('pg_terminate_backend mid 200k-row insert → -32102 ≤ 5 s, 0 new rows, worker alive, next insert ≤ 2 s, 0 idle-in-transaction sessions', async () => {
    const before = await count('big');
    const pending = run(pack.worker, '/bulk_insert', {
      table_name: 'big',
      records: rows(200_000),
      batch_size: 10_000,
      raise_on_failure: true,
    });
    // After the first chunk has reached the server: the COPY has processed rows.
    const pid = await waitFor(
      'the COPY to pass its first chunk',
      async () => {
        const progress = await sql<{ pid: number }>(
          db.url,
          'SELECT pid FROM pg_stat_progress_copy WHERE datname = $1 AND tuples_processed >= 10000',
          [db.name],
        );
        return progress[0]?.pid;
      },
      30_000,
      5,
    );
    const killedAt = performance.now();
    await sql(db.url, 'SELECT pg_terminate_backend($1)', [pid]);
    const outcome = await pending;
    const answeredMs = performance.now() - killedAt;
    expect(outcome.ok).toBe(false);
    expect(outcome.error!.code).toBe(-32102);
    expect(outcome.error!.data).toMatchObject({ retryable: true, commitState: 'rolled_back' });
    expect(answeredMs).toBeLessThanOrEqual(5000);
    expect(await count('big')).toBe(before);
    expect(isAlive(pack.worker)).toBe(true);

    const next = await run(pack.worker, '/bulk_insert', {
      table_name: 'big',
      records: rows(1000, 500_000),
      raise_on_failure: true,
    });
    expect(next.output).toMatchObject({ success: true, records_processed: 1000 });
    expect(next.ms).toBeLessThanOrEqual(2000);
    expect(await count('big')).toBe(before + 1000);
    expect(await idleInTransaction()).toBe(0);
  });

  it('pg_sleep(30) with a 500 ms timeout → error ≤ 1.5 s with SQLSTATE 57014, no pg_sleep left after 2 s, next query ≤ 1 s', async () => {
    const outcome = await run(pack.worker, '/database_query', {
      query: 'SELECT pg_sleep(30)',
      timeout: 0.5,
      raise_on_failure: true,
    });
    expect(outcome.ok).toBe(false);
    expect(outcome.ms).toBeLessThanOrEqual(1500);
    expect(outcome.error!.code).toBe(-32102);
    expect(outcome.error!.data).toMatchObject({ sqlstate: '57014', retryable: true });
    const sleeping = () =>
      sql(
        db.url,
        "SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND state = 'active' AND pid <> pg_backend_pid()",
      );
    const cancelled = performance.now();
    await vi.waitUntil(async () => (await sleeping()).length === 0, {
      timeout: 2000,
      interval: 50,
    });
    expect(performance.now() - cancelled).toBeLessThanOrEqual(2000);
    const next = await run(pack.worker, '/database_query', { query: 'SELECT 1 AS ok' });
    expect(next.output).toMatchObject({ success: true, rows: [{ ok: 1 }] });
    expect(next.ms).toBeLessThanOrEqual(1000);
  });

  it('50 calls failing in their last chunk with pool max 5 → all answered, the 51st succeeds ≤ 1 s, 0 aborted-transaction sessions', async () => {
    const failing = rows(1000, 0);
    failing[999] = { ...failing[999]!, score: 5_000_000 };
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, () =>
        run(pack.worker, '/bulk_insert', {
          table_name: 'checked',
          records: failing,
          batch_size: 100,
        }),
      ),
    );
    for (const outcome of outcomes) {
      expect(outcome.output).toMatchObject({
        success: false,
        sqlstate: '23514',
        error_code: -32101,
        record_index: 999,
        commit_state: 'rolled_back',
      });
    }
    const fifty_first = await run(pack.worker, '/bulk_insert', {
      table_name: 'checked',
      records: rows(1000, 0),
      raise_on_failure: true,
    });
    expect(fifty_first.output).toMatchObject({ success: true, records_processed: 1000 });
    expect(fifty_first.ms).toBeLessThanOrEqual(1000);
    const sessions = await packSessions(db.url, db.name);
    expect(sessions.length).toBeLessThanOrEqual(5);
    expect(sessions.filter((s) => s.state === 'idle in transaction (aborted)')).toEqual([]);
    expect(await idleInTransaction()).toBe(0);
    expect(isAlive(pack.worker)).toBe(true);
  });
});
