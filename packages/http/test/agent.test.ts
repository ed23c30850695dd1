import type { LookupAddress } from 'node:dns';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSafeAgent, type Resolver } from '../src/net/agent.js';
import { BlockedError, UrlPolicy } from '../src/net/policy.js';
import { startServer, type FixtureServer } from './helpers/server.js';

/** A resolver standing in for DNS: answers from a table and records every lookup. */
function tableResolver(table: Record<string, string[]>): Resolver & { lookups: string[] } {
  const lookups: string[] = [];
  const resolver = async (hostname: string): Promise<LookupAddress[]> => {
    lookups.push(hostname);
    const addresses = table[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolver, { lookups });
}

async function outcome(url: string, agent: ReturnType<typeof createSafeAgent>): Promise<unknown> {
  try {
    const res = await request(url, { dispatcher: agent });
    return { status: res.statusCode, body: await res.body.text() };
  } catch (err) {
    return err;
  }
}

describe('the SSRF-checking connector (checks the address actually connected)', () => {
  let server: FixtureServer;
  beforeAll(async () => {
    server = await startServer((_req, res) => res.end('ok'));
  });
  afterAll(() => server.close());

  it('refuses a name that resolves to loopback at connect time (DNS rebinding), with 0 connections', async () => {
    const resolver = tableResolver({ 'rebind.test': ['127.0.0.1'] });
    const agent = createSafeAgent({ policy: new UrlPolicy([]), resolver });
    const before = server.connections;
    const err = await outcome(`http://rebind.test:${server.port}/`, agent);
    expect(err).toBeInstanceOf(BlockedError);
    expect((err as BlockedError).data).toMatchObject({
      reason: 'address_blocked',
      category: 'loopback',
      host: 'rebind.test',
    });
    expect(resolver.lookups).toEqual(['rebind.test']);
    expect(server.connections - before).toBe(0);
    await agent.close();
  });

  it('refuses a name when any of its addresses is blocked (no fallback to the bad one), with 0 connections', async () => {
    const resolver = tableResolver({ 'mixed.test': ['127.0.0.1', '8.8.8.8'] });
    const agent = createSafeAgent({ policy: new UrlPolicy([]), resolver });
    const before = server.connections;
    expect(await outcome(`http://mixed.test:${server.port}/`, agent)).toBeInstanceOf(BlockedError);
    expect(server.connections - before).toBe(0);
    await agent.close();
  });

  it('refuses address literals itself (net.connect would not call lookup for them)', async () => {
    const agent = createSafeAgent({ policy: new UrlPolicy([]), resolver: tableResolver({}) });
    const before = server.connections;
    for (const url of [
      `http://127.0.0.1:${server.port}/`,
      `http://[::ffff:7f00:1]:${server.port}/`,
    ]) {
      expect(await outcome(url, agent)).toBeInstanceOf(BlockedError);
    }
    expect(server.connections - before).toBe(0);
    await agent.close();
  });

  it('connects when the resolved address is allowlisted by CIDR', async () => {
    const agent = createSafeAgent({
      policy: new UrlPolicy(['127.0.0.0/8']),
      resolver: tableResolver({ 'svc.test': ['127.0.0.1'] }),
    });
    expect(await outcome(`http://svc.test:${server.port}/`, agent)).toEqual({
      status: 200,
      body: 'ok',
    });
    await agent.close();
  });

  it('connects when the host name itself is allowlisted, whatever it resolves to', async () => {
    const agent = createSafeAgent({
      policy: new UrlPolicy(['*.internal.test']),
      resolver: tableResolver({ 'api.internal.test': ['127.0.0.1'] }),
    });
    expect(await outcome(`http://api.internal.test:${server.port}/`, agent)).toEqual({
      status: 200,
      body: 'ok',
    });
    await agent.close();
  });

  it('uses the system resolver by default ("localhost" resolves to loopback and is refused)', async () => {
    const agent = createSafeAgent({ policy: new UrlPolicy([]) });
    const before = server.connections;
    const err = await outcome(`http://localhost:${server.port}/`, agent);
    expect(err).toBeInstanceOf(BlockedError);
    expect(server.connections - before).toBe(0);
    await agent.close();
  });
});
