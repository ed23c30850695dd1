import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { httpCall, spawnHttp, spawnRaw, execute, type RawWorker } from '../helpers/raw.js';

const json = (reply: { body: Buffer }) => JSON.parse(reply.body.toString('utf8'));

describe('HTTP transport of a built worker', () => {
  let worker: RawWorker;
  let port: number;
  beforeAll(async () => {
    ({ worker, port } = await spawnHttp({ STEPFLOW_MAX_MESSAGE_BYTES: String(4 * 1024 * 1024) }));
  });
  afterAll(() => {
    worker.child.kill('SIGTERM');
  });

  it('prints exactly one {"port":N} line on stdout', () => {
    expect(worker.lines).toEqual([`{"port":${port}}`]);
  });

  it('serves GET /health with status, instanceId, timestamp and service', async () => {
    const reply = await httpCall(port, { method: 'GET', path: '/health' });
    expect(reply.status).toBe(200);
    expect(json(reply)).toMatchObject({
      status: 'healthy',
      instanceId: expect.any(String),
      service: 'fixture',
    });
    expect(Number.isNaN(Date.parse(json(reply).timestamp))).toBe(false);
  });

  it('acknowledges the initialized notification with exactly 202 and an empty body', async () => {
    const reply = await httpCall(port, {
      body: '{"jsonrpc":"2.0","method":"initialized","params":{}}',
    });
    expect(reply.status).toBe(202);
    expect(reply.body.length).toBe(0);
  });

  it('accepts a 2 MiB execute body', async () => {
    const payload = 'x'.repeat(2 * 1024 * 1024);
    const reply = await httpCall(port, {
      body: JSON.stringify(execute('big', '/echo', { payload })),
    });
    expect(reply.status).toBe(200);
    expect(json(reply).result.output.payload).toBe(payload);
  });

  it('answers a body over the limit with 413 and a JSON-RPC error body', async () => {
    const reply = await httpCall(port, {
      body: JSON.stringify(execute('huge', '/echo', { payload: 'y'.repeat(4 * 1024 * 1024) })),
    });
    expect(reply.status).toBe(413);
    expect(json(reply)).toMatchObject({
      jsonrpc: '2.0',
      error: { code: -32600, data: { limit: 4 * 1024 * 1024 } },
    });
  });

  it('streams callbacks as ASCII-only SSE and the decoded output is exact', async () => {
    await httpCall(port, {
      body: '{"jsonrpc":"2.0","id":"i","method":"initialize","params":{"runtime_protocol_version":1}}',
    });
    const value = { text: 'é😀中\u2028 ok', nested: ['ü'] };
    const blobs = new Map<string, unknown>();
    const raw: Buffer[] = [];
    const final = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const body = JSON.stringify(execute('sse-1', '/blob_roundtrip', { value }));
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
          },
        },
        (res) => {
          expect(res.headers['content-type']).toBe('text/event-stream');
          expect(res.headers['stepflow-instance-id']).toEqual(expect.any(String));
          let buffer = '';
          res.on('data', (chunk: Buffer) => {
            raw.push(chunk);
            buffer += chunk.toString('latin1');
            let split: number;
            while ((split = buffer.indexOf('\n\n')) >= 0) {
              const event = buffer.slice(0, split);
              buffer = buffer.slice(split + 2);
              expect(event.startsWith('data: ')).toBe(true);
              expect(event.includes('\n')).toBe(false);
              const message = JSON.parse(event.slice(6)) as {
                id?: string;
                method?: string;
                params: { data?: unknown; blob_id?: string };
              };
              if (message.method === 'blobs/put') {
                const id = 'b'.repeat(64);
                blobs.set(id, message.params.data);
                void httpCall(port, {
                  body: JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { blob_id: id } }),
                  headers: { 'stepflow-instance-id': String(res.headers['stepflow-instance-id']) },
                }).then((r) => expect(r.status).toBe(202));
              } else if (message.method === 'blobs/get') {
                void httpCall(port, {
                  body: JSON.stringify({
                    jsonrpc: '2.0',
                    id: message.id,
                    result: { data: blobs.get(message.params.blob_id!), blob_type: 'data' },
                  }),
                });
              } else if (message.id === 'sse-1') {
                resolve(message as unknown as Record<string, unknown>);
              }
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    const bytes = Buffer.concat(raw);
    expect(bytes.every((b) => b < 0x80)).toBe(true);
    expect(final.result).toEqual({ output: { blob_id: 'b'.repeat(64), value } });
  });

  it('answers unparseable JSON with 400 and a -32700 JSON-RPC body', async () => {
    const reply = await httpCall(port, { body: '{not json' });
    expect(reply.status).toBe(400);
    expect(json(reply)).toMatchObject({ error: { code: -32700 } });
  });

  it('answers a wrong Content-Type with 415 and an unacceptable Accept with 406, both as JSON-RPC bodies', async () => {
    const wrongType = await httpCall(port, {
      body: '{}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(wrongType.status).toBe(415);
    expect(json(wrongType).jsonrpc).toBe('2.0');
    const wrongAccept = await httpCall(port, { body: '{}', headers: { accept: 'text/html' } });
    expect(wrongAccept.status).toBe(406);
    expect(json(wrongAccept).jsonrpc).toBe('2.0');
  });

  it('answers plain JSON (not SSE) for requests that need no callback', async () => {
    const reply = await httpCall(port, {
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'components/list', params: {} }),
    });
    expect(reply.headers['content-type']).toBe('application/json');
    expect(json(reply).id).toBe(9);
  });

  it('rejects foreign Host and Origin headers with 403 before running anything', async () => {
    const countBody = JSON.stringify(execute('c', '/count', null));
    const before = json(await httpCall(port, { body: countBody })).result.output.count as number;
    for (const headers of [
      { host: `evil.test:${port}` },
      { origin: 'http://evil.test' },
      { host: 'user@localhost' },
      { host: `localhost.evil.test:${port}` },
    ] as Record<string, string>[]) {
      const reply = await httpCall(port, { body: countBody, headers });
      expect(reply.status).toBe(403);
      expect(json(reply)).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 } });
    }
    const after = await httpCall(port, { body: countBody, headers: { host: `127.0.0.1:${port}` } });
    expect(after.status).toBe(200);
    expect(json(after).result.output.count).toBe(before + 1);
  });

  it('aborts ctx.signal within 1 s when the client disconnects', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'abort-')), 'aborted');
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/json' },
    });
    req.on('error', () => {});
    req.end(
      JSON.stringify(execute('w', '/wait_for_abort', { file, started_file: `${file}.started` })),
    );
    await vi.waitUntil(() => existsSync(`${file}.started`), { timeout: 5000, interval: 10 });
    const disconnectedAt = Date.now();
    req.destroy();
    const deadline = disconnectedAt + 1000;
    while (!existsSync(file) && Date.now() < deadline + 200)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const abortedAt = Number(readFileSync(file, 'utf8').trim());
    expect(abortedAt - disconnectedAt).toBeLessThanOrEqual(1000);
  });
});

describe('HTTP binding and authentication', () => {
  it('requires a bearer token on POSTs when STEPFLOW_AUTH_TOKEN is set, but not on /health', async () => {
    const { worker, port } = await spawnHttp({ STEPFLOW_AUTH_TOKEN: 'tok-123' });
    try {
      const body = '{"jsonrpc":"2.0","id":1,"method":"components/list","params":{}}';
      expect((await httpCall(port, { body })).status).toBe(401);
      expect(
        (await httpCall(port, { body, headers: { authorization: 'Bearer wrong' } })).status,
      ).toBe(401);
      expect(
        (await httpCall(port, { body, headers: { authorization: 'Bearer tok-123' } })).status,
      ).toBe(200);
      expect((await httpCall(port, { method: 'GET', path: '/health' })).status).toBe(200);
      expect(worker.stderr()).not.toContain('tok-123');
    } finally {
      worker.child.kill('SIGTERM');
    }
  });

  it('refuses a non-loopback bind without --allow-remote (exit 1)', async () => {
    const w = spawnRaw(['--http', '--host', '0.0.0.0'], {}, undefined, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const { code } = await w.exit;
    expect(code).toBe(1);
    expect(w.stderr()).toMatch(/--allow-remote/);
    expect(w.lines).toEqual([]);
  });

  it('binds a non-loopback address with --allow-remote and warns on stderr', async () => {
    const w = spawnRaw(
      ['--http', '--host', '0.0.0.0', '--allow-remote'],
      { STEPFLOW_LOG_LEVEL: 'warn' },
      undefined,
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      await w.waitFor((l) => l.startsWith('{"port":'));
      await vi.waitUntil(() => /non-loopback/.test(w.stderr()), { timeout: 5000 });
    } finally {
      w.child.kill('SIGTERM');
    }
  });

  it('exits 0 on SIGTERM', async () => {
    const { worker } = await spawnHttp();
    worker.child.kill('SIGTERM');
    expect((await worker.exit).code).toBe(0);
  });
});
