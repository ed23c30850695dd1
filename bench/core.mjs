// Core SDK transport overhead: the math worker vs minimal raw workers, in the same run.
import { Pool } from 'undici';
import { best, median, report, root, spawnWithPort, stdioDriver, throughput } from './lib.mjs';

const MATH = `${root}packages/math/dist/bin.js`;
const params = { component: '/add', input: { a: 1, b: 2 }, attempt: 1, observability: {} };

async function stdioOps(args, total, concurrency) {
  const driver = stdioDriver(process.execPath, args);
  await driver.call('components/execute', params); // warm-up
  const ops = await best(3, () =>
    throughput(() => driver.call('components/execute', params), total, concurrency),
  );
  await driver.close();
  return ops;
}

async function httpOps(args, total, concurrency) {
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
  await call();
  const ops = await best(3, () => throughput(call, total, concurrency));
  await pool.close();
  child.kill('SIGTERM');
  return ops;
}

const rows = [];
for (const [name, concurrency, total, target] of [
  ['stdio, sequential', 1, 3000, 0.6],
  ['stdio, 64 in flight', 64, 20000, 0.5],
]) {
  const subject = await stdioOps([MATH, '--stdio'], total, concurrency);
  const baseline = await stdioOps([`${root}bench/baselines/echo-stdio.mjs`], total, concurrency);
  rows.push({ name: `execute add over ${name}`, subject, baseline, unit: 'req/s', target });
}
for (const [name, concurrency, total, target] of [
  ['HTTP, sequential', 1, 2000, undefined],
  ['HTTP, 16 in flight', 16, 10000, 0.6],
]) {
  const subject = await httpOps([MATH, '--http'], total, concurrency);
  const baseline = await httpOps([`${root}bench/baselines/echo-http.mjs`], total, concurrency);
  rows.push({ name: `execute add over ${name}`, subject, baseline, unit: 'req/s', target });
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
report('core: transport overhead (math worker vs raw workers)', rows);
