import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../scripts/embedded-pg.mjs';
import { packSessions, sql, waitFor } from './support/pg.js';
import { isAlive, run, startPackWorker, type PackWorker } from './support/worker.js';

// This test owns its cluster: initdb + pg_ctl start (daemonised), so that
// `pg_ctl restart -m fast` works.
let cluster: Cluster;
let pack: PackWorker;

const rows = (n: number, offset = 0) =>
  Array.from({ length: n }, (_, i) => ({
    id: offset + i,
    name: `n${offset + i}`,
    email: `e${i}@x`,
    score: i / 3,
    created_at: '2024-01-01T00:00:00Z',
  }));

beforeAll(async () => {
  cluster = await startCluster({
    mode: 'pg_ctl',
    password: `pw-${randomBytes(6).toString('hex')}`,
  });
  await sql(
    cluster.url,
    `CREATE TABLE big (id int PRIMARY KEY, name text, email text, score float8, created_at timestamptz);
     CREATE FUNCTION pass() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
     CREATE TRIGGER slow BEFORE INSERT ON big FOR EACH ROW EXECUTE FUNCTION pass();`,
  );
  pack = await startPackWorker({
    DATABASE_URL: cluster.url,
    STEPFLOW_PG_CONNECT_TIMEOUT_MS: '2000',
  });
});

afterAll(async () => {
  await pack?.close();
  await cluster?.stop();
});

describe('PostgreSQL restarted mid-insert', () => {
  it('answers -32102 ≤ 5 s with 0 rows committed, and a bulk insert succeeds ≤ 10 s after PG is back without restarting the worker', async () => {
    // Warm the pool so that idle connections exist when the server goes away.
    await Promise.all(
      Array.from({ length: 3 }, () =>
        run(pack.worker, '/database_query', { query: 'SELECT pg_sleep(0.05)' }),
      ),
    );
    const pid = pack.worker.pid;
    const pending = run(pack.worker, '/bulk_insert', {
      table_name: 'big',
      records: rows(200_000),
      batch_size: 10_000,
      raise_on_failure: true,
    });
    await waitFor(
      'the COPY to pass its first chunk',
      async () =>
        (
          await sql(
            cluster.url,
            'SELECT pid FROM pg_stat_progress_copy WHERE tuples_processed >= 10000',
          )
        ).length > 0,
      30_000,
      5,
    );
    const restartAt = performance.now();
    const restart = new Promise<void>((resolve, reject) => {
      // pg_ctl restart blocks until the server is up again (-w); run it off the event loop's way.
      setImmediate(() => {
        try {
          cluster.pgCtl(['restart', '-m', 'fast']);
          resolve();
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    const outcome = await pending;
    const answeredMs = performance.now() - restartAt;
    await restart;
    const backAt = performance.now();

    expect(outcome.ok).toBe(false);
    expect(outcome.error!.code).toBe(-32102);
    expect(outcome.error!.data).toMatchObject({ retryable: true, commitState: 'rolled_back' });
    expect(answeredMs).toBeLessThanOrEqual(5000);

    // After PG is back: retry until it works, within 10 s, same worker process.
    const next = await waitFor(
      'a bulk insert to succeed after the restart',
      async () => {
        const attempt = await run(pack.worker, '/bulk_insert', {
          table_name: 'big',
          records: rows(1000, 900_000),
        });
        return attempt.output?.success === true ? attempt : undefined;
      },
      10_000,
      100,
    );
    expect(performance.now() - backAt).toBeLessThanOrEqual(10_000);
    expect(next.output).toMatchObject({ records_processed: 1000 });
    expect(pack.worker.pid).toBe(pid);
    expect(isAlive(pack.worker)).toBe(true);
    expect(await sql(cluster.url, 'SELECT count(*)::int AS n FROM big')).toEqual([{ n: 1000 }]);
    const sessions = await packSessions(cluster.url, 'postgres');
    expect(sessions.filter((s) => s.state?.startsWith('idle in transaction'))).toEqual([]);
  });
});
