import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startServer, type FixtureServer } from './helpers/server.js';
import { rpcError, startHttpWorker, type StartedWorker } from './helpers/worker.js';

/** HTTPS through the SSRF-checking connector: a real TLS server with a throwaway CA-less cert. */
describe('https through the built binary', () => {
  let dir: string;
  let server: Server;
  let url: string;
  let connections = 0;
  const seen: Record<string, string | string[] | undefined>[] = [];
  let started: StartedWorker;
  let plain: FixtureServer;

  beforeAll(async () => {
    plain = await startServer((req, res) => json(res, { plain: true }));
    dir = mkdtempSync(join(tmpdir(), 'http-pack-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore', timeout: 20_000 },
    );
    server = createServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      (req, res) => {
        seen.push(req.headers);
        if (req.url === '/to-http') {
          res.writeHead(302, { location: `${plain.url}/plain` });
          return res.end();
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ tls: true, path: req.url }));
      },
    );
    server.on('connection', (_socket: Socket) => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    started = await startHttpWorker('stdio', 'v0.11', {
      env: { STEPFLOW_HTTP_ALLOW_HOSTS: '127.0.0.1', NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') },
    });
  });
  afterAll(async () => {
    await started?.worker.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await plain.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fetches JSON over TLS with certificate verification', async () => {
    expect(await started.worker.execute('/fetch_json', { url: `${url}/secure` })).toEqual({
      data: { tls: true, path: '/secure' },
      status_code: 200,
    });
  });

  it('drops Authorization when a redirect downgrades https to http (another origin)', async () => {
    const out = await started.worker.execute('/http_request', {
      url: `${url}/to-http`,
      headers: { Authorization: 'Bearer tls-only', 'X-Trace': 't' },
    });
    expect(out).toMatchObject({ success: true, data: { plain: true }, redirects: 1 });
    expect(seen.at(-1)?.authorization).toBe('Bearer tls-only');
    expect(plain.requests.at(-1)?.headers.authorization).toBeUndefined();
    expect(plain.requests.at(-1)?.headers['x-trace']).toBe('t');
  });

  it('refuses https to a non-allowlisted loopback address without connecting', async () => {
    const strict = await startHttpWorker('stdio', 'v0.11', {
      env: { NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') },
    });
    try {
      const before = connections;
      expect(
        await rpcError(strict.worker.execute('/http_request', { url: `${url}/secure` })),
      ).toMatchObject({ code: -32103, data: { reason: 'address_blocked', category: 'loopback' } });
      expect(connections - before).toBe(0);
    } finally {
      await strict.worker.close();
    }
  });
});
