import { createTestKit } from '@stepflow-packs/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpPack } from '../src/index.js';
import { routes } from './helpers/routes.js';
import { startServer, type FixtureServer } from './helpers/server.js';

let server: FixtureServer;
let kit: ReturnType<typeof createTestKit>;

beforeAll(async () => {
  server = await startServer(routes());
  kit = createTestKit(httpPack, { config: { allowHosts: ['127.0.0.1'], retryBaseDelayMs: 20 } });
});
afterAll(() => server.close());

const failure = async (input: Record<string, unknown>) => {
  const outcome = await kit.call('fetch_json', input);
  if (outcome.ok) throw new Error(`expected an error, got ${JSON.stringify(outcome.output)}`);
  return outcome.error;
};

describe('fetch_json', () => {
  it('returns the response JSON and its status', async () => {
    expect(await kit.execute('fetch_json', { url: `${server.url}/json` })).toEqual({
      data: { hello: 'world', n: 1 },
      status_code: 200,
    });
  });

  it('returns only the part named by select', async () => {
    expect(
      await kit.execute('fetch_json', { url: `${server.url}/json`, select: '$.hello' }),
    ).toEqual({ data: 'world', status_code: 200 });
    expect(await kit.execute('fetch_json', { url: `${server.url}/json`, select: 'n' })).toEqual({
      data: 1,
      status_code: 200,
    });
  });

  it('sends Accept: application/json, a method and a JSON body', async () => {
    const out = (await kit.execute('fetch_json', {
      url: `${server.url}/echo`,
      method: 'PATCH',
      json_data: [1],
      select: '$.headers.accept',
    })) as {
      data: unknown;
    };
    expect(out.data).toBe('application/json');
    expect(server.requests.at(-1)).toMatchObject({ method: 'PATCH', body: '[1]' });
  });

  it('answers -32101 select_not_found when the selected part is missing', async () => {
    expect(await failure({ url: `${server.url}/json`, select: '$.missing[0]' })).toMatchObject({
      code: -32101,
      data: { reason: 'select_not_found', path: '$.missing[0]' },
    });
  });

  it('answers -32003 for an unsupported select path', async () => {
    const err = await failure({ url: `${server.url}/json`, select: '$..hello' });
    expect(err.code).toBe(-32003);
    expect(err.message).toContain('input.select');
  });

  it('answers -32101 invalid_json for a non-JSON body', async () => {
    expect(await failure({ url: `${server.url}/text` })).toMatchObject({
      code: -32101,
      data: { reason: 'invalid_json' },
    });
  });

  it('answers -32101 for a 4xx and -32102 for a 5xx after its retries', async () => {
    expect(await failure({ url: `${server.url}/status/404` })).toMatchObject({
      code: -32101,
      data: { status_code: 404 },
    });
    expect(await failure({ url: `${server.url}/status/502`, retries: 1 })).toMatchObject({
      code: -32102,
      data: { status_code: 502, attempts_made: 2, retryable: true },
    });
  });

  it('answers -32102 for a timeout and for a refused connection', async () => {
    expect(await failure({ url: `${server.url}/hang`, timeout: 0.2 })).toMatchObject({
      code: -32102,
      data: { reason: 'timeout' },
    });
    expect(await failure({ url: 'http://127.0.0.1:9/', retries: 0 })).toMatchObject({
      code: -32102,
      data: { code: 'ECONNREFUSED' },
    });
  });

  it('answers -32103 for a blocked URL', async () => {
    const strict = createTestKit(httpPack);
    expect(await strict.call('fetch_json', { url: `${server.url}/json` })).toMatchObject({
      ok: false,
      error: { code: -32103, data: { reason: 'address_blocked', category: 'loopback' } },
    });
  });

  it('retries flaky servers like http_request', async () => {
    expect(
      await kit.execute('fetch_json', { url: `${server.url}/flaky/fj-1`, select: '$.attempt' }),
    ).toEqual({ data: 3, status_code: 200 });
  });
});
