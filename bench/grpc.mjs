#!/usr/bin/env node
/**
 * Stepflow 0.13 gRPC pull workers through the real orchestrator: throughput and per-task latency
 * of a trivial one-step flow run by `stepflow-server` 0.13.0, driven over its REST API.
 *
 *   ours     the math pack's `add` (`node packages/math/dist/bin.js`, a `type: grpc` plugin; the
 *            pack becomes a pull worker from the orchestrator's launch environment)
 *   python   the same `add` ({"sum": a+b}) in the Python SDK's own worker loop (stepflow-py 0.13.0
 *            from PyPI, bench/fixtures/python_add_worker.py), also a `type: grpc` plugin
 *   builtin  the server's own `/builtin/noop` (no worker hop): the floor
 *
 * One server process hosts all three (same binary, same flow shape: one step with input
 * {a: $input.a, b: $input.b}). Each flow is stored once (POST /api/v1/flows); a run is
 * POST /api/v1/runs {"flowId","input":[{"a":1,"b":2}],"wait":true}. Both workers run with
 * STEPFLOW_MAX_CONCURRENT=16 (stepflow-py's default is 4; ours is 16) and STEPFLOW_LOG_LEVEL=warn
 * (stepflow-py logs several INFO lines per task otherwise).
 *
 * Every round measures each subject, in an order that rotates from round to round, for a fixed
 * time at 1 run in flight (per-run latency) and at 16 in flight (runs/s, 16 keep-alive
 * connections through one undici Pool). The reported figures are medians over rounds of the
 * per-round values, where each round's subjects ran next to each other:
 *   throughput ratio  = ours runs/s ÷ python runs/s at 16 in flight        (target ≥ 1.5×)
 *   worker overhead   = ours median latency − builtin median latency at 1 (target ≤ 0.5 ms)
 * After the rounds, the floor under the second: one claim round trip (a TaskHeartbeat the server
 * answers NOT_FOUND), from core's client and from grpcio (bench/fixtures/heartbeat_rtt.py).
 * CPU per run is read from /proc for the driver (this process), the server and each worker: a
 * load-independent view of where the time goes. "other CPUs" = CPUs kept busy by processes
 * outside the benchmark during the phases.
 *
 * Server modes (--server): `shipped` runs stepflow-server as released. `nodelay` runs the same
 * binary with a tiny LD_PRELOAD shim (built with cc into .cache/grpc-bench/) that sets TCP_NODELAY
 * on the sockets the server accepts: 0.13.0 leaves Nagle's algorithm on, so a small gRPC message
 * it writes while its previous one is unacknowledged waits for the worker's delayed ACK (~40 ms
 * on Linux), which hides every worker's own cost (see bench/README.md). `both` (default) runs
 * one after the other, each with its own server and workers.
 *
 *   node bench/grpc.mjs [--rounds 6] [--seq-seconds 2] [--par-seconds 3] [--warmup-runs 2000]
 *                       [--concurrency 16] [--server both|shipped|nodelay] [--only ours,python,builtin]
 * BENCH_WORKER_NODE_ARGS adds Node.js options to our worker (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p";
 * the worker is stopped with SIGTERM at the end and exits cleanly, so the profile is written).
 * BENCH_GRPC_BIN runs another pack bin (an experiment) instead of packages/math/dist/bin.js.
 * Needs a build (packages/core, packages/math), python3 with venv/pip (the first run installs
 * stepflow-py==0.13.0 into .cache/python-stepflow/venv), network access on the first run (that,
 * and `scripts/provision-stepflow.mjs 0.13.0`), Linux (/proc), and cc for the nodelay mode.
 * Progress goes to stderr; the tables to stdout.
 */
import { randomUUID } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { provisionStepflow } from '../scripts/provision-stepflow.mjs';
import { machineCpu, processCpu, restJson } from './lib.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    'seq-seconds': { type: 'string', default: '2' },
    'par-seconds': { type: 'string', default: '3' },
    'warmup-runs': { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    server: { type: 'string', default: 'both' },
    only: { type: 'string', default: 'ours,python,builtin' },
  },
});
const ROUNDS = Number(values.rounds);
const SEQ_MS = Number(values['seq-seconds']) * 1000;
const PAR_MS = Number(values['par-seconds']) * 1000;
const WARMUP_RUNS = Number(values['warmup-runs']);
const CONCURRENCY = Number(values.concurrency);
const ONLY = values.only.split(',').map((s) => s.trim());
const MODES = values.server === 'both' ? ['shipped', 'nodelay'] : [values.server];
for (const m of MODES)
  if (!['shipped', 'nodelay'].includes(m))
    throw new Error(`--server must be both, shipped or nodelay (got ${m})`);

const STEPFLOW_VERSION = '0.13.0';
const STEPFLOW_PY_VERSION = '0.13.0';
const PY_CACHE = join(root, '.cache', 'python-stepflow');
const VENV = join(PY_CACHE, 'venv');
const VENV_PYTHON = join(VENV, 'bin', 'python');
const PY_WORKER = join(root, 'bench', 'fixtures', 'python_add_worker.py');
const SHIM_DIR = join(root, '.cache', 'grpc-bench');
const OUR_BIN = process.env.BENCH_GRPC_BIN ?? join(root, 'packages', 'math', 'dist', 'bin.js');
const NODE_ARGS = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
// BENCH_GRPC_VARIANTS="sep=/abs/bin.mjs,raw=/abs/other.mjs": more Node workers (experimental
// builds of a pack or of core) measured in the same rounds as subjects "ours-sep", "ours-raw".
const VARIANTS = (process.env.BENCH_GRPC_VARIANTS ?? '')
  .split(',')
  .filter(Boolean)
  .map((entry) => {
    const [label, bin] = entry.split('=');
    if (!label || !bin || !existsSync(bin))
      throw new Error(`BENCH_GRPC_VARIANTS: bad entry ${entry}`);
    return { name: `ours-${label}`, bin };
  });
const NODE_WORKERS = [
  ...(ONLY.includes('ours') ? [{ name: 'ours', bin: OUR_BIN }] : []),
  ...VARIANTS,
];

const progress = (message) => process.stderr.write(`grpc bench: ${message}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the Python SDK worker: a venv with stepflow-py from PyPI, in the git-ignored cache ----
function installedStepflowPy() {
  if (!existsSync(VENV_PYTHON)) return undefined;
  const r = spawnSync(
    VENV_PYTHON,
    ['-c', 'import importlib.metadata as m; print(m.version("stepflow-py"))'],
    { encoding: 'utf8' },
  );
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function ensurePythonWorker() {
  if (installedStepflowPy() === STEPFLOW_PY_VERSION) return VENV_PYTHON;
  mkdirSync(PY_CACHE, { recursive: true });
  if (!existsSync(VENV_PYTHON)) {
    progress(`creating a Python venv at ${VENV}`);
    const r = spawnSync('python3', ['-m', 'venv', VENV], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.status !== 0)
      throw new Error('python3 -m venv failed (install python3 with venv support)');
  }
  progress(`installing stepflow-py==${STEPFLOW_PY_VERSION} from PyPI into the venv`);
  const r = spawnSync(
    VENV_PYTHON,
    [
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '-q',
      `stepflow-py==${STEPFLOW_PY_VERSION}`,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (r.status !== 0 || installedStepflowPy() !== STEPFLOW_PY_VERSION)
    throw new Error(`pip install stepflow-py==${STEPFLOW_PY_VERSION} failed`);
  return VENV_PYTHON;
}

// ---- the TCP_NODELAY shim for the server's accepted sockets (diagnostic mode) ----------------
const SHIM_SOURCE = `#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
/* Sets TCP_NODELAY on every socket the process accepts (non-TCP sockets just fail the call). */
static void nodelay(int fd) {
  if (fd >= 0) { int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); }
}
int accept4(int s, struct sockaddr *a, socklen_t *l, int f) {
  static int (*real)(int, struct sockaddr *, socklen_t *, int);
  if (!real) real = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
  int fd = real(s, a, l, f); nodelay(fd); return fd;
}
int accept(int s, struct sockaddr *a, socklen_t *l) {
  static int (*real)(int, struct sockaddr *, socklen_t *);
  if (!real) real = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
  int fd = real(s, a, l); nodelay(fd); return fd;
}
`;
function buildShim() {
  const so = join(SHIM_DIR, 'nodelay.so');
  const c = join(SHIM_DIR, 'nodelay.c');
  if (existsSync(so) && existsSync(c) && readFileSync(c, 'utf8') === SHIM_SOURCE) return so;
  mkdirSync(SHIM_DIR, { recursive: true });
  writeFileSync(c, SHIM_SOURCE);
  const r = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', so, c, '-ldl'], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    throw new Error(
      `cannot build the TCP_NODELAY shim with cc (${r.error?.message ?? r.stderr}); use --server shipped`,
    );
  return so;
}

// ---- /proc accounting ------------------------------------------------------------------------
const cpuUsOf = (pid) => (processCpu(pid)?.seconds ?? NaN) * 1e6;
const machineBusyUs = () => machineCpu().busy * 1e6;
function childrenOf(pid) {
  const out = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // gone
  }
  return out;
}
const cmdlineOf = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
};
const rssMbOf = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  } catch {
    return NaN;
  }
};
const gone = (pid) => {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
};
async function stop(pid, graceMs) {
  if (!pid) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const until = Date.now() + graceMs;
  while (Date.now() < until) {
    if (gone(pid)) return;
    await sleep(50);
  }
  try {
    process.kill(pid, 'SIGKILL'); // stepflow-py leaves its stream loop only when a task arrives
  } catch {
    // exited meanwhile
  }
}

// Whatever happens, no server or worker outlives the benchmark.
const live = new Set();
const killAll = () => {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
};
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });

// ---- one server mode: start, measure every subject in rotating rounds, stop ------------------
async function measureMode(mode, serverBin, pythonBin) {
  const workerEnv = { STEPFLOW_LOG_LEVEL: 'warn', STEPFLOW_MAX_CONCURRENT: String(CONCURRENCY) };
  if (mode === 'nodelay') workerEnv.LD_PRELOAD = ''; // the shim is for the server only
  const plugins = { builtin: { type: 'builtin' } };
  const routes = { '/builtin': [{ plugin: 'builtin' }] };
  for (const { name, bin } of NODE_WORKERS) {
    plugins[name] = {
      type: 'grpc',
      command: process.execPath,
      args: [...NODE_ARGS, bin],
      queueName: name,
      env: workerEnv,
    };
    routes[`/${name}`] = [{ plugin: name }];
  }
  if (pythonBin) {
    plugins.python = {
      type: 'grpc',
      command: pythonBin,
      args: [PY_WORKER],
      queueName: 'python',
      env: workerEnv,
    };
    routes['/python'] = [{ plugin: 'python' }];
  }
  const dir = mkdtempSync(join(tmpdir(), 'stepflow-grpc-bench-'));
  const configPath = join(dir, 'stepflow-config.json');
  writeFileSync(
    configPath,
    JSON.stringify(
      { workingDirectory: root, plugins, routes, storageConfig: { type: 'inMemory' } },
      null,
      2,
    ),
  );

  progress(
    `[${mode}] starting stepflow-server (workers spawn and connect before it prints its port)`,
  );
  const serverStarted = performance.now();
  const env = { ...process.env, STEPFLOW_LOG_LEVEL: 'warn' };
  if (mode === 'nodelay') env.LD_PRELOAD = buildShim();
  const server = spawn(serverBin, ['--port', '0', '--config', configPath, '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  live.add(server.pid);
  // Start-up discovery warnings are expected (the workers connect after the first refresh).
  const forward = (stream) => {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (text) => {
      buffered += text;
      let i;
      while ((i = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 1);
        if (line.trim().startsWith('{') && /"port"\s*:/.test(line))
          stream.emit('port', JSON.parse(line).port);
        else if (
          line.trim() &&
          !/Failed to refresh components|Component discovery failed/.test(line)
        )
          process.stderr.write(`  [server] ${line}\n`);
      }
    });
  };
  forward(server.stdout);
  forward(server.stderr);
  const port = await new Promise((resolve, reject) => {
    server.stdout.once('port', resolve);
    server.once('exit', (code) =>
      reject(new Error(`stepflow-server exited ${code} before printing its port`)),
    );
  });
  progress(
    `[${mode}] server on port ${port} after ${Math.round(performance.now() - serverStarted)} ms`,
  );

  const pool = new Pool(`http://127.0.0.1:${port}`, {
    connections: CONCURRENCY,
    pipelining: 1,
    keepAliveTimeout: 60_000,
  });
  const rest = restJson(pool);

  // The workers register their components a moment after they connect.
  for (let waited = 0; ; waited += 100) {
    const { components } = await rest('GET', '/api/v1/components?excludeSchemas=true');
    const missing = [...NODE_WORKERS.map((w) => w.name), 'python'].filter(
      (plugin) =>
        plugins[plugin] && !components.some((c) => c.plugin === plugin && c.componentId === 'add'),
    );
    if (missing.length === 0) break;
    if (waited > 30_000) throw new Error(`no add component from ${missing.join(', ')} after 30 s`);
    await sleep(100);
  }
  const workerPids = childrenOf(server.pid);
  for (const pid of workerPids) live.add(pid);
  const pidOf = (needle) => workerPids.find((pid) => cmdlineOf(pid).includes(needle));
  const pids = { server: server.pid, python: pidOf('python_add_worker.py') };
  for (const { name, bin } of NODE_WORKERS) pids[name] = pidOf(bin);

  const subjects = [];
  for (const [name, component] of [
    ...NODE_WORKERS.map((w) => [w.name, `/${w.name}/add`]),
    ['python', '/python/add'],
    ['builtin', '/builtin/noop'],
  ]) {
    if (!ONLY.includes(name) && !name.startsWith('ours')) continue;
    const stored = await rest('POST', '/api/v1/flows', {
      flow: {
        schema: 'https://stepflow.org/schemas/v1/flow.json',
        name: `bench-${name}`,
        steps: [{ id: 'step', component, input: { a: { $input: 'a' }, b: { $input: 'b' } } }],
        output: { $step: 'step' },
      },
    });
    if (!stored.stored)
      throw new Error(`flow for ${component} not stored: ${JSON.stringify(stored.diagnostics)}`);
    const body = JSON.stringify({
      flowId: stored.flowId,
      input: [{ a: 1, b: 2 }],
      wait: true,
      timeoutSecs: 60,
    });
    const expect = name === 'builtin' ? 1 : 3; // noop returns its input
    const one = async () => {
      const res = await pool.request({
        method: 'POST',
        path: '/api/v1/runs',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200)
        throw new Error(`${name}: run → ${res.statusCode} ${text.slice(0, 300)}`);
      const result = JSON.parse(text).results?.[0];
      if (result?.status !== 2 || (result.output?.sum ?? result.output?.a) !== expect)
        throw new Error(`${name}: unexpected run result ${text.slice(0, 300)}`);
    };
    await one(); // fails fast on a broken route
    subjects.push({ name, component, one });
  }

  /**
   * Runs `one` for `ms` (or `maxRuns` runs) with `concurrency` lanes: latencies, runs/s and CPU
   * µs per run.
   */
  async function phase(subject, concurrency, ms, maxRuns = Infinity) {
    const latencies = [];
    const cpuBefore = {};
    for (const [k, pid] of Object.entries(pids)) if (pid) cpuBefore[k] = cpuUsOf(pid);
    const driverBefore = process.cpuUsage();
    const machineBefore = machineBusyUs();
    const started = performance.now();
    const deadline = started + ms;
    let begun = 0;
    const lane = async () => {
      while (performance.now() < deadline && begun++ < maxRuns) {
        const t = performance.now();
        await subject.one();
        latencies.push(performance.now() - t);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    const elapsedS = (performance.now() - started) / 1000;
    const n = latencies.length;
    const cpu = {};
    let ownUs = 0;
    for (const [k, pid] of Object.entries(pids)) {
      if (!pid) continue;
      const used = cpuUsOf(pid) - cpuBefore[k];
      ownUs += used;
      cpu[k] = used / n;
    }
    const d = process.cpuUsage(driverBefore);
    cpu.driver = (d.user + d.system) / n;
    ownUs += d.user + d.system;
    latencies.sort((a, b) => a - b);
    return {
      runs: n,
      rps: n / elapsedS,
      p50: quantile(latencies, 0.5),
      p90: quantile(latencies, 0.9),
      p99: quantile(latencies, 0.99),
      cpu,
      otherCpus: Math.max(0, (machineBusyUs() - machineBefore - ownUs) / 1e6 / elapsedS),
    };
  }

  // A fresh Node worker needs a couple of thousand tasks before its hot path is compiled (CPU per
  // task drops about 2× over the first 1,500); the benchmark is about the steady state.
  for (const s of subjects) {
    const runs = s.name === 'builtin' ? Math.min(500, WARMUP_RUNS) : WARMUP_RUNS;
    progress(
      `[${mode}] warm-up ${s.name} (${s.component}): ${runs} runs at ${CONCURRENCY} in flight, 100 at 1`,
    );
    const w = await phase(s, CONCURRENCY, 120_000, runs);
    await phase(s, 1, 10_000, 100);
    progress(
      `[${mode}]   ${Math.round(w.rps)} runs/s, worker CPU ${fmt(w.cpu[s.name] ?? NaN, 0)} µs/run`,
    );
  }
  const results = new Map(subjects.map((s) => [s.name, { seq: [], par: [] }]));
  const startedRounds = performance.now();
  for (let round = 0; round < ROUNDS; round++) {
    const order = subjects.map((_, i) => subjects[(i + round) % subjects.length]);
    const line = [];
    for (const s of order) {
      const seq = await phase(s, 1, SEQ_MS);
      const par = await phase(s, CONCURRENCY, PAR_MS);
      results.get(s.name).seq.push(seq);
      results.get(s.name).par.push(par);
      line.push(
        `${s.name} ${seq.p50.toFixed(2)} ms, ${Math.round(par.rps)}/s (other CPUs ${par.otherCpus.toFixed(1)})`,
      );
    }
    progress(`[${mode}] round ${round + 1}/${ROUNDS}: ${line.join('; ')}`);
  }
  const roundsS = (performance.now() - startedRounds) / 1000;
  const serverRss = rssMbOf(server.pid);
  const rtt = await claimRoundTrips(mode, `127.0.0.1:${port}`, pythonBin);

  // Workers first (the server waits for open PullTasks streams before it exits), then the server.
  await pool.close();
  await Promise.all([
    ...NODE_WORKERS.map((w) => stop(pids[w.name], 10_000)),
    stop(pids.python, 2_000),
  ]);
  await stop(server.pid, 5_000);
  for (const pid of [server.pid, ...workerPids]) live.delete(pid);
  rmSync(dir, { recursive: true, force: true });
  return { mode, subjects, results, roundsS, serverRss, rtt };
}

/**
 * The floor under the per-task overhead: a worker must claim a task with a TaskHeartbeat and
 * wait for the answer before it runs the component (spec §5.2), so one unary round trip to the
 * server is on every task's critical path, next to the assignment and the completion. Measured
 * with a task id the server does not know (it looks it up and answers NOT_FOUND), from core's
 * client (this process, idle otherwise) and from grpcio's C-core client, in alternating rounds.
 */
async function claimRoundTrips(mode, url, pythonBin) {
  const out = { ours: [], grpcio: [] };
  const { GrpcChannels } = await import('../packages/core/dist/transport/grpc/channels.js');
  const { encodeTaskHeartbeat } = await import('../packages/core/dist/transport/grpc/wire.js');
  const orchestrator = new GrpcChannels({ writeMaxBytes: 4 << 20 }).get(url).orchestrator;
  const frame = encodeTaskHeartbeat({ taskId: randomUUID(), workerId: 'rtt' });
  for (let round = 0; round < 3; round++) {
    const times = [];
    for (let i = 0; i < RTT_CALLS; i++) {
      const started = performance.now();
      await orchestrator.taskHeartbeat(frame, { timeoutMs: 10_000 }).then(
        () => {
          throw new Error('a heartbeat for an unknown task was accepted');
        },
        (err) => {
          if (err.code !== 5) throw err; // NOT_FOUND
        },
      );
      times.push((performance.now() - started) * 1000);
    }
    times.splice(0, RTT_CALLS / 5);
    times.sort((a, b) => a - b);
    out.ours.push(quantile(times, 0.5));
    if (pythonBin) {
      const py = spawnSync(
        pythonBin,
        [join(root, 'bench', 'fixtures', 'heartbeat_rtt.py'), url, String(RTT_CALLS)],
        { encoding: 'utf8' },
      );
      if (py.status !== 0) throw new Error(`heartbeat_rtt.py failed: ${py.stderr}`);
      out.grpcio.push(JSON.parse(py.stdout).p50_us);
    }
  }
  progress(
    `[${mode}] claim round trip p50 (µs): ours ${out.ours.map((v) => v.toFixed(0)).join(' ')}; grpcio ${out.grpcio.join(' ') || '–'}`,
  );
  return out;
}
const RTT_CALLS = 3000;

// ---- report --------------------------------------------------------------------------------------
const fmt = (v, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const range = (xs) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;

function report({ mode, subjects, results, roundsS, serverRss, rtt }) {
  const get = (name, kind, key) => results.get(name)?.[kind].map((r) => r[key]);
  const title =
    mode === 'shipped'
      ? `stepflow-server ${STEPFLOW_VERSION} as released`
      : `stepflow-server ${STEPFLOW_VERSION} with TCP_NODELAY on its accepted sockets (LD_PRELOAD shim)`;
  console.log(
    `\n## grpc [${mode}]: one-step flow via REST (wait=true), ${title}; median of ${ROUNDS} rotating rounds\n`,
  );
  console.log(
    `Per round and subject: ${SEQ_MS / 1000} s at 1 run in flight, then ${PAR_MS / 1000} s at ${CONCURRENCY} in flight. Both workers: STEPFLOW_MAX_CONCURRENT=${CONCURRENCY}, log level warn. CPU µs/run from /proc (driver = this process).\n`,
  );
  console.log(
    `| subject | p50 @1 (ms) | p90 @1 | p99 @1 | runs/s @${CONCURRENCY} | p50 @${CONCURRENCY} (ms) | CPU µs/run @${CONCURRENCY} server / worker / driver | CPU µs/run @1 worker | other CPUs |`,
  );
  console.log('|---|---:|---:|---:|---:|---:|---|---:|---:|');
  for (const s of subjects) {
    const m = (kind, key) => median(get(s.name, kind, key));
    const cpu = (kind, k) => median(results.get(s.name)[kind].map((r) => r.cpu[k] ?? NaN));
    const worker = s.name === 'builtin' ? NaN : cpu('par', s.name);
    const workerSeq = s.name === 'builtin' ? NaN : cpu('seq', s.name);
    const other = median([...get(s.name, 'seq', 'otherCpus'), ...get(s.name, 'par', 'otherCpus')]);
    console.log(
      `| ${s.name} (${s.component}) | ${fmt(m('seq', 'p50'), 3)} | ${fmt(m('seq', 'p90'), 3)} | ${fmt(m('seq', 'p99'), 3)} | ${fmt(m('par', 'rps'), 0)} | ${fmt(m('par', 'p50'), 2)} | ${fmt(cpu('par', 'server'), 0)} / ${fmt(worker, 0)} / ${fmt(cpu('par', 'driver'), 0)} | ${fmt(workerSeq, 0)} | ${fmt(other)} |`,
    );
  }
  const summary = { bench: 'grpc', server: mode, rounds: ROUNDS, concurrency: CONCURRENCY };
  console.log('');
  const ours = subjects.map((s) => s.name).filter((n) => n.startsWith('ours'));
  if (results.has('python')) {
    for (const name of ours) {
      const perRound = get(name, 'par', 'rps').map((v, i) => v / get('python', 'par', 'rps')[i]);
      const r = median(perRound);
      const key = name === 'ours' ? 'throughputRatio' : `${name}ThroughputRatio`;
      Object.assign(summary, {
        [key]: +r.toFixed(3),
        [`${key}Range`]: [Math.min(...perRound), Math.max(...perRound)].map((x) => +x.toFixed(3)),
      });
      console.log(
        `${name} / python runs/s at ${CONCURRENCY} in flight, per round: ${perRound.map((x) => x.toFixed(2)).join(' ')}`,
      );
      console.log(
        `  median ${r.toFixed(2)}× (range ${range(perRound)}; ratio of medians ${(median(get(name, 'par', 'rps')) / median(get('python', 'par', 'rps'))).toFixed(2)}×), target ≥ 1.5×: ${r >= 1.5 ? 'PASS' : 'BELOW TARGET'}`,
      );
      const seqRatio = get(name, 'seq', 'rps').map((v, i) => v / get('python', 'seq', 'rps')[i]);
      console.log(
        `${name} / python runs/s at 1 in flight: median ${median(seqRatio).toFixed(2)}× (range ${range(seqRatio)})`,
      );
    }
  }
  if (results.has('builtin')) {
    for (const name of [...ours, 'python']) {
      if (!results.has(name)) continue;
      const perRound = get(name, 'seq', 'p50').map((v, i) => v - get('builtin', 'seq', 'p50')[i]);
      const o = median(perRound);
      Object.assign(summary, {
        [`${name}OverheadMs`]: +o.toFixed(3),
        [`${name}OverheadMsRange`]: [Math.min(...perRound), Math.max(...perRound)].map(
          (x) => +x.toFixed(3),
        ),
      });
      console.log(
        `${name} − builtin p50 latency at 1 in flight, per round (ms): ${perRound.map((x) => x.toFixed(2)).join(' ')}`,
      );
      console.log(
        `  median ${o.toFixed(3)} ms (range ${range(perRound)})${name.startsWith('ours') ? `, target ≤ 0.5 ms: ${o <= 0.5 ? 'PASS' : 'BELOW TARGET'}` : ''}`,
      );
    }
    const floor = median(get('builtin', 'par', 'rps'));
    const oursRps = results.has('ours') ? median(get('ours', 'par', 'rps')) : NaN;
    console.log(
      `client check: the builtin floor reaches ${Math.round(floor)} runs/s at ${CONCURRENCY} in flight${Number.isFinite(oursRps) ? ` (${(floor / oursRps).toFixed(1)}× ours)` : ''} with the same driver, which spends ${fmt(median(results.get('builtin').par.map((r) => r.cpu.driver)), 0)} µs CPU per run`,
    );
  }
  if (rtt) {
    const grpcio = rtt.grpcio.length
      ? `, grpcio (C-core) ${fmt(median(rtt.grpcio) / 1000, 3)} ms`
      : '';
    console.log(
      `claim round trip (one TaskHeartbeat, answered NOT_FOUND), p50 over 3 rounds: ours ${fmt(median(rtt.ours) / 1000, 3)} ms${grpcio}: on every task's critical path, with the assignment and the completion besides`,
    );
    summary.claimRoundTripMs = +(median(rtt.ours) / 1000).toFixed(3);
    if (rtt.grpcio.length) summary.grpcioClaimRoundTripMs = +(median(rtt.grpcio) / 1000).toFixed(3);
  }
  console.log(
    `server RSS ${fmt(serverRss, 0)} MB after ${Math.round(roundsS)} s of rounds (in-memory storage keeps every run)`,
  );
  return summary;
}

// ---- main ----------------------------------------------------------------------------------------
const pythonBin = ONLY.includes('python') ? ensurePythonWorker() : undefined;
progress(`provisioning stepflow-server ${STEPFLOW_VERSION}`);
const serverBin = provisionStepflow(STEPFLOW_VERSION);
if (!existsSync(OUR_BIN))
  throw new Error(`${OUR_BIN} is missing: run \`npx -y pnpm@10 build\` first`);
if (MODES.includes('nodelay')) buildShim();
const startedAll = performance.now();
const measured = [];
for (const mode of MODES) measured.push(await measureMode(mode, serverBin, pythonBin));
const summaries = measured.map(report);
console.log(
  `\nmachine: ${availableParallelism()} CPUs, Node ${process.version}, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} at the end; ${Math.round((performance.now() - startedAll) / 1000)} s in all`,
);
for (const s of summaries) console.log(JSON.stringify(s));
process.exit(0);
