import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryBlobStore, serveBlobApi } from '../../src/client/index.js';
import { byId, execute, httpCall, spawnHttp, spawnRaw, type RawWorker } from '../helpers/raw.js';

/**
 * The test plays the runtime and never answers the worker's blob callback: the execute must end
 * with a retryable component error (-32102), never a transport code (-32300…-32399), which a
 * runtime reads as a crashed worker and restarts it.
 */
const workers: RawWorker[] = [];
afterAll(() => {
  for (const w of workers) w.child.kill('SIGKILL');
});

interface ErrorFrame {
  id: unknown;
  error: { code: number; message: string; data: { retryable?: boolean; reason?: string } };
}

function expectComponentTimeout(frame: ErrorFrame, method: string): void {
  expect(frame.error.code).toBe(-32102);
  expect(frame.error.data).toMatchObject({ retryable: true, reason: 'blob_callback_timeout' });
  expect(frame.error.message).toContain(method);
}

/** POST one execute and collect its SSE events until the answer to `id` arrives. */
function executeOverSse(
  port: number,
  frame: ReturnType<typeof execute>,
): Promise<{ events: { id?: unknown; method?: string }[]; final: ErrorFrame }> {
  return new Promise((resolve, reject) => {
    const events: { id?: unknown; method?: string }[] = [];
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
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let split: number;
          while ((split = buffer.indexOf('\n\n')) >= 0) {
            const message = JSON.parse(buffer.slice(6, split)) as { id?: unknown; method?: string };
            buffer = buffer.slice(split + 2);
            events.push(message);
            if (message.id === frame.id && !message.method) {
              resolve({ events, final: message as unknown as ErrorFrame });
            }
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(frame));
  });
}

describe('a blob callback the runtime never answers', () => {
  it.each([
    ['blobs/put', '/blob_roundtrip', { value: { n: 1 } }, ['--blob-timeout-ms', '400'], {}],
    [
      'blobs/get',
      '/get_blob',
      { blob_id: 'c'.repeat(64) },
      [],
      { STEPFLOW_BLOB_TIMEOUT_MS: '400' },
    ],
  ] as const)(
    'v0.8 stdio: %s ends the execute with -32102 blob_callback_timeout after the 400 ms setting (≤ 2 s), and the worker keeps serving',
    async (method, component, input, args, env) => {
      const w = spawnRaw(['--stdio', ...args], { ...env });
      workers.push(w);
      const started = Date.now();
      w.send(execute('x-1', component, input));
      const callback = JSON.parse(await w.waitFor((l) => l.includes('"method"'))) as {
        method: string;
      };
      expect(callback.method).toBe(method);
      const answer = JSON.parse(await w.waitFor(byId('x-1'), 5000)) as ErrorFrame;
      const elapsed = Date.now() - started;
      expectComponentTimeout(answer, method);
      expect(elapsed).toBeGreaterThanOrEqual(400);
      expect(elapsed).toBeLessThan(2000);
      w.send(execute('x-2', '/echo', { payload: 'still here' }));
      expect(JSON.parse(await w.waitFor(byId('x-2')))).toMatchObject({
        result: { output: { payload: 'still here' } },
      });
      w.child.stdin!.end();
      expect((await w.exit).code).toBe(0);
    },
  );

  it('v0.8 over HTTP: an unanswered blobs/put in the SSE stream ends with a -32102 blob_callback_timeout event within 2 s', async () => {
    const { worker, port } = await spawnHttp({ STEPFLOW_BLOB_TIMEOUT_MS: '400' });
    workers.push(worker);
    await httpCall(port, {
      body: '{"jsonrpc":"2.0","id":"i","method":"initialize","params":{"runtime_protocol_version":1}}',
    });
    const started = Date.now();
    const { events, final } = await executeOverSse(
      port,
      execute('s-1', '/blob_roundtrip', { value: [1, 2] }),
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(events[0]).toMatchObject({ method: 'blobs/put' });
    expectComponentTimeout(final, 'blobs/put');
    const next = await httpCall(port, {
      body: JSON.stringify(execute('s-2', '/echo', { payload: 1 })),
    });
    expect(JSON.parse(next.body.toString())).toMatchObject({ result: { output: { payload: 1 } } });
  });

  it('v0.11: a Blob HTTP API that accepts the connection but never answers gives -32102 blob_store_timeout after the setting (≤ 2 s)', async () => {
    const silent: Server = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const blobPort = (silent.address() as AddressInfo).port;
    try {
      const { worker, port } = await spawnHttp({}, ['--http', '--blob-timeout-ms', '400']);
      workers.push(worker);
      await httpCall(port, {
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 'i',
          method: 'initialize',
          params: {
            runtimeProtocolVersion: 1,
            capabilities: { blobApiUrl: `http://127.0.0.1:${blobPort}/api/v1/blobs` },
          },
        }),
      });
      const started = Date.now();
      const reply = await httpCall(port, {
        body: JSON.stringify(execute('h-1', '/blob_roundtrip', { value: 1 })),
      });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(JSON.parse(reply.body.toString())).toMatchObject({
        error: { code: -32102, data: { retryable: true, reason: 'blob_store_timeout' } },
      });
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('v0.11 over HTTP: an unanswered runs/submit callback in the SSE stream ends with a retryable -32102, not a transport code', async () => {
    const store = new MemoryBlobStore();
    const blobApi = await serveBlobApi(store);
    try {
      const { worker, port } = await spawnHttp({ STEPFLOW_BLOB_TIMEOUT_MS: '400' });
      workers.push(worker);
      await httpCall(port, {
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 'i',
          method: 'initialize',
          params: { runtimeProtocolVersion: 1, capabilities: { blobApiUrl: blobApi.url } },
        }),
      });
      const started = Date.now();
      const { events, final } = await executeOverSse(
        port,
        execute('r-1', '/sub_run', { flow: { steps: [] }, input: 1 }),
      );
      expect(Date.now() - started).toBeLessThan(2000);
      expect(events[0]).toMatchObject({ method: 'runs/submit' });
      expect(store.size).toBe(1); // the flow, stored through the Blob HTTP API first
      expect(final.error.code).toBe(-32102);
      expect(final.error.data).toMatchObject({ retryable: true, reason: expect.any(String) });
    } finally {
      await blobApi.close();
    }
  });

  it('documents --blob-timeout-ms / STEPFLOW_BLOB_TIMEOUT_MS (default 30000) and refuses a value over 30000 at start-up', async () => {
    const help = spawnRaw(['--help']);
    expect(await help.waitFor((l) => l.includes('STEPFLOW_BLOB_TIMEOUT_MS'))).toMatch(
      /default 30000/,
    );
    expect(await help.waitFor((l) => l.includes('--blob-timeout-ms'))).toBeTruthy();
    const bad = spawnRaw(['--stdio'], { STEPFLOW_BLOB_TIMEOUT_MS: '60000' });
    expect((await bad.exit).code).toBe(1);
    expect(bad.stderr()).toContain('STEPFLOW_BLOB_TIMEOUT_MS');
  });
});
