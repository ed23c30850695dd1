import { describe, expect, it } from 'vitest';
import { encodeResult, JsonRpcPeer, LineFramer } from '../../src/index.js';
import { startWorker } from '../../src/client/index.js';
import { strictFrameViolation } from '../helpers/protocol-validator.js';
import { byId, cpuSecondsOf, execute, memoryOf, spawnRaw } from '../helpers/raw.js';
import { FIXTURE_BIN } from '../helpers/workers.js';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('stdio fault tests', () => {
  // Timing targets of the first five tests (3 s, 5 s, 100 ms) are measured by
  // bench/faults.mjs; the tests keep generous bounds so a loaded machine does not fail them.
  it('1,000 concurrent executes over one pipe all answer correctly, out of order, within 15 s, ≥ 500 in flight', async () => {
    const worker = await startWorker(
      {
        transport: 'stdio',
        command: process.execPath,
        args: [FIXTURE_BIN],
        env: { PATH: process.env.PATH ?? '' },
      },
      { dialect: 'v0.8' },
    );
    try {
      const completion: number[] = [];
      const started = Date.now();
      const outputs = await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          worker
            .execute('/echo', {
              payload: { i, tag: `req-${i}` },
              delay_ms: Math.floor(Math.random() * 101),
            })
            .then((out) => {
              completion.push(i);
              return out as { payload: { i: number; tag: string }; max_in_flight: number };
            }),
        ),
      );
      const wall = Date.now() - started;
      expect(outputs.map((o) => o.payload)).toEqual(
        Array.from({ length: 1000 }, (_, i) => ({ i, tag: `req-${i}` })),
      );
      expect(completion).not.toEqual([...completion].sort((a, b) => a - b));
      expect(wall).toBeLessThanOrEqual(15_000);
      expect(Math.max(...outputs.map((o) => o.max_in_flight))).toBeGreaterThanOrEqual(500);
    } finally {
      await worker.close();
    }
  });

  it('200 concurrent executes each calling blobs/put then blobs/get, answered out of order with 0–50 ms delays: 200/200 correct, no deadlock, ≤ 15 s', async () => {
    const w = spawnRaw(['--stdio']);
    const store = new Map<string, unknown>();
    const runtime = new JsonRpcPeer({
      idPrefix: 'rt',
      send: (frame) => w.child.stdin!.write(frame + '\n'),
      onRequest: async (m) => {
        await sleep(Math.random() * 50);
        const params = m.params as { data?: unknown; blob_id?: string };
        if (m.method === 'blobs/put') {
          const id = (store.size + 1).toString(16).padStart(64, '0');
          store.set(id, params.data);
          return encodeResult(m.id, { blob_id: id });
        }
        return encodeResult(m.id, { data: store.get(params.blob_id!), blob_type: 'data' });
      },
    });
    const framer = new LineFramer(64 * MiB, {
      line: (l) => runtime.receiveLine(l),
      oversize: () => {},
    });
    w.child.stdout!.removeAllListeners('data');
    w.child.stdout!.on('data', (chunk: Buffer) => framer.push(chunk));
    const started = Date.now();
    const results = (await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        runtime.request(
          'components/execute',
          { component: '/blob_roundtrip', input: { value: { i } }, attempt: 1, observability: {} },
          { timeoutMs: 10_000 },
        ),
      ),
    )) as { output: { value: { i: number } } }[];
    const wall = Date.now() - started;
    expect(results.map((r) => r.output.value.i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(store.size).toBe(200);
    expect(wall).toBeLessThanOrEqual(15_000);
    w.child.stdin!.end();
  });

  it('a 50 MiB input is echoed byte-exact within 20 s with worker RSS growth ≤ 500 MB', async () => {
    const w = spawnRaw(['--stdio']);
    w.send(execute('warm', '/echo', { payload: 'x' }));
    await w.waitFor(byId('warm'));
    const before = memoryOf(w.child.pid!).rss;
    const payload = 'é'.repeat(25 * MiB); // 50 MiB of UTF-8
    const started = Date.now();
    w.send(execute('big', '/echo', { payload }));
    const line = await w.waitFor((l) => l.startsWith('{"jsonrpc":"2.0","id":"big"'), 25_000);
    const wall = Date.now() - started;
    const peak = memoryOf(w.child.pid!).peak;
    expect(JSON.parse(line).result.output.payload === payload).toBe(true);
    expect(wall).toBeLessThanOrEqual(20_000);
    expect(peak - before).toBeLessThanOrEqual(500 * 1e6);
    w.child.stdin!.end();
  });

  it('a frame of limit + 1 bytes is answered -32600 with data.limit within 5 s, the worker lives and answers the next request within 1 s, RSS growth < 2 × limit', async () => {
    const limit = 16 * MiB;
    const w = spawnRaw(['--stdio'], { STEPFLOW_MAX_MESSAGE_BYTES: String(limit) });
    w.send(execute('warm', '/echo', { payload: 'x' }));
    await w.waitFor(byId('warm'));
    const before = memoryOf(w.child.pid!).rss;
    const prefix =
      '{"jsonrpc":"2.0","id":"over","method":"components/execute","params":{"component":"/echo","input":{"payload":"';
    const suffix = '"}}}';
    const frame = prefix + 'z'.repeat(limit + 1 - prefix.length - suffix.length) + suffix;
    expect(Buffer.byteLength(frame)).toBe(limit + 1);
    const sent = Date.now();
    w.send(frame);
    const answer = JSON.parse(await w.waitFor(byId('over'), 5000));
    const answeredAfter = Date.now() - sent;
    expect(answer.error).toMatchObject({ code: -32600, data: { limit } });
    expect(answeredAfter).toBeLessThanOrEqual(5000);
    const nextSent = Date.now();
    w.send(execute('next', '/echo', { payload: 'still alive' }));
    expect(JSON.parse(await w.waitFor(byId('next'))).result.output.payload).toBe('still alive');
    expect(Date.now() - nextSent).toBeLessThanOrEqual(1000);
    expect(memoryOf(w.child.pid!).peak - before).toBeLessThan(2 * limit);
    w.child.stdin!.end();
  });

  it('10,000 malformed lines interleaved with 1,000 valid requests: 1000/1000 answered, 0 invalid stdout frames, 0 id:null, alive, ≤ 15 s', async () => {
    const w = spawnRaw(['--stdio']);
    const junk = [
      'garbage line',
      '{"jsonrpc":"2.0","id":"t-',
      '{"jsonrpc":"2.0","id":{"x":1},"method":"components/list","params":{}}',
      '{"jsonrpc":"2.0","id":null,"method":"components/list","params":{}}',
      '[{"jsonrpc":"2.0","id":1,"method":"components/list"}]',
      '{"jsonrpc":"1.0","id":"bad-version","method":"components/list","params":{}}',
      '{"jsonrpc":"2.0","id":"no-method"}',
      '\r',
      '',
      '{"jsonrpc":"2.0","method":7}',
    ];
    let text = '';
    for (let i = 0; i < 1000; i++) {
      for (let j = 0; j < 10; j++) text += junk[(i + j) % junk.length] + '\n';
      text += JSON.stringify(execute(`v-${i}`, '/echo', { payload: i })) + '\r\n';
    }
    const started = Date.now();
    w.child.stdin!.write(text);
    await w.waitFor(byId('v-999'), 15_000);
    while (
      w.lines.filter((l) => l.includes('"id":"v-')).length < 1000 &&
      Date.now() - started < 15_000
    )
      await sleep(10);
    const wall = Date.now() - started;
    const valid = w.lines
      .map((l) => JSON.parse(l) as { id: string; result?: { output: { payload: number } } })
      .filter((m) => m.id.startsWith('v-'));
    expect(valid).toHaveLength(1000);
    expect(valid.every((m) => m.result!.output.payload === Number(m.id.slice(2)))).toBe(true);
    expect(w.lines.filter((l) => strictFrameViolation(l, 'v0.8') !== null)).toEqual([]);
    expect(w.lines.filter((l) => l.includes('"id":null'))).toEqual([]);
    expect(wall).toBeLessThanOrEqual(15_000);
    expect(w.child.exitCode).toBeNull();
    w.child.stdin!.end();
  });

  it('100 requests with é😀中\\u2028 written one byte per write are all parsed and echoed byte-exact', async () => {
    const w = spawnRaw(['--stdio']);
    const payload = 'é😀中\u2028';
    const bytes = Buffer.from(
      Array.from(
        { length: 100 },
        (_, i) => JSON.stringify(execute(i, '/echo', { payload: `${payload}${i}` })) + '\n',
      ).join(''),
    );
    for (let i = 0; i < bytes.length; i++) {
      if (!w.child.stdin!.write(bytes.subarray(i, i + 1)))
        await new Promise((resolve) => w.child.stdin!.once('drain', resolve));
    }
    await w.waitFor(byId(99));
    while (w.lines.length < 100) await sleep(10);
    const echoed = new Map(
      w.lines
        .map((l) => JSON.parse(l) as { id: number; result: { output: { payload: string } } })
        .map((m) => [m.id, m.result.output.payload]),
    );
    expect(Array.from({ length: 100 }, (_, i) => echoed.get(i))).toEqual(
      Array.from({ length: 100 }, (_, i) => `${payload}${i}`),
    );
    w.child.stdin!.end();
  });

  describe('shutdown', () => {
    it('exits 0 within 2 s on idle stdin EOF', async () => {
      const w = spawnRaw(['--stdio']);
      w.send(execute(1, '/echo', { payload: 1 }));
      await w.waitFor(byId(1));
      const closed = Date.now();
      w.child.stdin!.end();
      const exit = await w.exit;
      expect(exit.code).toBe(0);
      expect(exit.at - closed).toBeLessThanOrEqual(2000);
    });

    it('answers a 3 s job in flight at stdin EOF, then exits 0 within 5 s', async () => {
      const w = spawnRaw(['--stdio']);
      w.send(execute('job', '/echo', { payload: 'done', delay_ms: 3000 }));
      // Frames are read in order: once a later one is answered, the job is in flight.
      w.send(execute('probe', '/echo', { payload: 'probe' }));
      await w.waitFor(byId('probe'));
      const closed = Date.now();
      w.child.stdin!.end();
      const exit = await w.exit;
      expect(exit.code).toBe(0);
      expect(exit.at - closed).toBeLessThanOrEqual(5000);
      expect(JSON.parse(w.lines.find(byId('job'))!).result.output.payload).toBe('done');
    });

    it('exits non-zero within 5 s using < 1 s CPU when the reader closes stdout (EPIPE)', async () => {
      const w = spawnRaw(['--stdio']);
      w.send(execute(1, '/echo', { payload: 1 }));
      await w.waitFor(byId(1));
      w.child.stdout!.destroy();
      const closed = Date.now();
      let cpu = cpuSecondsOf(w.child.pid!);
      const poll = setInterval(() => {
        try {
          cpu = cpuSecondsOf(w.child.pid!);
        } catch {
          /* exited */
        }
      }, 50);
      for (let i = 0; i < 5; i++)
        w.send(execute(`after-${i}`, '/echo', { payload: 'x'.repeat(100_000) }));
      const exit = await w.exit;
      clearInterval(poll);
      expect(exit.code).not.toBe(0);
      expect(exit.code).not.toBeNull();
      expect(exit.at - closed).toBeLessThanOrEqual(5000);
      expect(cpu).toBeLessThan(1);
    });

    it('drains in-flight work on SIGTERM and exits 0 within grace + 1 s', async () => {
      const grace = 2000;
      const w = spawnRaw(['--stdio'], { STEPFLOW_SHUTDOWN_GRACE_MS: String(grace) });
      w.send(execute('ready', '/echo', { payload: 'ready' }));
      await w.waitFor(byId('ready'));
      w.send(execute('job', '/echo', { payload: 'finished', delay_ms: 1000 }));
      w.send(execute('probe', '/echo', { payload: 'probe' }));
      await w.waitFor(byId('probe'));
      const signalled = Date.now();
      w.child.kill('SIGTERM');
      const exit = await w.exit;
      expect(exit.code).toBe(0);
      expect(exit.at - signalled).toBeLessThanOrEqual(grace + 1000);
      expect(JSON.parse(w.lines.find(byId('job'))!).result.output.payload).toBe('finished');
    });
  });
});
