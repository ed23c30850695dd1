import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../src/blobs.js';
import { serveBlobApi, type BlobApiServer } from '../../src/client/blob-api.js';
import { spawnHttp, type RawWorker } from '../helpers/raw.js';

let worker: RawWorker;
let port: number;
let blobApi: BlobApiServer;
const store = new MemoryBlobStore();

beforeAll(async () => {
  ({ worker, port } = await spawnHttp());
  blobApi = await serveBlobApi(store);
});
afterAll(async () => {
  worker.child.kill('SIGTERM');
  await blobApi.close();
});

interface Reply {
  status: number;
  contentType: string;
  body: string;
}

/** POST one JSON-RPC message on a given agent (one agent = one runtime's connection). */
function post(
  agent: Agent,
  message: unknown,
  onEvent?: (event: Record<string, unknown>) => void,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(message);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/',
        agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (!onEvent) return;
          pending += chunk;
          let split: number;
          while ((split = pending.indexOf('\n\n')) >= 0) {
            onEvent(JSON.parse(pending.slice(6, split)) as Record<string, unknown>);
            pending = pending.slice(split + 2);
          }
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type']),
            body: text,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('HTTP sessions: the dialect belongs to the connection that sent initialize', () => {
  it('serves a v0.11 runtime and a v0.8 runtime on one worker, each with its own blob mechanism', async () => {
    const v011 = new Agent({ keepAlive: true, maxSockets: 1 });
    const v08 = new Agent({ keepAlive: true, maxSockets: 1 });
    const answers = new Agent({ keepAlive: true }); // callback answers arrive on other connections
    try {
      const init11 = await post(v011, {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { runtimeProtocolVersion: 1, capabilities: { blobApiUrl: blobApi.url } },
      });
      expect(init11.status).toBe(200);
      // The v0.8 runtime initializes last: before sessions, every connection then spoke v0.8.
      const init08 = await post(v08, {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { runtime_protocol_version: 1 },
      });
      expect(init08.status).toBe(200);

      const before = store.size;
      const viaApi = await post(v011, {
        jsonrpc: '2.0',
        id: 2,
        method: 'components/execute',
        params: {
          component: '/blob_roundtrip',
          input: { value: { from: 'v0.11' } },
          attempt: 1,
          observability: {},
        },
      });
      expect(viaApi.contentType).toBe('application/json'); // no callbacks: the Blob HTTP API
      expect(JSON.parse(viaApi.body)).toMatchObject({
        result: { output: { value: { from: 'v0.11' } } },
      });
      expect(store.size).toBe(before + 1);

      const viaCallbacks = await post(
        v08,
        {
          jsonrpc: '2.0',
          id: 2,
          method: 'components/execute',
          params: {
            component: '/blob_roundtrip',
            input: { value: { from: 'v0.8' } },
            attempt: 1,
            observability: {},
          },
        },
        (event) => {
          if (event.method === 'blobs/put') {
            void post(answers, {
              jsonrpc: '2.0',
              id: event.id,
              result: { blob_id: 'c'.repeat(64) },
            });
          } else if (event.method === 'blobs/get') {
            void post(answers, {
              jsonrpc: '2.0',
              id: event.id,
              result: { data: { from: 'v0.8' }, blob_type: 'data' },
            });
          }
        },
      );
      expect(viaCallbacks.contentType).toBe('text/event-stream');
      expect(viaCallbacks.body).toContain('"method":"blobs/put"');
      expect(viaCallbacks.body).toContain(
        '"output":{"blob_id":"' + 'c'.repeat(64) + '","value":{"from":"v0.8"}}',
      );
      expect(store.size).toBe(before + 1); // nothing of the v0.8 runtime's went to the v0.11 store
    } finally {
      v011.destroy();
      v08.destroy();
      answers.destroy();
    }
  });

  it('answers 400 to a request with two Host headers', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      socket.write(
        'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n',
      );
    });
    expect(raw.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(raw).toContain('more than one Host header');
  });
});
