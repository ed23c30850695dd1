import { createTestKit } from '@stepflow-packs/core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { httpPack } from '../src/index.js';
import { routes } from './helpers/routes.js';
import { startServer, type FixtureServer } from './helpers/server.js';

let a: FixtureServer; // 127.0.0.1
let b: FixtureServer; // 127.0.0.2: another origin
let kit: ReturnType<typeof createTestKit>;

beforeAll(async () => {
  a = await startServer(routes(), '127.0.0.1');
  b = await startServer(routes(), '127.0.0.2');
  kit = createTestKit(httpPack, {
    config: {
      allowHosts: ['127.0.0.1', '127.0.0.2'],
      retryBaseDelayMs: 20,
      sensitiveHeaders: ['x-api-key'],
    },
  });
});
afterAll(async () => {
  await a.close();
  await b.close();
});

interface Output {
  success: boolean;
  status_code: number;
  data: unknown;
  error_message: string | null;
  response_time_ms: number;
  attempts_made: number;
  headers: Record<string, string>;
  final_url: string | null;
  redirects: number;
}

const run = (input: Record<string, unknown>) => kit.execute<Output>('http_request', input);
const fail = async (input: Record<string, unknown>, component = 'http_request') => {
  const outcome = await kit.call(component, input);
  if (outcome.ok) throw new Error(`expected an error, got ${JSON.stringify(outcome.output)}`);
  return outcome.error as { code: number; message: string; data: Record<string, unknown> };
};

describe('http_request: the documented contract', () => {
  it('returns parsed JSON with success, status_code, attempts_made, response_time_ms and response headers', async () => {
    const out = await run({ url: `${a.url}/json` });
    expect(out).toMatchObject({
      success: true,
      status_code: 200,
      data: { hello: 'world', n: 1 },
      error_message: null,
      attempts_made: 1,
    });
    expect(out.response_time_ms).toBeGreaterThan(0);
    expect(out.headers['content-type']).toBe('application/json');
    expect(out.final_url).toBe(`${a.url}/json`);
  });

  it('wraps a non-JSON body as {text}, a binary one as {base64}, and an empty one as null', async () => {
    expect((await run({ url: `${a.url}/text` })).data).toEqual({ text: 'plain text é' });
    expect((await run({ url: `${a.url}/binary` })).data).toEqual({
      base64: '/wD+gA==',
      content_type: 'application/octet-stream',
    });
    expect((await run({ url: `${a.url}/empty` })).data).toBeNull();
  });

  it('reports an HTTP 404 as data, not as an error', async () => {
    const out = await run({ url: `${a.url}/status/404` });
    expect(out).toMatchObject({
      success: false,
      status_code: 404,
      error_message: 'HTTP 404',
      data: { status: 404 },
      attempts_made: 1,
    });
  });

  it('reports a network failure after all retries as success false, status_code 0 and the reason', async () => {
    const out = await run({ url: 'http://127.0.0.1:9/', retries: 2 });
    expect(out).toMatchObject({ success: false, status_code: 0, data: null, attempts_made: 3 });
    expect(out.error_message).toMatch(/refused \(ECONNREFUSED\)/);
  });

  it('decodes gzip bodies and accepts lowercase methods', async () => {
    expect((await run({ url: `${a.url}/gzip-json` })).data).toEqual({ compressed: true });
    expect((await run({ url: `${a.url}/echo`, method: 'post', body: 'x' })).data).toMatchObject({
      method: 'POST',
    });
  });

  it('never returns Set-Cookie in the response headers', async () => {
    const out = await run({ url: `${a.url}/cookie` });
    expect(out.headers['set-cookie']).toBeUndefined();
    expect(JSON.stringify(out)).not.toContain('s3cr3t');
  });
});

describe('http_request: request building', () => {
  it('appends query parameters (arrays repeat) and sends json_data as application/json', async () => {
    const out = await run({
      url: `${a.url}/echo?x=1`,
      method: 'POST',
      query: { q: 'a b', n: 2, tag: ['t1', 't2'] },
      json_data: { k: [1] },
    });
    const echo = out.data as {
      query: Record<string, string>;
      headers: Record<string, string>;
      body: string;
      path: string;
    };
    expect(echo.query).toEqual({ x: '1', q: 'a b', n: '2', tag: 't2' });
    expect(echo.headers['content-type']).toBe('application/json');
    expect(JSON.parse(echo.body)).toEqual({ k: [1] });
    expect(a.requests.at(-1)?.url).toBe('/echo?x=1&q=a+b&n=2&tag=t1&tag=t2');
  });

  it('sends form fields urlencoded and a raw body as text/plain unless a Content-Type is given', async () => {
    const form = (await run({ url: `${a.url}/echo`, method: 'PUT', form: { a: '1&2', b: true } }))
      .data as { body: string; headers: Record<string, string> };
    expect(form.body).toBe('a=1%262&b=true');
    expect(form.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const raw = (
      await run({
        url: `${a.url}/echo`,
        method: 'POST',
        body: '<x/>',
        headers: { 'Content-Type': 'application/xml' },
      })
    ).data as {
      body: string;
      headers: Record<string, string>;
    };
    expect(raw).toMatchObject({ body: '<x/>', headers: { 'content-type': 'application/xml' } });
  });

  it('sends URL userinfo as Basic authentication and never echoes it', async () => {
    const out = await run({ url: `http://al%20ice:p%40ss@127.0.0.1:${a.port}/echo` });
    const echo = out.data as { headers: Record<string, string> };
    expect(echo.headers.authorization).toBe(
      `Basic ${Buffer.from('al ice:p@ss').toString('base64')}`,
    );
    expect(out.final_url).toBe(`${a.url}/echo`);
  });

  it('sends a default User-Agent and Accept-Encoding, and lets the step override them', async () => {
    const echo = (await run({ url: `${a.url}/echo` })).data as { headers: Record<string, string> };
    expect(echo.headers['user-agent']).toMatch(/^stepflow-pack-http\//);
    expect(echo.headers['accept-encoding']).toBe('gzip, deflate, br');
    const custom = (await run({ url: `${a.url}/echo`, headers: { 'User-Agent': 'me' } })).data as {
      headers: Record<string, string>;
    };
    expect(custom.headers['user-agent']).toBe('me');
  });

  it('refuses a header value with CR/LF with -32103 before any request is sent', async () => {
    const before = a.requests.length;
    const err = await fail({ url: `${a.url}/echo`, headers: { 'X-Test': 'a\r\nX-Injected: 1' } });
    expect(err).toMatchObject({ code: -32103, data: { reason: 'invalid_header_value' } });
    expect(a.requests.length).toBe(before);
  });

  it('refuses hop-by-hop headers with -32103 forbidden_header', async () => {
    expect(
      await fail({ url: `${a.url}/echo`, headers: { 'Transfer-Encoding': 'chunked' } }),
    ).toMatchObject({
      code: -32103,
      data: { reason: 'forbidden_header' },
    });
  });
});

describe('http_request: input validation (-32003)', () => {
  it.each([
    [{ url: 'not a url' }, 'input.url'],
    [{ url: 'http://x/', bogus: 1 }, 'bogus'],
    [{ url: 'http://x/', method: 'TRACE' }, 'input.method'],
    [{ url: 'http://x/', method: 'POST', json_data: {}, body: 'x' }, 'input.body'],
    [{ url: 'http://x/', body: 'x' }, 'input.body'],
    [{ url: 'http://x/', timeout: 0 }, 'input.timeout'],
    [{ url: 'http://x/', retries: 1.5 }, 'input.retries'],
    [{ url: 'http://x/', response_type: 'xml' }, 'input.response_type'],
  ])('answers -32003 for %j naming %s', async (input, path) => {
    const err = await fail(input);
    expect(err.code).toBe(-32003);
    expect(err.message).toContain(path);
  });

  it('refuses a timeout above the server limit with -32103 timeout_too_large', async () => {
    expect(await fail({ url: `${a.url}/json`, timeout: 301 })).toMatchObject({
      code: -32103,
      data: { reason: 'timeout_too_large', limit: 300, actual: 301 },
    });
  });
});

describe('http_request: redirects', () => {
  it('follows a redirect chain of 5 and refuses a 6th with -32103 too_many_redirects', async () => {
    expect(await run({ url: `${a.url}/chain/5` })).toMatchObject({
      success: true,
      redirects: 5,
      data: { chain: 'done' },
    });
    expect(await fail({ url: `${a.url}/chain/6` })).toMatchObject({
      code: -32103,
      data: { reason: 'too_many_redirects', limit: 5 },
    });
  });

  it('keeps Authorization on a same-origin redirect', async () => {
    const out = await run({
      url: `${a.url}/redirect/302?to=/echo`,
      headers: { Authorization: 'Bearer same' },
    });
    expect((out.data as { headers: Record<string, string> }).headers.authorization).toBe(
      'Bearer same',
    );
  });

  it('drops Authorization, Cookie and configured sensitive headers on a cross-origin redirect', async () => {
    const to = encodeURIComponent(`${b.url}/echo`);
    const out = await run({
      url: `http://u:p@127.0.0.1:${a.port}/redirect/307?to=${to}`,
      headers: { Authorization: 'Bearer cross', Cookie: 'c=1', 'X-Api-Key': 'k', 'X-Trace': 't' },
    });
    const headers = (out.data as { headers: Record<string, string> }).headers;
    expect(headers.authorization).toBeUndefined();
    expect(headers.cookie).toBeUndefined();
    expect(headers['x-api-key']).toBeUndefined();
    expect(headers['x-trace']).toBe('t');
    expect(out.final_url).toBe(`${b.url}/echo`);
  });

  it('turns POST into GET without a body on 303 and keeps both on 307/308', async () => {
    const see = (
      await run({ url: `${a.url}/redirect/303?to=/echo`, method: 'POST', json_data: { a: 1 } })
    ).data as Record<string, unknown>;
    expect(see).toMatchObject({ method: 'GET', body: '' });
    expect((see.headers as Record<string, string>)['content-type']).toBeUndefined();
    const keep = (
      await run({ url: `${a.url}/redirect/308?to=/echo`, method: 'POST', json_data: { a: 1 } })
    ).data as Record<string, unknown>;
    expect(keep).toMatchObject({ method: 'POST', body: '{"a":1}' });
  });

  it('returns the 3xx itself when follow_redirects is false', async () => {
    const out = await run({ url: `${a.url}/redirect/302?to=/json`, follow_redirects: false });
    expect(out).toMatchObject({ success: true, status_code: 302, redirects: 0 });
    expect(out.headers.location).toBe('/json');
  });

  it('refuses a redirect to a non-http scheme with -32103', async () => {
    expect(
      await fail({ url: `${a.url}/redirect/302?to=${encodeURIComponent('file:///etc/passwd')}` }),
    ).toMatchObject({
      code: -32103,
      data: { reason: 'scheme_not_allowed' },
    });
  });
});

describe('http_request: retries and deadline', () => {
  it('retries 503, 503 then succeeds with attempts_made 3', async () => {
    expect(await run({ url: `${a.url}/flaky/unit-1` })).toMatchObject({
      success: true,
      attempts_made: 3,
      data: { attempt: 3, ok: true },
    });
  });

  it('makes one attempt with retries 0 and returns the 503 as data', async () => {
    expect(await run({ url: `${a.url}/flaky/unit-2`, retries: 0 })).toMatchObject({
      success: false,
      status_code: 503,
      attempts_made: 1,
    });
  });

  it('does not retry a POST by default, and does with retry_non_idempotent', async () => {
    const before = a.requests.filter((r) => r.url.startsWith('/flaky/unit-3')).length;
    expect(await run({ url: `${a.url}/flaky/unit-3`, method: 'POST', body: 'x' })).toMatchObject({
      status_code: 503,
      attempts_made: 1,
    });
    expect(a.requests.filter((r) => r.url.startsWith('/flaky/unit-3')).length - before).toBe(1);
    expect(
      await run({
        url: `${a.url}/flaky/unit-4`,
        method: 'POST',
        body: 'x',
        retry_non_idempotent: true,
      }),
    ).toMatchObject({
      success: true,
      attempts_made: 3,
    });
  });

  it('does not retry 4xx other than 408/429', async () => {
    expect(await run({ url: `${a.url}/flaky/unit-5?status=400` })).toMatchObject({
      status_code: 400,
      attempts_made: 1,
    });
    expect(await run({ url: `${a.url}/flaky/unit-6?status=429` })).toMatchObject({
      status_code: 200,
      attempts_made: 3,
    });
  });

  it('answers at once when Retry-After is longer than the deadline allows', async () => {
    const started = performance.now();
    expect(await run({ url: `${a.url}/retry-after/3600`, timeout: 2 })).toMatchObject({
      status_code: 503,
      attempts_made: 1,
    });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('honours a short Retry-After between attempts', async () => {
    const out = await run({ url: `${a.url}/retry-after/1`, retries: 1, timeout: 5 });
    expect(out).toMatchObject({ status_code: 503, attempts_made: 2 });
    expect(out.response_time_ms).toBeGreaterThanOrEqual(990);
  });

  it('ends a call that gets no response at the deadline (timeout 0.3 s → within 0.3–0.8 s)', async () => {
    const out = await run({ url: `${a.url}/hang`, timeout: 0.3 });
    expect(out).toMatchObject({ success: false, status_code: 0, attempts_made: 1 });
    expect(out.error_message).toMatch(/within the 0.3 s deadline/);
    expect(out.response_time_ms).toBeGreaterThanOrEqual(295);
    expect(out.response_time_ms).toBeLessThan(800);
  });

  it('ends a call still queued for a socket at its own deadline (0.3 s → within 0.3–0.8 s while the only socket is busy for 1.5 s)', async () => {
    // One socket per origin: the second call waits in undici's queue behind a hanging one.
    const single = createTestKit(httpPack, {
      config: { allowHosts: ['127.0.0.1'], connectionsPerOrigin: 1 },
    });
    const hanging = a.requests.filter((r) => r.url === '/hang').length;
    const blocker = single.execute<Output>('http_request', { url: `${a.url}/hang`, timeout: 1.5 });
    await vi.waitUntil(() => a.requests.filter((r) => r.url === '/hang').length > hanging, {
      timeout: 5000,
    });
    const t0 = performance.now();
    const queued = await single.execute<Output>('http_request', {
      url: `${a.url}/json`,
      timeout: 0.3,
    });
    const elapsed = performance.now() - t0;
    expect(queued).toMatchObject({ success: false, status_code: 0, attempts_made: 1 });
    expect(queued.error_message).toMatch(/within the 0.3 s deadline/);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(800);
    expect(await blocker).toMatchObject({ success: false, status_code: 0 });
    // The pool still works: the hung socket was closed and a new one serves the next call.
    expect(await single.execute<Output>('http_request', { url: `${a.url}/json` })).toMatchObject({
      success: true,
      data: { hello: 'world' },
    });
  });
});

describe('http_request: response bodies', () => {
  let small: ReturnType<typeof createTestKit>;
  beforeAll(() => {
    small = createTestKit(httpPack, {
      config: { allowHosts: ['127.0.0.1'], maxResponseBytes: 1000 },
    });
  });
  const failSmall = async (input: Record<string, unknown>) => {
    const outcome = await small.call('http_request', { retries: 0, ...input });
    if (outcome.ok) throw new Error(`expected an error, got ${JSON.stringify(outcome.output)}`);
    return outcome.error as { code: number; data: Record<string, unknown> };
  };

  it('accepts a body of exactly maxResponseBytes (1000 bytes)', async () => {
    const out = await small.execute<Output>('http_request', { url: `${a.url}/big?bytes=1000` });
    expect((out.data as { text: string }).text).toHaveLength(1000);
  });

  it('refuses a Content-Length over maxResponseBytes before reading (-32103, declared 1001 > 1000)', async () => {
    expect(await failSmall({ url: `${a.url}/big?bytes=1001` })).toMatchObject({
      code: -32103,
      data: { reason: 'response_too_large', limit: 1000, actual: 1001, declared: true },
    });
  });

  it('stops a chunked body without Content-Length past 1000 bytes (-32103)', async () => {
    const err = await failSmall({ url: `${a.url}/chunked?bytes=4096` });
    expect(err).toMatchObject({
      code: -32103,
      data: { reason: 'response_too_large', limit: 1000 },
    });
    expect(Number(err.data.actual)).toBeGreaterThan(1000);
  });

  it('counts decoded bytes: a gzip body of a few dozen bytes inflating to 5000 is refused (-32103)', async () => {
    expect(await failSmall({ url: `${a.url}/gzip-big?bytes=5000` })).toMatchObject({
      code: -32103,
      data: { reason: 'response_too_large', limit: 1000 },
    });
    const out = await small.execute<Output>('http_request', { url: `${a.url}/gzip-big?bytes=900` });
    expect(out).toMatchObject({ success: true, status_code: 200 });
  });

  it('follows a redirect whose 100 KiB body it does not read', async () => {
    expect(await run({ url: `${a.url}/redirect-big?bytes=102400` })).toMatchObject({
      success: true,
      data: { hello: 'world' },
      redirects: 1,
    });
  });

  it('skips a 103 Early Hints response and answers with the final one', async () => {
    expect(await run({ url: `${a.url}/early-hints` })).toMatchObject({
      success: true,
      status_code: 200,
      data: { hinted: true },
    });
  });

  it('reads every body to its end: 20 calls in a row reuse one keep-alive socket', async () => {
    await run({ url: `${a.url}/json` });
    const before = a.connections;
    for (let i = 0; i < 20; i++)
      expect(await run({ url: `${a.url}/redirect/302?to=/json` })).toMatchObject({ success: true });
    expect(a.connections - before).toBeLessThanOrEqual(1);
  });
});

describe('http_request: raise_on_failure', () => {
  it('raises -32101 for a 4xx', async () => {
    expect(await fail({ url: `${a.url}/status/404`, raise_on_failure: true })).toMatchObject({
      code: -32101,
      message: `HTTP 404 from ${a.url}/status/404`,
      data: { reason: 'http_status', status_code: 404 },
    });
  });

  it('raises -32102 (retryable) for a 5xx after its retries', async () => {
    expect(
      await fail({ url: `${a.url}/status/500`, raise_on_failure: true, retries: 1 }),
    ).toMatchObject({
      code: -32102,
      data: { reason: 'http_status', status_code: 500, attempts_made: 2, retryable: true },
    });
  });

  it('raises -32102 for a network failure and for a timeout', async () => {
    expect(
      await fail({ url: 'http://127.0.0.1:9/', raise_on_failure: true, retries: 0 }),
    ).toMatchObject({
      code: -32102,
      data: { reason: 'network_error', code: 'ECONNREFUSED' },
    });
    expect(
      await fail({ url: `${a.url}/hang`, raise_on_failure: true, timeout: 0.2 }),
    ).toMatchObject({
      code: -32102,
      data: { reason: 'timeout' },
    });
  });
});

describe('http_request: response types and limits', () => {
  it('json: a non-JSON body is a failure (data) or -32101 with raise_on_failure', async () => {
    expect(await run({ url: `${a.url}/text`, response_type: 'json' })).toMatchObject({
      success: false,
      status_code: 200,
      error_message: 'The response body is not valid JSON',
    });
    expect(
      await fail({ url: `${a.url}/text`, response_type: 'json', raise_on_failure: true }),
    ).toMatchObject({
      code: -32101,
      data: { reason: 'invalid_json' },
    });
  });

  it('text: returns {text} even for JSON', async () => {
    expect((await run({ url: `${a.url}/json`, response_type: 'text' })).data).toEqual({
      text: '{"hello":"world","n":1}',
    });
  });

  it('blob: stores the decoded body with putBlob and returns its id', async () => {
    const out = await run({ url: `${a.url}/json`, response_type: 'blob' });
    const data = out.data as { blob_id: string; content_type: string; size_bytes: number };
    expect(data).toMatchObject({ content_type: 'application/json', size_bytes: 23 });
    expect(await kit.blobs.get(data.blob_id)).toEqual({ hello: 'world', n: 1 });
  });

  it('refuses a body over maxResponseBytes with -32103 response_too_large (declared and decoded)', async () => {
    const small = createTestKit(httpPack, {
      config: { allowHosts: ['127.0.0.1'], maxResponseBytes: 1000 },
    });
    const declared = await small.call('http_request', { url: `${a.url}/big?bytes=1001` });
    expect(declared).toMatchObject({
      ok: false,
      error: { code: -32103, data: { reason: 'response_too_large', limit: 1000, actual: 1001 } },
    });
    expect(await small.call('http_request', { url: `${a.url}/big?bytes=1000` })).toMatchObject({
      ok: true,
    });
  });
});

describe('http_request: cancellation', () => {
  it('stops in-flight calls sharing one request signal within 200 ms of its abort, and closes their sockets', async () => {
    const controller = new AbortController();
    const open = a.openSockets;
    const hanging = a.requests.filter((r) => r.url === '/hang').length;
    const calls = [1, 2, 3].map(() =>
      kit.call(
        'http_request',
        { url: `${a.url}/hang`, timeout: 10 },
        { signal: controller.signal },
      ),
    );
    await vi.waitUntil(() => a.requests.filter((r) => r.url === '/hang').length === hanging + 3, {
      timeout: 5000,
    });
    const abortedAt = performance.now();
    controller.abort();
    const outcomes = await Promise.all(calls);
    expect(performance.now() - abortedAt).toBeLessThan(200);
    for (const outcome of outcomes)
      expect(outcome).toMatchObject({
        ok: false,
        error: { code: -32100, data: { reason: 'cancelled' } },
      });
    const deadline = performance.now() + 1000;
    while (a.openSockets > open && performance.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(a.openSockets).toBeLessThanOrEqual(open);
  });
});

describe('http_request: odd responses', () => {
  it('answers -32101 decode_failed for a body that is not the gzip it claims to be', async () => {
    expect(await fail({ url: `${a.url}/bad-gzip` })).toMatchObject({
      code: -32101,
      data: { reason: 'decode_failed', content_encoding: 'gzip' },
    });
  });

  it('reads no body for HEAD even when Content-Length announces more than the limit', async () => {
    const out = await run({ url: `${a.url}/head-big`, method: 'HEAD' });
    expect(out).toMatchObject({ success: true, status_code: 200, data: null });
    expect(out.headers['content-length']).toBe('99999999');
  });
});
