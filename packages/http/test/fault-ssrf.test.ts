/**
 * SSRF deny battery: ≥ 25 hostile URLs (encodings, mapped IPv6, localhost, redirect to
 * loopback from an allowlisted origin) against loopback listeners, through the built binary.
 * Pass: every one answers -32103 and the listeners accept 0 connections.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type FixtureServer } from './helpers/server.js';
import { rpcError, startHttpWorker, type StartedWorker } from './helpers/worker.js';

let v4: FixtureServer; // 127.0.0.1 — must see 0 connections
let v6: FixtureServer; // [::1] — must see 0 connections
let origin: FixtureServer; // 127.0.0.2 — allowlisted, redirects wherever ?to= says
let started: StartedWorker;

beforeAll(async () => {
  v4 = await startServer((_req, res) => res.end('reached v4'), '127.0.0.1');
  v6 = await startServer((_req, res) => res.end('reached v6'), '::1');
  origin = await startServer((req, res) => {
    const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to') ?? '/';
    res.writeHead(Number(new URL(req.url ?? '/', 'http://x').searchParams.get('code') ?? '302'), {
      location: to,
    });
    res.end();
  }, '127.0.0.2');
  started = await startHttpWorker('stdio', 'v0.11', {
    env: { STEPFLOW_HTTP_ALLOW_HOSTS: '127.0.0.2' },
  });
});
afterAll(async () => {
  await started.worker.close();
  await Promise.all([v4.close(), v6.close(), origin.close()]);
});

function hostileUrls(): string[] {
  const p = v4.port;
  const p6 = v6.port;
  return [
    `http://127.0.0.1:${p}/`,
    `http://127.0.0.1:${p}/?x=${'a'.repeat(10)}`,
    `http://localhost:${p}/`,
    `http://LOCALHOST:${p}/`,
    `http://localhost.:${p}/`,
    `http://sub.localhost:${p}/`,
    `http://ip6-localhost:${p6}/`,
    `http://2130706433:${p}/`, // decimal
    `http://0x7f000001:${p}/`, // hex
    `http://0177.0.0.1:${p}/`, // octal
    `http://0x7f.0.0.1:${p}/`, // mixed
    `http://127.1:${p}/`, // short form
    `http://127.0.1:${p}/`,
    `http://%31%32%37.0.0.1:${p}/`, // percent-encoded
    `http://127。0。0。1:${p}/`, // ideographic full stops
    `http://①②⑦.0.0.1:${p}/`, // NFKC digits
    `http://0.0.0.0:${p}/`,
    `http://0:${p}/`,
    `http://[::]:${p6}/`,
    `http://[::1]:${p6}/`,
    `http://[0:0:0:0:0:0:0:1]:${p6}/`,
    `http://[::ffff:127.0.0.1]:${p}/`, // IPv4-mapped
    `http://[::ffff:7f00:1]:${p}/`,
    `http://[0:0:0:0:0:ffff:127.0.0.1]:${p}/`,
    `http://[::127.0.0.1]:${p}/`, // IPv4-compatible
    `http://[64:ff9b::127.0.0.1]:${p}/`, // NAT64
    `http://[2002:7f00:1::]:${p}/`, // 6to4
    `http://user:pass@127.0.0.1:${p}/`,
    `http://allowed.example@127.0.0.1:${p}/`,
    `http://169.254.169.254/latest/meta-data/`,
    `http://[fd00:ec2::254]/latest/meta-data/`,
    `http://metadata.google.internal/computeMetadata/v1/`,
    `http://10.0.0.1:${p}/`,
    `http://172.16.0.1:${p}/`,
    `http://192.168.0.1:${p}/`,
    `http://100.64.0.1:${p}/`,
    `http://224.0.0.1:${p}/`,
    `http://255.255.255.255:${p}/`,
    `http://[fe80::1]:${p6}/`,
    `http://[fc00::1]:${p6}/`,
    `http://[ff02::1]:${p6}/`,
    `file:///etc/passwd`,
    `ftp://127.0.0.1:${p}/`,
    `gopher://127.0.0.1:${p}/_GET`,
    `ws://127.0.0.1:${p}/`,
  ];
}

function redirectUrls(): string[] {
  const to = (target: string, code = 302) =>
    `${origin.url}/?code=${code}&to=${encodeURIComponent(target)}`;
  return [
    to(`http://127.0.0.1:${v4.port}/`),
    to(`http://localhost:${v4.port}/`, 301),
    to(`http://0x7f000001:${v4.port}/`, 307),
    to(`http://[::1]:${v6.port}/`, 308),
    to(`http://[::ffff:127.0.0.1]:${v4.port}/`, 303),
    to(`http://169.254.169.254/latest/meta-data/`),
    to(`file:///etc/passwd`),
  ];
}

describe('SSRF deny battery (built binary, stdio)', () => {
  it('has at least 25 hostile URLs and at least 5 redirects to loopback from an allowlisted origin', () => {
    expect(hostileUrls().length).toBeGreaterThanOrEqual(25);
    expect(redirectUrls().length).toBeGreaterThanOrEqual(5);
  });

  it('answers every hostile URL with -32103 and a machine-readable reason, for both components', async () => {
    const unexpected: string[] = [];
    for (const url of hostileUrls()) {
      for (const component of ['/http_request', '/fetch_json']) {
        const err = await rpcError(
          started.worker.execute(component, { url, retries: 0, timeout: 5 }),
        );
        if (
          err.code !== -32103 ||
          !['scheme_not_allowed', 'address_blocked', 'host_blocked'].includes(
            String(err.data.reason),
          )
        ) {
          unexpected.push(`${component} ${url}: ${err.code} ${err.message}`);
        }
      }
    }
    expect(unexpected).toEqual([]);
  });

  it('answers a redirect to loopback from an allowlisted origin with -32103 at the hop', async () => {
    const before = origin.requests.length;
    for (const url of redirectUrls()) {
      const err = await rpcError(
        started.worker.execute('/http_request', { url, retries: 0, timeout: 5 }),
      );
      expect(err.code, url).toBe(-32103);
      expect(['scheme_not_allowed', 'address_blocked', 'host_blocked']).toContain(err.data.reason);
    }
    // The allowlisted origin itself was reached (once per redirect URL): the block is at the hop.
    expect(origin.requests.length - before).toBe(redirectUrls().length);
  });

  it('lets the loopback listeners accept 0 connections through all of the above', () => {
    expect(v4.connections).toBe(0);
    expect(v6.connections).toBe(0);
  });

  it('keeps serving afterwards', async () => {
    expect(await started.worker.execute('/health_check', {})).toMatchObject({ status: 'healthy' });
  });

  it('control: the same listener counts the connection once 127.0.0.1 is allowlisted', async () => {
    const control = await startHttpWorker('stdio', 'v0.11', {
      env: { STEPFLOW_HTTP_ALLOW_HOSTS: '127.0.0.1' },
    });
    try {
      const counter = await startServer((_req, res) => res.end('reached'), '127.0.0.1');
      expect(
        await control.worker.execute('/http_request', { url: `${counter.url}/` }),
      ).toMatchObject({ data: { text: 'reached' } });
      expect(counter.connections).toBe(1);
      await counter.close();
    } finally {
      await control.worker.close();
    }
  });
});
