/**
 * Retry policy, through the built binary (stdio), default retry settings:
 * 503, 503, 200 → success with attempts 3; 503 + Retry-After: 3600 → total ≤ timeout + 500 ms;
 * POST to a 503 server → the server sees exactly 1 request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from './helpers/server.js';
import { startServer, type FixtureServer } from './helpers/server.js';
import { rpcError, startHttpWorker, type StartedWorker } from './helpers/worker.js';

let started: StartedWorker;
let flaky: FixtureServer;
let busy: FixtureServer;
let down: FixtureServer;

beforeAll(async () => {
  let calls = 0;
  flaky = await startServer((_req, res) => {
    calls++;
    if (calls <= 2) return json(res, { calls }, 503);
    return json(res, { calls, ok: true });
  });
  busy = await startServer((_req, res) =>
    json(res, { busy: true }, 503, { 'retry-after': '3600' }),
  );
  down = await startServer((_req, res) => json(res, { down: true }, 503));
  started = await startHttpWorker('stdio', 'v0.11', {
    env: { STEPFLOW_HTTP_ALLOW_HOSTS: '127.0.0.1' },
  });
});
afterAll(async () => {
  await started.worker.close();
  await Promise.all([flaky.close(), busy.close(), down.close()]);
});

describe('retry policy (built binary, default settings)', () => {
  it('503, 503, 200 → success with attempts_made 3 and 3 requests at the server', async () => {
    expect(await started.worker.execute('/http_request', { url: `${flaky.url}/` })).toMatchObject({
      success: true,
      status_code: 200,
      attempts_made: 3,
      data: { calls: 3, ok: true },
    });
    expect(flaky.requests.length).toBe(3);
  });

  it('503 with Retry-After: 3600 and timeout 2 s → answered within 2 s + 500 ms', async () => {
    const t0 = performance.now();
    const out = (await started.worker.execute('/http_request', {
      url: `${busy.url}/`,
      timeout: 2,
    })) as Record<string, unknown>;
    expect(performance.now() - t0).toBeLessThanOrEqual(2500);
    expect(out).toMatchObject({ success: false, status_code: 503, error_message: 'HTTP 503' });
    const err = await rpcError(
      started.worker.execute('/fetch_json', { url: `${busy.url}/`, timeout: 2 }),
    );
    expect(performance.now() - t0).toBeLessThanOrEqual(2 * 2500);
    expect(err).toMatchObject({ code: -32102, data: { status_code: 503 } });
  });

  it('POST to a 503 server → the server sees exactly 1 request (attempts_made 1)', async () => {
    const out = await started.worker.execute('/http_request', {
      url: `${down.url}/orders`,
      method: 'POST',
      json_data: { id: 1 },
      retries: 3,
    });
    expect(out).toMatchObject({ success: false, status_code: 503, attempts_made: 1 });
    expect(down.requests.filter((r) => r.method === 'POST').length).toBe(1);
  });

  it('GET to the same 503 server is retried: 1 + 3 requests', async () => {
    const before = down.requests.length;
    expect(
      await started.worker.execute('/http_request', { url: `${down.url}/orders`, retries: 3 }),
    ).toMatchObject({ attempts_made: 4 });
    expect(down.requests.length - before).toBe(4);
  });
});
