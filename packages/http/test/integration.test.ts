import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from './helpers/routes.js';
import { startServer, type FixtureServer } from './helpers/server.js';
import {
  rpcError,
  startHttpWorker,
  type Dialect,
  type Mode,
  type StartedWorker,
} from './helpers/worker.js';

let server: FixtureServer;
beforeAll(async () => {
  server = await startServer(routes());
});
afterAll(() => server.close());

const cases: [Mode, Dialect][] = [
  ['stdio', 'v0.8'],
  ['stdio', 'v0.11'],
  ['http-subprocess', 'v0.8'],
  ['http-subprocess', 'v0.11'],
];

describe.each(cases)('the built binary over %s speaking %s', (mode, dialect) => {
  let started: StartedWorker;
  beforeAll(async () => {
    started = await startHttpWorker(mode, dialect, {
      env: { STEPFLOW_HTTP_ALLOW_HOSTS: '127.0.0.1', STEPFLOW_HTTP_RETRY_BASE_DELAY_MS: '20' },
    });
  });
  afterAll(() => started.worker.close());

  it('lists http_request, fetch_json and health_check', async () => {
    const names = (await started.worker.list()).map((c) => c.component).sort();
    expect(names).toEqual(['/fetch_json', '/health_check', '/http_request']);
  });

  it('runs http_request against a loopback server allowlisted by STEPFLOW_HTTP_ALLOW_HOSTS', async () => {
    expect(
      await started.worker.execute('/http_request', { url: `${server.url}/json` }),
    ).toMatchObject({
      success: true,
      status_code: 200,
      data: { hello: 'world', n: 1 },
      attempts_made: 1,
    });
  });

  it('retries 503, 503, 200 and reports attempts_made 3', async () => {
    expect(
      await started.worker.execute('/http_request', {
        url: `${server.url}/flaky/int-${mode}-${dialect}`,
      }),
    ).toMatchObject({
      success: true,
      attempts_made: 3,
    });
  });

  it('stores a blob response through the runtime blob store of this dialect', async () => {
    const out = (await started.worker.execute('/http_request', {
      url: `${server.url}/json`,
      response_type: 'blob',
    })) as {
      data: { blob_id: string };
    };
    expect(await started.blobs.get(out.data.blob_id)).toEqual({ hello: 'world', n: 1 });
  });

  it('answers -32101 from fetch_json for a 404 and keeps serving', async () => {
    expect(
      await rpcError(started.worker.execute('/fetch_json', { url: `${server.url}/status/404` })),
    ).toMatchObject({
      code: -32101,
      data: { status_code: 404 },
    });
    expect(
      await started.worker.execute('/fetch_json', { url: `${server.url}/json`, select: '$.n' }),
    ).toEqual({ data: 1, status_code: 200 });
  });

  it('answers -32103 for a blocked URL', async () => {
    expect(
      await rpcError(
        started.worker.execute('/http_request', {
          url: 'http://169.254.169.254/latest/meta-data/',
        }),
      ),
    ).toMatchObject({
      code: -32103,
      data: { reason: 'address_blocked', category: 'metadata' },
    });
  });

  it('never writes an id:null frame', () => {
    expect(started.received.length).toBeGreaterThan(0);
    expect(started.received.filter((frame) => /"id"\s*:\s*null/.test(frame))).toEqual([]);
    expect(started.junk).toEqual([]);
  });
});

describe('the built binary settings', () => {
  it('exits 1 with a clear message on an invalid allowlist entry', async () => {
    const { spawnSync } = await import('node:child_process');
    const { BIN } = await import('./helpers/worker.js');
    const result = spawnSync(process.execPath, [BIN, '--transport', 'stdio'], {
      env: { PATH: process.env.PATH ?? '', STEPFLOW_HTTP_ALLOW_HOSTS: 'http://nope/' },
      input: '',
      timeout: 10_000,
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('STEPFLOW_HTTP_ALLOW_HOSTS');
  });

  it('takes the allowlist from --allow-host flags too', async () => {
    const started = await startHttpWorker('stdio', 'v0.11', {
      args: ['--allow-host', '127.0.0.1'],
    });
    try {
      expect(
        await started.worker.execute('/http_request', { url: `${server.url}/text` }),
      ).toMatchObject({ data: { text: 'plain text é' } });
    } finally {
      await started.worker.close();
    }
  });
});
