// Core SDK transport overhead: the math worker vs minimal raw workers, in the same run.
// Subject and baseline are measured in alternating rounds so both see the same machine state.
import { Pool } from 'undici';
import { median, report, root, spawnWithPort, stdioDriver, throughput } from './lib.mjs';

const MATH = `${root}packages/math/dist/bin.js`;
const ROUNDS = 5;
const params = { component: '/add', input: { a: 1, b: 2 }, attempt: 1, observability: {} };

/** A started worker driven over stdio: `call()` sends one execute. */
async function stdioTarget(args) {
  const driver = stdioDriver(process.execPath, args);
  const call = () => driver.call('components/execute', params);
  await throughput(call, 500, 8); // warm-up
  return { call, close: () => driver.close() };
}

/** A started worker driven over HTTP with undici. */
async function httpTarget(args, concurrency) {
  const { child, port } = await spawnWithPort(process.execPath, args);
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: concurrency, pipelining: 1 });
  let id = 0;
  const call = async () => {
    const { body } = await pool.request({
      path: '/',
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method: 'components/execute', params }),
    });
    await body.json();
  };
  await throughput(call, 500, concurrency); // warm-up
  return {
    call,
    close: async () => {
      await pool.close();
      child.kill('SIGTERM');
    },
  };
}

/** Medians of alternating rounds (A B, B A, …) and the median of the per-round ratios. */
async function compare(name, subject, baseline, total, concurrency, target) {
  const a = [];
  const b = [];
  const ratios = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [subject, baseline] : [baseline, subject];
    const ops = new Map();
    for (const side of order) ops.set(side, await throughput(side.call, total, concurrency));
    a.push(ops.get(subject));
    b.push(ops.get(baseline));
    ratios.push(ops.get(subject) / ops.get(baseline));
  }
  await subject.close();
  await baseline.close();
  return {
    name,
    subject: median(a),
    baseline: median(b),
    ratio: median(ratios),
    unit: 'req/s',
    target,
  };
}

const rows = [];
for (const [name, concurrency, total, target] of [
  ['stdio, sequential', 1, 3000, 0.6],
  ['stdio, 64 in flight', 64, 20000, 0.5],
]) {
  const subject = await stdioTarget([MATH, '--stdio']);
  const baseline = await stdioTarget([`${root}bench/baselines/echo-stdio.mjs`]);
  rows.push(
    await compare(`execute add over ${name}`, subject, baseline, total, concurrency, target),
  );
}
for (const [name, concurrency, total, target] of [
  ['HTTP, sequential', 1, 2000, undefined],
  ['HTTP, 16 in flight', 16, 10000, 0.6],
]) {
  const subject = await httpTarget([MATH, '--http'], concurrency);
  const baseline = await httpTarget([`${root}bench/baselines/echo-http.mjs`], concurrency);
  rows.push(
    await compare(`execute add over ${name}`, subject, baseline, total, concurrency, target),
  );
}
const startups = [];
for (let i = 0; i < 11; i++) {
  const { child, ms } = await spawnWithPort(process.execPath, [MATH, '--http']);
  startups.push(ms);
  child.kill('SIGTERM');
}
const startup = median(startups);
rows.push({
  name: 'spawn to {"port":N} line (median of 11)',
  subject: startup,
  unit: 'ms',
  targetText: '≤ 250 ms',
  pass: startup <= 250,
});
report(
  'core: transport overhead (math worker vs raw workers, median of 5 alternating rounds)',
  rows,
);
