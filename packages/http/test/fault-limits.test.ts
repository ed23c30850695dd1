/**
 * HTTP pack resource limits, through the built binary (stdio):
 * - gzip bomb (≈10 MB → 10 GiB): error ≤ 2 s, worker RSS growth ≤ 2 × cap + 50 MB;
 * - endless chunked body: error (limit), socket closed;
 * - 1 byte/s trickle and a server that never sends headers: error at timeout + ≤ 500 ms;
 * - in every case the server sees its socket closed ≤ 1 s after the error.
 */
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type FixtureServer } from './helpers/server.js';
import { memoryOf, rpcError, startHttpWorker, type StartedWorker } from './helpers/worker.js';

const CAP = 10 * 1024 * 1024;
const MB = 1024 * 1024;

let started: StartedWorker;
beforeAll(async () => {
  started = await startHttpWorker('stdio', 'v0.11', {
    env: { STEPFLOW_HTTP_ALLOW_HOSTS: '127.0.0.1' },
  });
});
afterAll(() => started.worker.close());

/** Write `next()` chunks with back-pressure until the client goes away. */
function pump(res: ServerResponse, next: () => Buffer, limit = Infinity): void {
  let sent = 0;
  const write = () => {
    while (!res.destroyed && sent < limit) {
      sent++;
      if (!res.write(next())) {
        res.once('drain', write);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  res.on('error', () => {});
  write();
}

/** Time from `errorAt` to the server seeing its last socket close (ms), waiting up to 3 s. */
async function closeDelay(
  server: { closes: number[]; openSockets: number },
  errorAt: number,
): Promise<number> {
  const deadline = performance.now() + 3000;
  while (server.openSockets > 0 && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  if (server.openSockets > 0) return Infinity;
  return Math.max(0, (server.closes.at(-1) ?? Infinity) - errorAt);
}

describe('resource limits (built binary, stdio)', () => {
  let bomb: FixtureServer;
  let endless: FixtureServer;
  let trickle: FixtureServer;
  beforeAll(async () => {
    // One gzip member of 10 MiB of zeros is ≈10 KB; 1024 members in a row inflate to 10 GiB.
    const member = gzipSync(Buffer.alloc(10 * MB), { level: 9 });
    bomb = await startServer((req, res) => {
      if (req.url === '/small') return res.end('{"warm":true}');
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      pump(res, () => member, 1024);
    });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    endless = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' }); // chunked, no length
      pump(res, () => chunk);
    });
    trickle = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.on('error', () => {});
      const timer = setInterval(
        () => (res.destroyed ? clearInterval(timer) : res.write('x')),
        1000,
      );
      res.on('close', () => clearInterval(timer));
    });
  });
  afterAll(async () => {
    await Promise.all([bomb.close(), endless.close(), trickle.close()]);
  });

  it('stops a gzip bomb (≈10 MB → 10 GiB) with -32103 within 2 s and RSS growth ≤ 2 × cap + 50 MB; socket closed ≤ 1 s', async () => {
    const pid = started.worker.pid!;
    await started.worker.execute('/http_request', { url: `${bomb.url}/small` });
    const before = await memoryOf(pid);
    const t0 = performance.now();
    const err = await rpcError(
      started.worker.execute('/http_request', { url: `${bomb.url}/bomb`, retries: 0 }),
    );
    const errorAt = performance.now();
    const after = await memoryOf(pid);
    if (process.env.HTTP_FAULT_REPORT)
      process.stderr.write(
        `bomb: ${Math.round(errorAt - t0)} ms, RSS growth ${((after.peak - before.rss) / MB).toFixed(1)} MB\n`,
      );
    expect(err).toMatchObject({ code: -32103, data: { reason: 'response_too_large', limit: CAP } });
    expect(errorAt - t0).toBeLessThanOrEqual(2000);
    expect(after.peak - before.rss).toBeLessThanOrEqual(2 * CAP + 50 * MB);
    expect(await closeDelay(bomb, errorAt)).toBeLessThanOrEqual(1000);
  });

  it('stops an endless chunked body at the 10 MiB cap with -32103; socket closed ≤ 1 s', async () => {
    const t0 = performance.now();
    const err = await rpcError(
      started.worker.execute('/http_request', { url: `${endless.url}/`, retries: 0 }),
    );
    const errorAt = performance.now();
    expect(err).toMatchObject({ code: -32103, data: { reason: 'response_too_large', limit: CAP } });
    expect(Number(err.data.actual)).toBeGreaterThan(CAP);
    expect(errorAt - t0).toBeLessThanOrEqual(5000);
    expect(await closeDelay(endless, errorAt)).toBeLessThanOrEqual(1000);
  });

  it('ends a 1 byte/s trickle at the 1.5 s deadline + ≤ 500 ms (-32102 timeout); socket closed ≤ 1 s', async () => {
    const t0 = performance.now();
    const err = await rpcError(
      started.worker.execute('/http_request', {
        url: `${trickle.url}/`,
        timeout: 1.5,
        retries: 2,
        raise_on_failure: true,
      }),
    );
    const errorAt = performance.now();
    expect(err).toMatchObject({ code: -32102, data: { reason: 'timeout' } });
    expect(errorAt - t0).toBeGreaterThanOrEqual(1500);
    expect(errorAt - t0).toBeLessThanOrEqual(2000);
    expect(await closeDelay(trickle, errorAt)).toBeLessThanOrEqual(1000);
  });

  describe('a server that accepts and never sends headers', () => {
    let silent: NetServer;
    const sockets = new Set<Socket>();
    const closes: number[] = [];
    const silentSockets = {
      closes,
      get openSockets() {
        return sockets.size;
      },
    };
    let port = 0;
    beforeAll(async () => {
      silent = createNetServer((socket) => {
        sockets.add(socket);
        socket.on('data', () => {}); // read the request, answer nothing
        socket.on('error', () => {});
        socket.on('close', () => {
          sockets.delete(socket);
          closes.push(performance.now());
        });
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      port = (silent.address() as { port: number }).port;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('ends the call at the 1.5 s deadline + ≤ 500 ms, for http_request (data) and fetch_json (-32102); sockets closed ≤ 1 s', async () => {
      let t0 = performance.now();
      const out = (await started.worker.execute('/http_request', {
        url: `http://127.0.0.1:${port}/`,
        timeout: 1.5,
      })) as {
        success: boolean;
        status_code: number;
        error_message: string;
      };
      let errorAt = performance.now();
      expect(out).toMatchObject({ success: false, status_code: 0 });
      expect(out.error_message).toMatch(/deadline/);
      expect(errorAt - t0).toBeGreaterThanOrEqual(1500);
      expect(errorAt - t0).toBeLessThanOrEqual(2000);
      expect(await closeDelay(silentSockets, errorAt)).toBeLessThanOrEqual(1000);

      t0 = performance.now();
      const err = await rpcError(
        started.worker.execute('/fetch_json', { url: `http://127.0.0.1:${port}/`, timeout: 1.5 }),
      );
      errorAt = performance.now();
      expect(err).toMatchObject({ code: -32102, data: { reason: 'timeout' } });
      expect(errorAt - t0).toBeLessThanOrEqual(2000);
      expect(await closeDelay(silentSockets, errorAt)).toBeLessThanOrEqual(1000);
    });
  });

  it('keeps serving after all of the above', async () => {
    expect(
      await started.worker.execute('/http_request', { url: `${bomb.url}/small` }),
    ).toMatchObject({ success: true, data: { text: '{"warm":true}' } });
  });
});
