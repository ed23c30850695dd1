import type { TestKit } from '@stepflow-packs/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closePools } from '../src/index.js';
import { kitFor, rpcError } from './support/kit.js';
import { createDatabase, sql, waitFor } from './support/pg.js';

let db: Awaited<ReturnType<typeof createDatabase>>;
let kit: TestKit;

interface TxOutput {
  success: boolean;
  results: { rows?: Record<string, unknown>[]; row_count: number; command: string }[];
  statements_executed: number;
  failed_statement?: number;
  commit_state?: string;
  sqlstate?: string;
  error_code?: number;
  error_message?: string;
}

beforeAll(async () => {
  db = await createDatabase('tx');
  kit = kitFor(db.url);
});

beforeEach(async () => {
  await sql(
    db.url,
    'DROP TABLE IF EXISTS accounts; CREATE TABLE accounts (id int PRIMARY KEY, balance int CHECK (balance >= 0))',
  );
  await sql(db.url, 'INSERT INTO accounts VALUES (1, 100), (2, 0)');
});

afterAll(async () => {
  await closePools();
  await db.drop();
});

const transfer = (amount: number) => [
  {
    query: 'UPDATE accounts SET balance = balance - $1 WHERE id = 1',
    parameters: [amount],
    fetch_mode: 'none',
  },
  {
    query: 'UPDATE accounts SET balance = balance + $1 WHERE id = 2',
    parameters: [amount],
    fetch_mode: 'none',
  },
  { query: 'SELECT id, balance FROM accounts ORDER BY id' },
];

describe('transaction', () => {
  it('runs every statement and commits them together, returning each result', async () => {
    const out = await kit.execute<TxOutput>('transaction', { statements: transfer(30) });
    expect(out).toMatchObject({ success: true, statements_executed: 3, commit_state: 'committed' });
    expect(out.results[0]).toEqual({ row_count: 1, command: 'UPDATE' });
    expect(out.results[2]!.rows).toEqual([
      { id: 1, balance: 70 },
      { id: 2, balance: 30 },
    ]);
  });

  it('rolls everything back when a later statement fails, naming the statement', async () => {
    const out = await kit.execute<TxOutput>('transaction', { statements: transfer(130) });
    expect(out).toMatchObject({
      success: false,
      failed_statement: 0,
      sqlstate: '23514',
      error_code: -32101,
      commit_state: 'rolled_back',
    });
    const late = await kit.execute<TxOutput>('transaction', {
      statements: [
        transfer(10)[0],
        { query: 'INSERT INTO accounts VALUES ($1, $2)', parameters: [1, 5] },
      ],
    });
    expect(late).toMatchObject({
      success: false,
      failed_statement: 1,
      statements_executed: 1,
      sqlstate: '23505',
      results: [],
    });
    expect(await sql(db.url, 'SELECT balance FROM accounts ORDER BY id')).toEqual([
      { balance: 100 },
      { balance: 0 },
    ]);
  });

  it('raises -32101 with data.statement when raise_on_failure is set', async () => {
    const err = await rpcError(kit, 'transaction', {
      statements: transfer(130),
      raise_on_failure: true,
    });
    expect(err.code).toBe(-32101);
    expect(err.data).toMatchObject({ statement: 0, sqlstate: '23514', commitState: 'rolled_back' });
  });

  it('refuses transaction-control statements with -32103 before running anything', async () => {
    const err = await rpcError(kit, 'transaction', {
      statements: [transfer(10)[0], { query: '/* done */ COMMIT' }],
    });
    expect(err.code).toBe(-32103);
    expect(err.data).toMatchObject({ reason: 'transaction_control', field: 'statements[1].query' });
    expect(await sql(db.url, 'SELECT balance FROM accounts WHERE id = 1')).toEqual([
      { balance: 100 },
    ]);
  });

  it('honours read_only and the isolation level', async () => {
    const ro = await kit.execute<TxOutput>('transaction', {
      statements: transfer(1),
      read_only: true,
    });
    expect(ro).toMatchObject({ success: false, sqlstate: '25006' });
    const level = await kit.execute<TxOutput>('transaction', {
      statements: [{ query: 'SHOW transaction_isolation' }],
      isolation_level: 'serializable',
    });
    expect(level.results[0]!.rows).toEqual([{ transaction_isolation: 'serializable' }]);
  });

  it('reports commit_state unknown and -32102 not retryable when the connection dies during COMMIT', async () => {
    // A deferred constraint trigger makes COMMIT slow enough to cut the connection inside it.
    await sql(
      db.url,
      `CREATE OR REPLACE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(3); RETURN NULL; END $$;
       DROP TRIGGER IF EXISTS slow ON accounts;
       CREATE CONSTRAINT TRIGGER slow AFTER UPDATE ON accounts DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()`,
    );
    try {
      const pending = kit.call('transaction', {
        statements: [
          { query: 'UPDATE accounts SET balance = balance WHERE id = 1', fetch_mode: 'none' },
        ],
        raise_on_failure: true,
      });
      const pid = await waitFor('COMMIT to run', async () => {
        const rows = await sql<{ pid: number }>(
          db.url,
          "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'stepflow-pack-postgres' AND query = 'COMMIT' AND state = 'active'",
          [db.name],
        );
        return rows[0]?.pid;
      });
      await sql(db.url, 'SELECT pg_terminate_backend($1)', [pid]);
      const outcome = await pending;
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      expect(outcome.error.code).toBe(-32102);
      expect(outcome.error.data).toMatchObject({
        commitState: 'unknown',
        retryable: false,
        reason: 'commit_unknown',
      });
      // The pool recovers: the next call works on a fresh connection.
      await sql(db.url, 'DROP TRIGGER slow ON accounts');
      const next = await kit.execute<TxOutput>('transaction', {
        statements: [{ query: 'SELECT 1 AS one' }],
      });
      expect(next.success).toBe(true);
    } finally {
      await sql(db.url, 'DROP TRIGGER IF EXISTS slow ON accounts');
    }
  });
});
