#!/usr/bin/env node
/**
 * HTTP pack benchmark: GET of a 1 KiB JSON body from a local server, 64 requests in flight.
 *
 *   raw undici   undici.request on a keep-alive Agent, in this process (the ceiling)
 *   raw fetch    global fetch, in this process
 *   worker       stepflow-pack-http over stdio: http_request, the worker hop included
 *   fetch worker the same component shape built on fetch, over stdio (what the pack replaces)
 *
 * The server runs in its own process. Rounds alternate between variants; the median of each is
 * reported with ratios against raw undici and against the fetch worker, plus the worker/raw
 * ratio of each round (raw and worker measured next to each other, which cancels slow drifts of
 * background load on a shared machine). The target (worker ≥ 0.7× raw undici) is judged on the
 * median of those per-round ratios; the ratio of the medians is printed next to it. Raw undici
 * uses the same Agent settings as the pack's shared Agent (keep-alive, unlimited connections
 * per origin, so 64 sockets for 64 in flight in both).
 *
 * Every variant is warmed up first (5000 requests by default): a fresh worker process needs about
 * that many before its JIT-compiled path is in place (≈ 350 µs of worker CPU per request over
 * the first thousand, ≈ 45 µs from about the five thousandth on), and the benchmark is about
 * the steady state.
 *
 *   node bench/http.mjs [--requests 4000] [--rounds 5] [--warmup 5000] [--concurrency 64]
 * BENCH_WORKER_NODE_ARGS adds Node.js options to the http_request worker (e.g. "--cpu-prof").
 * (The same file also runs the server and the fetch worker as child processes, by BENCH_HTTP_ROLE.)
 * Needs packages/core and packages/http built.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const SELF = fileURLToPath(import.meta.url);
// BENCH_HTTP_BIN compares another build of the pack (e.g. an experiment) against the same baselines.
const HTTP_BIN =
  process.env.BENCH_HTTP_BIN ??
  fileURLToPath(new URL('../packages/http/dist/bin.js', import.meta.url));

// Child roles are chosen by environment so their own flags (runCli's) stay untouched.
const ROLE = process.env.BENCH_HTTP_ROLE ?? 'driver';

// ---- role: the local JSON server (own process) --------------------------------------------
if (ROLE === 'serve') {
  const items = [];
  for (let i = 0; JSON.stringify({ items }).length < 1024 - 40; i++)
    items.push({ id: i, name: `item-${i}`, ok: true });
  const body = JSON.stringify({
    items,
    pad: 'x'.repeat(Math.max(0, 1024 - JSON.stringify({ items, pad: '' }).length)),
  });
  const server = createServer((_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () =>
    process.stdout.write(
      `${JSON.stringify({ port: server.address().port, bytes: Buffer.byteLength(body) })}\n`,
    ),
  );
  process.on('SIGTERM', () => process.exit(0));
  // Exit with the driver, however it ends.
  process.stdin.on('end', () => process.exit(0)).resume();
}

// ---- role: a fetch-based worker with the same component shape (baseline) ------------------
else if (ROLE === 'fetch-worker') {
  const { defineComponent, definePack, runCli, z } = await import('@stepflow-packs/core');
  const httpRequest = defineComponent({
    name: 'http_request',
    description: 'fetch-based baseline',
    input: z.object({ url: z.string(), method: z.string().default('GET') }),
    output: z.object({}).passthrough(),
    async execute({ url, method }) {
      const started = performance.now();
      const response = await fetch(url, { method });
      const data = await response.json();
      return {
        success: response.status < 400,
        status_code: response.status,
        data,
        error_message: null,
        response_time_ms: performance.now() - started,
        attempts_made: 1,
      };
    },
  });
  await runCli(definePack({ name: 'fetchbench', version: '0.0.0', components: [httpRequest] }));
}

// ---- role: the benchmark driver -----------------------------------------------------------
else {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '4000' },
      rounds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '5000' },
      concurrency: { type: 'string', default: '64' },
    },
  });
  const { Agent, request } = await import('undici');
  const { startWorker } = await import('@stepflow-packs/core/client');
  const total = Number(values.requests);
  const rounds = Number(values.rounds);
  const warmup = Number(values.warmup);
  const concurrency = Number(values.concurrency);

  const server = spawn(process.execPath, [SELF], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_HTTP_ROLE: 'serve' },
  });
  process.on('exit', () => server.kill('SIGTERM'));
  const { port, bytes } = await new Promise((resolve, reject) => {
    server.stdout.once('data', (chunk) => resolve(JSON.parse(String(chunk))));
    server.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const url = `http://127.0.0.1:${port}/item`;

  /** Run `total` calls of `one` with `concurrency` in flight; returns requests per second. */
  async function drive(one, count = total) {
    let next = 0;
    const started = performance.now();
    const lane = async () => {
      while (next < count) {
        next++;
        await one();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    return count / ((performance.now() - started) / 1000);
  }

  // The pack's Agent: keepAliveTimeout 4 s (the server's Keep-Alive hint of 30 s wins in both),
  // no connection limit, headers/body timeouts as backstops only.
  const agent = new Agent({ keepAliveTimeout: 4_000 });
  const rawUndici = async () => {
    const res = await request(url, { dispatcher: agent });
    const data = await res.body.json();
    if (res.statusCode !== 200 || !data.items) throw new Error('bad response');
  };
  const rawFetch = async () => {
    const res = await fetch(url);
    const data = await res.json();
    if (res.status !== 200 || !data.items) throw new Error('bad response');
  };
  const env = {
    PATH: process.env.PATH ?? '',
    STEPFLOW_LOG_LEVEL: 'warn',
    STEPFLOW_HTTP_ALLOW_HOSTS: '127.0.0.1',
  };
  const worker = await startWorker(
    {
      transport: 'stdio',
      command: process.execPath,
      args: [
        ...(process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean),
        HTTP_BIN,
        '--transport',
        'stdio',
      ],
      env,
    },
    { dialect: 'v0.11', requestTimeoutMs: 60_000 },
  );
  const fetchWorker = await startWorker(
    {
      transport: 'stdio',
      command: process.execPath,
      args: [SELF, '--transport', 'stdio'],
      env: { ...env, BENCH_HTTP_ROLE: 'fetch-worker' },
    },
    { dialect: 'v0.11', requestTimeoutMs: 60_000 },
  );
  const viaWorker = (w) => async () => {
    const out = await w.execute('/http_request', { url });
    if (out.status_code !== 200 || !out.data?.items)
      throw new Error(`bad output ${JSON.stringify(out).slice(0, 200)}`);
  };

  const variants = [
    ['raw undici', rawUndici],
    ['raw fetch', rawFetch],
    ['worker (http_request, undici)', viaWorker(worker)],
    ['fetch worker (same shape, fetch)', viaWorker(fetchWorker)],
  ];
  /** CPU time (µs) used so far by this process and the child processes (Linux /proc). */
  const pids = [server.pid, worker.pid, fetchWorker.pid];
  const childCpu = (pid) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10_000; // clock ticks of 10 ms
    } catch {
      return NaN;
    }
  };
  const cpuNow = () => {
    const own = process.cpuUsage();
    return own.user + own.system + pids.reduce((sum, pid) => sum + childCpu(pid), 0);
  };
  const results = new Map(variants.map(([name]) => [name, []]));
  const cpu = new Map(variants.map(([name]) => [name, []]));
  try {
    for (const [name, one] of variants) {
      process.stderr.write(`warm-up: ${name}\n`);
      await drive(one, warmup);
    }
    for (let round = 0; round < rounds; round++) {
      for (const [name, one] of variants) {
        const before = cpuNow();
        results.get(name).push(await drive(one));
        cpu.get(name).push((cpuNow() - before) / total);
      }
    }
  } finally {
    await worker.close();
    await fetchWorker.close();
    await agent.close();
    server.kill('SIGTERM');
  }

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rate = new Map([...results].map(([name, xs]) => [name, median(xs)]));
  const cpuPer = new Map([...cpu].map(([name, xs]) => [name, median(xs)]));
  const raw = rate.get('raw undici');
  const fetchWorkerRate = rate.get('fetch worker (same shape, fetch)');
  console.log(
    `http pack benchmark: GET ${bytes}-byte JSON, ${concurrency} in flight, ${total} requests × ${rounds} rounds (median)`,
  );
  console.log(
    'CPU µs/req counts every process of the variant: driver, server and worker (load-independent).',
  );
  console.log('');
  console.log(
    `${'variant'.padEnd(36)} ${'req/s'.padStart(9)}  ${'× raw undici'.padStart(12)}  ${'× fetch worker'.padStart(14)}  ${'CPU µs/req'.padStart(10)}`,
  );
  for (const [name, value] of rate) {
    console.log(
      `${name.padEnd(36)} ${value.toFixed(0).padStart(9)}  ${(value / raw).toFixed(2).padStart(12)}  ${(value / fetchWorkerRate).toFixed(2).padStart(14)}  ${cpuPer.get(name).toFixed(0).padStart(10)}`,
    );
  }
  const ratio = rate.get('worker (http_request, undici)') / raw;
  const perRound = results
    .get('worker (http_request, undici)')
    .map((value, i) => value / results.get('raw undici')[i]);
  const sorted = [...perRound].sort((a, b) => a - b);
  console.log('');
  console.log(
    `worker / raw undici per round: ${perRound.map((r) => r.toFixed(2)).join(' ')} (median ${median(perRound).toFixed(2)}, range ${sorted[0].toFixed(2)}–${sorted.at(-1).toFixed(2)})`,
  );
  // Verdict on the paired estimator: background load drifts over a run, and the medians of
  // the two variants can come from rounds under different load; each round's pair cannot.
  const paired = median(perRound);
  console.log(`worker / raw undici, ratio of the medians = ${ratio.toFixed(2)}`);
  console.log(
    `worker / raw undici, median of per-round ratios = ${paired.toFixed(2)} (target ≥ 0.70): ${paired >= 0.7 ? 'PASS' : 'BELOW TARGET'}`,
  );
}
