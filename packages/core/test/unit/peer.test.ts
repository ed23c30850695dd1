import { describe, expect, it } from 'vitest';
import { encodeResult, JsonRpcPeer, RpcError, type RequestMessage } from '../../src/index.js';

/** Two peers wired back to back through async hops, as over a pipe. */
function pair(onWorkerRequest: (m: RequestMessage, worker: JsonRpcPeer) => Promise<string>) {
  const sentByWorker: string[] = [];
  // eslint-disable-next-line prefer-const
  let runtime: JsonRpcPeer;
  const worker: JsonRpcPeer = new JsonRpcPeer({
    answerInvalid: true,
    send: (frame) => {
      sentByWorker.push(frame);
      setImmediate(() => runtime.receiveLine(frame));
    },
    onRequest: (m) => onWorkerRequest(m, worker),
  });
  runtime = new JsonRpcPeer({
    idPrefix: 'r',
    send: (frame) => setImmediate(() => worker.receiveLine(frame)),
    onRequest: async (m) =>
      encodeResult(m.id, {
        blob_id: `stored:${JSON.stringify((m.params as { data: unknown }).data)}`,
      }),
  });
  return { worker, runtime, sentByWorker };
}

describe('JsonRpcPeer', () => {
  it('completes concurrent requests out of order, each with its own result', async () => {
    const { runtime } = pair(async (m) => {
      const { n } = m.params as { n: number };
      await new Promise((resolve) => setTimeout(resolve, (10 - n) * 5));
      return encodeResult(m.id, { n });
    });
    const order: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, n) =>
        runtime.request('components/execute', { n }).then((r) => {
          order.push(n);
          return r;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 10 }, (_, n) => ({ n })));
    expect(order).not.toEqual([...order].sort((a, b) => a - b));
  });

  it('lets the worker call back into the runtime while a request is in flight, without deadlock', async () => {
    const { runtime } = pair(async (m, worker) => {
      const put = await worker.request('blobs/put', { data: m.params, blob_type: 'data' });
      return encodeResult(m.id, { put });
    });
    const results = await Promise.all(
      [1, 2, 3].map((i) => runtime.request('components/execute', { i })),
    );
    expect(results).toEqual([1, 2, 3].map((i) => ({ put: { blob_id: `stored:{"i":${i}}` } })));
  });

  it('preserves the JSON type of request ids in answers', async () => {
    const { worker, sentByWorker } = pair(async (m) => encodeResult(m.id, 'ok'));
    worker.receiveLine('{"jsonrpc":"2.0","id":5,"method":"components/list","params":{}}');
    worker.receiveLine('{"jsonrpc":"2.0","id":"5","method":"components/list","params":{}}');
    await worker.whenIdle();
    expect(sentByWorker.map((f) => JSON.parse(f).id)).toEqual([5, '5']);
  });

  it('rejects an outgoing request with the error the other side returned', async () => {
    const worker = new JsonRpcPeer({ send: () => {}, onRequest: async () => '' });
    const pending = worker.request('blobs/get', { blob_id: 'x' });
    worker.receiveLine(
      '{"jsonrpc":"2.0","id":"w-1","error":{"code":-32000,"message":"Failed to get blob"}}',
    );
    await expect(pending).rejects.toMatchObject({ code: -32000, message: 'Failed to get blob' });
    await expect(pending).rejects.toBeInstanceOf(RpcError);
  });

  it('times out an unanswered outgoing request', async () => {
    const worker = new JsonRpcPeer({ send: () => {}, onRequest: async () => '' });
    await expect(worker.request('blobs/get', {}, { timeoutMs: 20 })).rejects.toMatchObject({
      code: -32302,
    });
  });

  it('drops a duplicate in-flight id without disturbing the original', async () => {
    const sent: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const worker = new JsonRpcPeer({
      send: (f) => sent.push(f),
      onRequest: async (m) => {
        await gate;
        return encodeResult(m.id, (m.params as { v: number }).v);
      },
    });
    worker.receiveLine('{"jsonrpc":"2.0","id":"dup","method":"x","params":{"v":1}}');
    worker.receiveLine('{"jsonrpc":"2.0","id":"dup","method":"x","params":{"v":2}}');
    release();
    await worker.whenIdle();
    expect(sent.map((f) => JSON.parse(f))).toEqual([{ jsonrpc: '2.0', id: 'dup', result: 1 }]);
  });

  it('answers an invalid frame with -32600 only when its id is valid, never with id null', async () => {
    const sent: string[] = [];
    const worker = new JsonRpcPeer({
      answerInvalid: true,
      send: (f) => sent.push(f),
      onRequest: async () => '',
    });
    for (const line of [
      'not json',
      '[1,2]',
      '{"jsonrpc":"1.0","id":"a","method":"x"}',
      '{"jsonrpc":"2.0","id":null,"method":"x"}',
      '{"jsonrpc":"2.0","id":{"o":1},"method":"x"}',
      '{"jsonrpc":"2.0","id":"b"}',
      '{"jsonrpc":"2.0","method":"unknown/notification"}',
    ]) {
      worker.receiveLine(line);
    }
    expect(sent.map((f) => JSON.parse(f))).toEqual([
      {
        jsonrpc: '2.0',
        id: 'a',
        error: { code: -32600, message: 'Invalid request: jsonrpc must be "2.0"' },
      },
      {
        jsonrpc: '2.0',
        id: 'b',
        error: {
          code: -32600,
          message: 'Invalid request: a response needs exactly one of result and error',
        },
      },
    ]);
  });
});
