/**
 * Secrets canary: a unique canary as a Bearer token, a Cookie, URL userinfo
 * and a query token in failing HTTP calls, through the built binary over stdio and HTTP with
 * trace logging on. Pass: the canary occurs 0 times in all captured stdout, stderr and
 * JSON-RPC responses (and never reaches another origin through a redirect).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startServer, type FixtureServer } from './helpers/server.js';
import { startHttpWorker, type Dialect, type Mode } from './helpers/worker.js';

const CANARY = `canary${randomUUID().replaceAll('-', '')}`;
const ENCODED = Buffer.from(`user:${CANARY}`).toString('base64');

let api: FixtureServer; // 127.0.0.1, allowlisted
let other: FixtureServer; // 127.0.0.2, allowlisted: another origin

beforeAll(async () => {
  other = await startServer((_req, res) => json(res, { other: true }, 401), '127.0.0.2');
  api = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/hang') return;
    if (url.pathname === '/away') {
      res.writeHead(307, { location: `${other.url}/steal` });
      return res.end();
    }
    if (url.pathname === '/broken') return json(res, { error: 'server error' }, 500);
    json(res, { error: 'unauthorized' }, 401);
  });
});
afterAll(async () => {
  await Promise.all([api.close(), other.close()]);
});

function failingCalls(): [string, Record<string, unknown>][] {
  const bearer = { Authorization: `Bearer ${CANARY}` };
  const userinfo = (path: string, host = `127.0.0.1:${api.port}`) =>
    `http://user:${CANARY}@${host}${path}`;
  return [
    ['/http_request', { url: `${api.url}/private`, headers: bearer }],
    ['/http_request', { url: `${api.url}/private`, headers: bearer, raise_on_failure: true }],
    [
      '/http_request',
      {
        url: `${api.url}/broken`,
        headers: { Cookie: `session=${CANARY}` },
        retries: 0,
        raise_on_failure: true,
      },
    ],
    [
      '/http_request',
      { url: `${api.url}/hang`, headers: bearer, timeout: 0.3, raise_on_failure: true },
    ],
    [
      '/http_request',
      { url: `${api.url}/away`, headers: { ...bearer, Cookie: CANARY }, raise_on_failure: true },
    ],
    ['/http_request', { url: userinfo('/private'), raise_on_failure: true }],
    ['/http_request', { url: userinfo('/private') }],
    ['/http_request', { url: userinfo('/', '127.0.0.1:9'), retries: 0 }],
    ['/http_request', { url: userinfo('/', '10.0.0.1') }],
    ['/http_request', { url: userinfo('/', 'localhost') }],
    ['/http_request', { url: `${api.url}/private?token=${CANARY}`, raise_on_failure: true }],
    [
      '/http_request',
      { url: `${api.url}/private`, headers: { Authorization: `Bearer ${CANARY}\r\nX-Evil: 1` } },
    ],
    ['/http_request', { url: `${api.url}/private`, headers: { [`X-${CANARY}\n`]: 'v' } }],
    ['/http_request', { url: `user:${CANARY}@no-scheme` }],
    ['/http_request', { url: `ftp://user:${CANARY}@127.0.0.1/` }],
    ['/fetch_json', { url: userinfo('/private') }],
    ['/fetch_json', { url: `${api.url}/private`, headers: bearer }],
    ['/fetch_json', { url: userinfo('/hang'), timeout: 0.3 }],
  ];
}

const modes: [Mode, Dialect][] = [
  ['stdio', 'v0.8'],
  ['stdio', 'v0.11'],
  ['http-subprocess', 'v0.11'],
];

describe.each(modes)('secrets canary over %s (%s), trace logging', (mode, dialect) => {
  it('puts the canary 0 times in stdout, stderr and JSON-RPC responses', async () => {
    const started = await startHttpWorker(mode, dialect, {
      env: {
        STEPFLOW_HTTP_ALLOW_HOSTS: '127.0.0.1,127.0.0.2',
        STEPFLOW_LOG_LEVEL: 'trace',
        STEPFLOW_HTTP_RETRY_BASE_DELAY_MS: '10',
      },
    });
    const answers: string[] = [];
    try {
      for (const [component, input] of failingCalls()) {
        try {
          answers.push(JSON.stringify(await started.worker.execute(component, input)));
        } catch (err) {
          const e = err as { code: number; message: string; data?: unknown };
          expect(e.code, `${component} ${JSON.stringify(input).slice(0, 80)}`).toBeLessThan(-32000);
          answers.push(JSON.stringify({ code: e.code, message: e.message, data: e.data }));
        }
      }
    } finally {
      await started.worker.close();
    }
    expect(answers.length).toBe(failingCalls().length);
    const captured = {
      answers: answers.join('\n'),
      frames: started.received.join('\n'),
      junk: started.junk.join('\n'),
      stdout: started.stdout(),
      stderr: started.stderr() + started.worker.stderrTail().join('\n'),
    };
    for (const [where, text] of Object.entries(captured)) {
      const at = text.indexOf(CANARY);
      expect(
        text.split(CANARY).length - 1,
        `${where}: …${text.slice(Math.max(0, at - 300), at + 50)}`,
      ).toBe(0);
      expect(text.split(ENCODED).length - 1).toBe(0);
    }
    // The trace log did say something, so silence is not why the canary is absent.
    expect(captured.stderr.length).toBeGreaterThan(0);
    expect(captured.frames.length).toBeGreaterThan(0);
  });
});

describe('cross-origin redirect', () => {
  it('never forwards the Bearer or Cookie canary to the other origin', () => {
    const leaked = other.requests.filter((r) => JSON.stringify(r.headers).includes(CANARY));
    expect(other.requests.length).toBeGreaterThan(0);
    expect(leaked).toEqual([]);
  });
});
