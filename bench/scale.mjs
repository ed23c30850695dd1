#!/usr/bin/env node
/**
 * Scale-out: throughput of a CPU-bound data-pack call with 1 and 2 worker replicas, and the
 * per-task cost of the NATS transport against gRPC pull.
 *
 *   nats         the runner's Stepflow 0.13 emulation (@stepflow-packs/runner, in this process)
 *                with a `type: nats` plugin and N external data-pack replicas on one durable
 *                consumer of a real nats-server (JetStream, temporary store)
 *   grpc-runner  the same emulation with a `type: grpc` plugin and N remote pull workers on one
 *                queue: same orchestrator, so nats − grpc-runner is the transport's own cost
 *   grpc-server  the real stepflow-server 0.13.0 (scripts/provision-stepflow.mjs) with a
 *                `type: grpc` plugin without `command` and N remote pull workers on one queue,
 *                runs over its REST API (POST /api/v1/runs, wait: true)
 *
 * Per subject: one orchestrator, then phases with --concurrency runs in flight (default 8: four
 * per replica, so a replica never idles while a completion makes its round trip) for --seconds:
 *   agg   `aggregate` on --records records handed over as a blob (`{"records": {"$blob": id}}`,
 *         stored once per subject): the CPU-bound workload of the scaling target (2-replica ÷
 *         1-replica runs/s ≥ 1.7×). Each replica reads the blob once and then serves it from
 *         its blob cache (ids are content hashes), so the orchestrator moves only small messages.
 *         --rounds rounds of 1 replica and 2, in alternating order (1 then 2, 2 then 1, …);
 *         every phase starts fresh replicas and warms them for --warmup-seconds, so both sides
 *         run equally warm workers. Each round's ratio compares phases that ran next to each
 *         other, and the median ratio is the figure.
 *   sort  `sort_records` on the first --sort-records of them (default 10,000; NATS messages are
 *         limited to 1 MB by default) inline (sorted by a number, then a string, all
 *         returned), with 1 and then 2 replicas: payload-bound, since the orchestrator converts
 *         10,000 records to and from protobuf Values every run; reported for contrast.
 * then `health_check` one at a time for --latency-seconds (p50 latency of a trivial task).
 * Subjects run one after another, so compare them within one invocation.
 *
 *   node bench/scale.mjs [--records 10000] [--sort-records 10000] [--seconds 6] [--latency-seconds 3] [--concurrency 8] [--rounds 5]
 *                        [--warmup-seconds 2] [--only nats,grpc-runner,grpc-server]
 * BENCH_REPLICA_NODE_ARGS adds Node.js options to every replica (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p").
 * Needs a build (core, data, runner), nats-server (Debian's package: /usr/sbin/nats-server, or
 * $NATS_SERVER) and, for grpc-server, `node scripts/provision-stepflow.mjs 0.13.0` (run by the
 * script when missing; network on the first run). Progress to stderr, the table to stdout.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectTcp, createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  Environment,
  parseConfig,
  parseFlow,
  parseYaml,
  toFlowResult,
} from '@stepflow-packs/runner';
import { Pool } from 'undici';
import { provisionStepflow } from '../scripts/provision-stepflow.mjs';
import { machineCpu, median, processCpu, restJson, root } from './lib.mjs';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '10000' },
    'sort-records': { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '6' },
    'latency-seconds': { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '5' },
    'warmup-seconds': { type: 'string', default: '2' },
    only: { type: 'string', default: 'nats,grpc-runner,grpc-server' },
  },
});
const RECORDS = Number(values.records);
// sort's records travel inline (in the NATS message too, whose default limit is 1 MB)
const SORT_RECORDS = Math.min(RECORDS, Number(values['sort-records']));
const PHASE_MS = Number(values.seconds) * 1000;
const LATENCY_MS = Number(values['latency-seconds']) * 1000;
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const WARMUP_MS = Number(values['warmup-seconds']) * 1000;
const ONLY = values.only.split(',').map((s) => s.trim());
const DATA_BIN = join(root, 'packages/data/dist/bin.js');
// Node.js options for every replica, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (replicas stop
// with SIGTERM and exit cleanly, so the profiles are written)
const REPLICA_NODE_ARGS = (process.env.BENCH_REPLICA_NODE_ARGS ?? '').split(' ').filter(Boolean);
const progress = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Whatever happens, no server or worker outlives the benchmark.
const live = new Set();
const killAll = () => {
  for (const child of live) child.kill('SIGKILL');
};
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });

function track(child) {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

async function freePort() {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function listening(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const socket = createConnection(port);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on ${port}`);
}
const createConnection = (port) => connectTcp(port, '127.0.0.1');

function natsServerBinary() {
  const found = [
    process.env.NATS_SERVER,
    ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'nats-server')),
    '/usr/sbin/nats-server',
  ].find((p) => p && existsSync(p));
  if (!found) throw new Error('nats-server is not installed (apt-get install nats-server)');
  return found;
}

function replica(env, index) {
  return track(
    spawn(process.execPath, [...REPLICA_NODE_ARGS, DATA_BIN], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        PATH: process.env.PATH ?? '',
        STEPFLOW_LOG_LEVEL: 'error',
        STEPFLOW_WORKER_ID: `replica-${index}`,
        ...env,
      },
    }),
  );
}

/**
 * Start and stop a subject's replicas (`replicas` is the live list): `ready(n)` waits until
 * `who` (health_check's server_id) has heard from n distinct replicas, which happens once a new
 * replica has connected and takes work.
 */
function replicaControls(replicas, workerEnv, who) {
  return {
    count: () => replicas.length,
    addReplica(i) {
      replicas.push(replica(workerEnv, i));
    },
    async removeReplica() {
      const last = replicas.pop();
      last.kill('SIGTERM');
      if (last.exitCode === null) await once(last, 'exit');
    },
    async ready(n) {
      const seen = new Set();
      const deadline = Date.now() + 20_000;
      while (seen.size < n && Date.now() < deadline)
        await Promise.all(Array.from({ length: 8 }, async () => seen.add(await who())));
      if (seen.size < n) throw new Error(`only ${seen.size} of ${n} replicas answered`);
    },
  };
}

function recordOf(i) {
  return { id: i, g: i % 10, n: (i * 7919) % 1000, s: `k${(i * 104729) % 99991}` };
}
const records = Array.from({ length: RECORDS }, (_, i) => recordOf(i));
const aggFlow = {
  schema: 'https://stepflow.org/schemas/v1/flow.json',
  name: 'scale-aggregate',
  steps: [
    {
      id: 'agg',
      component: '/data/aggregate',
      input: {
        records: { $input: 'records' },
        group_by: ['g'],
        metrics: [
          { op: 'count' },
          ...['n', 'id'].flatMap((field) =>
            ['sum', 'avg', 'min', 'max'].map((op) => ({ op, field })),
          ),
          { op: 'min', field: 's' },
          { op: 'max', field: 's' },
        ],
      },
    },
  ],
  output: { groups: { $step: 'agg', path: '$.stats.groups' } },
};
const EXPECTED_GROUPS = Math.min(10, RECORDS);
const SORT_INPUT = { records: records.slice(0, SORT_RECORDS) };
const sortStep = {
  id: 'sort',
  component: '/data/sort_records',
  input: {
    records: { $input: 'records' },
    by: [
      { field: 'n', order: 'desc' },
      { field: 's', order: 'asc' },
    ],
  },
};
const sortFlow = {
  schema: 'https://stepflow.org/schemas/v1/flow.json',
  name: 'scale-sort',
  steps: [sortStep],
  output: { first: { $step: 'sort', path: '$.records[0].n' } },
};
const whoFlow = {
  schema: 'https://stepflow.org/schemas/v1/flow.json',
  name: 'scale-who',
  steps: [{ id: 'who', component: '/data/health_check', input: {} }],
  output: { $step: 'who', path: 'server_id' },
};
const EXPECTED_FIRST = 999;

function cpuMsOf(pid) {
  if (pid === process.pid) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
  return (processCpu(pid)?.seconds ?? NaN) * 1000;
}
const cpuSnapshot = (pids) =>
  Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMsOf(pid)]));
function cpuPerRun(before, after, runs) {
  const out = {};
  for (const k of Object.keys(after))
    out[k] = Math.round(((after[k] - (before[k] ?? 0)) / runs) * 10) / 10;
  return out;
}

/**
 * `one` with `lanes` in flight for `ms`, measured: `phase`'s figures, the CPU ms per run of
 * every process in `pids`, and what else the machine did meanwhile, in CPUs: `steal` (the
 * hypervisor running something else while this machine had work) and `other` (processes that
 * are not the subject's).
 */
async function measuredPhase(one, lanes, ms, pids) {
  const machine = machineCpu();
  const before = cpuSnapshot(pids);
  const started = performance.now();
  const result = await phase(one, lanes, ms);
  const seconds = (performance.now() - started) / 1000;
  const after = cpuSnapshot(pids);
  const now = machineCpu();
  const ownMs = Object.keys(after).reduce((sum, k) => sum + (after[k] - (before[k] ?? 0)), 0);
  result.cpuMsPerRun = cpuPerRun(before, after, result.runs);
  result.steal = (now.steal - machine.steal) / seconds;
  result.other = Math.max(
    0,
    (now.busy - machine.busy - now.steal + machine.steal - ownMs / 1000) / seconds,
  );
  return result;
}
const busyNote = (r) => `steal ${r.steal.toFixed(2)}, other ${r.other.toFixed(2)} CPUs`;

/** `one` with `lanes` in flight for `ms`: runs/s, p50 latency, and the runs per replica. */
async function phase(one, lanes, ms) {
  const latencies = [];
  const servers = new Map();
  const until = performance.now() + ms;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        const server = await one();
        latencies.push(performance.now() - t);
        if (server) servers.set(server, (servers.get(server) ?? 0) + 1);
      }
    }),
  );
  const wall = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    runsPerS: (latencies.length / wall) * 1000,
    p50: latencies[Math.floor(latencies.length / 2)],
    runs: latencies.length,
    servers: [...servers.values()],
  };
}

/** The order of a round's phases (1 replica, 2 replicas): alternating, so drift favours neither. */
const phaseOrder = (round) => (round % 2 === 0 ? [1, 2] : [2, 1]);

/**
 * Measure one subject. agg: --rounds rounds of 1 replica and 2, fresh replicas for every phase
 * (stopped with SIGTERM, started again), in alternating order; each ratio compares phases that
 * ran next to each other, and the median ratio is the scaling figure. Then sort, the spread and
 * the latency with 1 and then 2 replicas.
 */
async function measure(name, setup) {
  progress(`[${name}] starting`);
  const subject = await setup();
  const replicas = async (n, { fresh = false } = {}) => {
    if (fresh) while (subject.count() > 0) await subject.removeReplica();
    while (subject.count() < n) subject.addReplica(subject.count());
    while (subject.count() > n) await subject.removeReplica();
    await subject.ready(n);
  };
  const out = { 1: {}, 2: {}, aggRounds: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const pair = {};
    // Every phase starts from fresh replicas with the same warm-up, so neither side measures
    // warmer workers than the other; the order alternates so a drift of the machine's speed
    // over the run favours neither.
    for (const n of phaseOrder(round)) {
      await replicas(n, { fresh: true });
      // Warm-up: a fresh Node worker is slower over its first tasks.
      await phase(subject.agg, CONCURRENCY, WARMUP_MS);
      const agg = await measuredPhase(subject.agg, CONCURRENCY, PHASE_MS, subject.pids());
      pair[n] = agg;
      out[n].agg = agg;
    }
    out.aggRounds.push({ one: pair[1].runsPerS, two: pair[2].runsPerS, steal: pair[2].steal });
    progress(
      `[${name}] round ${round + 1}: agg ${pair[1].runsPerS.toFixed(1)} → ${pair[2].runsPerS.toFixed(1)} runs/s (${(pair[2].runsPerS / pair[1].runsPerS).toFixed(2)}×); CPU ms per run with 1 replica ${JSON.stringify(pair[1].cpuMsPerRun)} (${busyNote(pair[1])}), with 2 ${JSON.stringify(pair[2].cpuMsPerRun)} (${busyNote(pair[2])})`,
    );
  }
  for (const n of [1, 2]) {
    await replicas(n);
    await phase(subject.sort, CONCURRENCY, 1500);
    const sort = await measuredPhase(subject.sort, CONCURRENCY, PHASE_MS, subject.pids());
    // Which replica served a run: health_check's server_id, in the same conditions.
    const spread = await phase(subject.who, CONCURRENCY, 1000);
    const latency = await phase(subject.who, 1, LATENCY_MS);
    Object.assign(out[n], { sort, spread: spread.servers, latency });
    progress(
      `[${name}] ${n} replica(s): ${sort.runsPerS.toFixed(1)} sort runs/s (p50 ${sort.p50.toFixed(1)} ms), CPU ms per sort run ${JSON.stringify(sort.cpuMsPerRun)}, health_check p50 ${latency.p50.toFixed(2)} ms, spread ${JSON.stringify(spread.servers)}`,
    );
  }
  await subject.close();
  return out;
}

function runnerSubject(kind) {
  return async () => {
    let nats;
    let store;
    let natsUrl = '';
    if (kind === 'nats') {
      const port = await freePort();
      store = mkdtempSync(join(tmpdir(), 'scale-nats-'));
      nats = track(
        spawn(natsServerBinary(), ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], {
          stdio: 'ignore',
        }),
      );
      await listening(port);
      natsUrl = `nats://127.0.0.1:${port}`;
    }
    const plugin =
      kind === 'nats'
        ? `{type: nats, url: "${natsUrl}", consumer: data, stream: SCALE}`
        : `{type: grpc, queueName: data}`;
    const config = parseConfig(
      parseYaml(`plugins:\n  data: ${plugin}\nroutes:\n  "/data": [{plugin: data}]\n`, 'c.yml'),
      { source: 'c.yml', file: undefined, baseDir: root },
    );
    const grpcPort = await freePort();
    const address = `127.0.0.1:${grpcPort}`;
    const workerEnv =
      kind === 'nats'
        ? {
            STEPFLOW_TRANSPORT: 'nats',
            STEPFLOW_NATS_URL: natsUrl,
            STEPFLOW_NATS_STREAM: 'SCALE',
            STEPFLOW_NATS_CONSUMER: 'data',
            STEPFLOW_BLOB_URL: address,
          }
        : {
            STEPFLOW_TRANSPORT: 'grpc',
            STEPFLOW_TASKS_URL: address,
            STEPFLOW_QUEUE_NAME: 'data',
            STEPFLOW_BLOB_URL: address,
          };
    const replicas = [];
    // The first replica starts as soon as the port is known (discovery waits for it).
    const env = await Environment.start({
      version: 'v0.13',
      config,
      grpcPort,
      warn: (m) => progress(`  [runner] ${m}`),
      onGrpcListening: () => replicas.push(replica(workerEnv, 0)),
    });
    const flows = Object.fromEntries(
      [
        ['agg', aggFlow],
        ['sort', sortFlow],
        ['who', whoFlow],
      ].map(([k, f]) => [k, parseFlow(f, { version: 'v0.13', file: `${k}.yaml` }).flow]),
    );
    const aggInput = { records: { $blob: await env.blobStore.put(records) } };
    const run = async (flow, input) => {
      const r = toFlowResult((await env.run(flow, input)).result);
      if (r.outcome !== 'success')
        throw new Error(`run failed: ${JSON.stringify(r).slice(0, 300)}`);
      return r.result;
    };
    return {
      ...replicaControls(replicas, workerEnv, () => run(flows.who, {})),
      agg: async () => {
        const out = await run(flows.agg, aggInput);
        if (out.groups !== EXPECTED_GROUPS) throw new Error(`unexpected ${JSON.stringify(out)}`);
      },
      sort: async () => {
        const out = await run(flows.sort, SORT_INPUT);
        if (out.first !== EXPECTED_FIRST) throw new Error(`unexpected ${JSON.stringify(out)}`);
      },
      who: () => run(flows.who, {}),
      pids: () => ({
        'runner (+ driver)': process.pid,
        ...(nats ? { 'nats-server': nats.pid } : {}),
        ...Object.fromEntries(replicas.map((r, i) => [`replica-${i}`, r.pid])),
      }),
      async close() {
        for (const r of replicas) r.kill('SIGTERM');
        await Promise.all(replicas.map((r) => (r.exitCode === null ? once(r, 'exit') : null)));
        await env.close();
        nats?.kill('SIGTERM');
        if (nats) await once(nats, 'exit');
        if (store) rmSync(store, { recursive: true, force: true });
      },
    };
  };
}

async function serverSubject() {
  const serverBin = await provisionStepflow('0.13.0');
  const dir = mkdtempSync(join(tmpdir(), 'scale-server-'));
  const configPath = join(dir, 'stepflow-config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      plugins: { data: { type: 'grpc', queueName: 'data' } },
      routes: { '/data': [{ plugin: 'data' }] },
      storageConfig: { type: 'inMemory' },
    }),
  );
  const server = track(
    spawn(serverBin, ['--port', '0', '--config', configPath, '--log-level', 'error'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, STEPFLOW_LOG_LEVEL: 'error' },
    }),
  );
  const port = await new Promise((resolve, reject) => {
    let buffered = '';
    server.stdout.setEncoding('utf8');
    server.stdout.on('data', (text) => {
      buffered += text;
      const m = /\{[^\n]*"port"\s*:\s*(\d+)/.exec(buffered);
      if (m) resolve(Number(m[1]));
    });
    server.once('exit', (code) => reject(new Error(`stepflow-server exited ${code}`)));
  });
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY + 1 });
  const rest = restJson(pool);
  const workerEnv = {
    STEPFLOW_TRANSPORT: 'grpc',
    STEPFLOW_TASKS_URL: `127.0.0.1:${port}`,
    STEPFLOW_QUEUE_NAME: 'data',
  };
  const replicas = [replica(workerEnv, 0)];
  for (let waited = 0; ; waited += 100) {
    const { components } = await rest('GET', '/api/v1/components?excludeSchemas=true');
    if (components.some((c) => c.componentId === 'sort_records')) break;
    if (waited > 30_000) throw new Error('no sort_records from the replica after 30 s');
    await sleep(100);
  }
  const flowIds = {};
  for (const [k, flow] of [
    ['agg', aggFlow],
    ['sort', sortFlow],
    ['who', whoFlow],
  ]) {
    const stored = await rest('POST', '/api/v1/flows', { flow });
    if (!stored.stored) throw new Error(`flow not stored: ${JSON.stringify(stored.diagnostics)}`);
    flowIds[k] = stored.flowId;
  }
  const sortBody = JSON.stringify({
    flowId: flowIds.sort,
    input: [SORT_INPUT],
    wait: true,
    timeoutSecs: 120,
  });
  const whoBody = JSON.stringify({ flowId: flowIds.who, input: [{}], wait: true, timeoutSecs: 60 });
  const { blobId } = await rest('POST', '/api/v1/blobs', { data: records });
  const aggBody = JSON.stringify({
    flowId: flowIds.agg,
    input: [{ records: { $blob: blobId } }],
    wait: true,
    timeoutSecs: 120,
  });
  const run = async (body) => {
    const res = await pool.request({
      method: 'POST',
      path: '/api/v1/runs',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const text = await res.body.text();
    const result = res.statusCode === 200 ? JSON.parse(text).results?.[0] : undefined;
    if (result?.status !== 2) throw new Error(`run → ${res.statusCode} ${text.slice(0, 300)}`);
    return result.output;
  };
  return {
    ...replicaControls(replicas, workerEnv, () => run(whoBody)),
    agg: async () => {
      const out = await run(aggBody);
      if (out?.groups !== EXPECTED_GROUPS) throw new Error(`unexpected ${JSON.stringify(out)}`);
    },
    sort: async () => {
      const out = await run(sortBody);
      if (out?.first !== EXPECTED_FIRST) throw new Error(`unexpected ${JSON.stringify(out)}`);
    },
    who: () => run(whoBody),
    pids: () => ({
      'stepflow-server': server.pid,
      driver: process.pid,
      ...Object.fromEntries(replicas.map((r, i) => [`replica-${i}`, r.pid])),
    }),
    async close() {
      for (const r of replicas) r.kill('SIGTERM');
      await pool.close();
      server.kill('SIGTERM');
      await once(server, 'exit');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A CPU-bound loop in its own Node process for `ms`: how many SHA-256 digests of 1 KiB it made,
 * and the CPU ms the process used (start-up included, a few ms).
 */
const BURN = `const { createHash } = require('node:crypto');
const until = Date.now() + Number(process.argv[1]);
const block = Buffer.alloc(1024, 7);
let n = 0;
while (Date.now() < until) { for (let i = 0; i < 100; i++) createHash('sha256').update(block).digest(); n += 100; }
const u = process.cpuUsage();
process.stdout.write(\`\${n} \${(u.user + u.system) / 1000}\`);`;
/**
 * The agg workload without Stepflow: the data pack's `aggregate` in-process (core's testing
 * kit), on the same records parsed from JSON text for every call as a replica's blob cache does,
 * four calls at a time, for `ms` after the same warm-up as a replica: how many calls it made, and
 * the CPU ms they took.
 */
const DIRECT = `const [ms, warmup, n, flow] = process.argv.slice(1);
const { createTestKit } = await import(${JSON.stringify(new URL('../packages/core/dist/testing/index.js', import.meta.url).href)});
const { dataPack } = await import(${JSON.stringify(new URL('../packages/data/dist/index.js', import.meta.url).href)});
const kit = createTestKit(dataPack);
const text = JSON.stringify(Array.from({ length: Number(n) }, (_, i) => (${recordOf.toString()})(i)));
const input = JSON.parse(flow).steps[0].input;
const call = () => kit.execute('aggregate', { ...input, records: JSON.parse(text) });
const calls = async (until) => { let c = 0; while (performance.now() < until) { await Promise.all([call(), call(), call(), call()]); c += 4; } return c; };
await calls(performance.now() + Number(warmup));
const cpu = process.cpuUsage();
const done = await calls(performance.now() + Number(ms));
const u = process.cpuUsage(cpu);
process.stdout.write(\`\${done} \${(u.user + u.system) / 1000}\`);`;

/** A baseline child: how many units of work it did, and the CPU ms it spent on them. */
async function child(args) {
  const proc = track(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] }));
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (t) => (out += t));
  await once(proc, 'exit');
  const [done, cpuMs] = out.split(' ').map(Number);
  return { done, cpuMs };
}
const burn = (ms) => child(['-e', BURN, String(ms)]);
const direct = (ms) =>
  child([
    '--input-type=module',
    '-e',
    DIRECT,
    String(ms),
    String(WARMUP_MS),
    String(RECORDS),
    JSON.stringify(aggFlow),
  ]);

/**
 * The baselines: what this machine gives two busy processes instead of one, with nothing of
 * Stepflow involved (the same rounds as agg: one process and two at once, in alternating
 * order), for a SHA-256 loop and for the agg workload itself (`direct`).
 */
async function machineBaseline(name, work) {
  const rounds = [];
  const two = async () =>
    (await Promise.all([work(PHASE_MS), work(PHASE_MS)])).reduce((a, b) => ({
      done: a.done + b.done,
      cpuMs: a.cpuMs + b.cpuMs,
    }));
  for (let round = 0; round < ROUNDS; round++) {
    const done = {};
    const steal = {};
    for (const n of phaseOrder(round)) {
      const before = machineCpu().steal;
      const started = performance.now();
      done[n] = n === 1 ? await work(PHASE_MS) : await two();
      steal[n] = (machineCpu().steal - before) / ((performance.now() - started) / 1000);
    }
    rounds.push(done[2].done / done[1].done);
    const cpuPer = (d) => d.cpuMs / d.done;
    progress(
      `[${name}] round ${round + 1}: two processes do ${(done[2].done / done[1].done).toFixed(2)}× one; CPU per unit of work ${(cpuPer(done[2]) / cpuPer(done[1])).toFixed(2)}× one's (steal ${steal[1].toFixed(2)} → ${steal[2].toFixed(2)} CPUs)`,
    );
  }
  return rounds;
}

const subjects = {
  nats: runnerSubject('nats'),
  'grpc-runner': runnerSubject('grpc'),
  'grpc-server': serverSubject,
};
const results = {};
progress(
  `aggregate (blob input) on ${RECORDS} records and sort_records on ${SORT_RECORDS}, ${CONCURRENCY} in flight, ${PHASE_MS / 1000} s per phase; ${availableParallelism()} CPUs, load ${loadavg()[0].toFixed(1)}`,
);
const machine = await machineBaseline('machine: sha-256', burn);
const workload = await machineBaseline('machine: aggregate without Stepflow', direct);
for (const name of Object.keys(subjects)) {
  if (!ONLY.includes(name)) continue;
  results[name] = await measure(name, subjects[name]);
}

const cpu = (perRun) =>
  Object.entries(perRun)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
const rows = Object.entries(results).map(([name, r]) => [
  name,
  r.aggRounds.map((p) => `${p.one.toFixed(1)} → ${p.two.toFixed(1)}`).join(', '),
  `${median(r.aggRounds.map((p) => p.two / p.one)).toFixed(2)}× (${r.aggRounds
    .map((p) => (p.two / p.one).toFixed(2))
    .join(', ')})`,
  `${((100 * median(r.aggRounds.map((p) => p.two / p.one))) / median(workload)).toFixed(0)} %`,
  cpu(r[2].agg.cpuMsPerRun),
  r.aggRounds.map((p) => p.steal.toFixed(2)).join(', '),
  `${r[1].sort.runsPerS.toFixed(1)} → ${r[2].sort.runsPerS.toFixed(1)}`,
  `${(r[2].sort.runsPerS / r[1].sort.runsPerS).toFixed(2)}×`,
  cpu(r[2].sort.cpuMsPerRun),
  JSON.stringify(r[2].spread),
  `${r[1].latency.p50.toFixed(2)} ms`,
]);
const header = [
  'subject',
  'agg (blob input) runs/s per round, 1 → 2 replicas',
  'agg scaling, median of rounds (target ≥ 1.7×)',
  'agg scaling ÷ the workload without Stepflow',
  'CPU ms per agg run, 2 replicas',
  'steal during the 2-replica phases, CPUs',
  'sort (inline) runs/s, 1 → 2',
  'sort scaling',
  'CPU ms per sort run, 2 replicas',
  'health_check spread, 2 replicas',
  'health_check p50, 1 in flight',
];
const baseline = (what, rounds) =>
  `${what}: two processes do ${median(rounds).toFixed(2)}× one (rounds ${rounds.map((r) => r.toFixed(2)).join(', ')})`;
console.log(
  `Baselines, this machine without Stepflow (the ceiling of the agg scaling below): ${baseline('a SHA-256 loop', machine)}; ${baseline(`the agg workload (aggregate on ${RECORDS} records in-process, 4 at a time)`, workload)}.\n`,
);
console.log(`| ${header.join(' | ')} |`);
console.log(`| ${header.map(() => '---').join(' | ')} |`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
const p50 = (name) => results[name]?.[1].latency.p50;
if (p50('nats') !== undefined && p50('grpc-runner') !== undefined)
  console.log(
    `\nNATS per-task overhead over gRPC pull (same runner orchestrator, health_check p50): ${(p50('nats') - p50('grpc-runner')).toFixed(2)} ms`,
  );
if (p50('nats') !== undefined && p50('grpc-server') !== undefined)
  console.log(
    `NATS (runner) − gRPC pull (stepflow-server 0.13.0), health_check p50: ${(p50('nats') - p50('grpc-server')).toFixed(2)} ms`,
  );
console.log(
  `load average at the end: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
process.exit(0);
