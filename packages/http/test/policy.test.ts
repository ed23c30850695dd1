import { resolveSettings, SettingsError } from '@stepflow-packs/core';
import { describe, expect, it } from 'vitest';
import { BlockedError, parseAllowEntry, UrlPolicy } from '../src/net/policy.js';
import { settings } from '../src/settings.js';

function refusal(policy: UrlPolicy, url: string): BlockedError | undefined {
  try {
    policy.checkUrl(new URL(url));
    return undefined;
  } catch (err) {
    if (err instanceof BlockedError) return err;
    throw err;
  }
}

describe('UrlPolicy.checkUrl', () => {
  const policy = new UrlPolicy([]);

  it.each([
    'file:///etc/passwd',
    'ftp://example.com/',
    'gopher://127.0.0.1:70/',
    'data:text/plain,hi',
    'javascript:alert(1)',
    'ws://example.com/',
  ])('refuses the scheme of %s with reason scheme_not_allowed', (url) => {
    const err = refusal(policy, url);
    expect(err?.code).toBe(-32103);
    expect((err?.data as { reason: string }).reason).toBe('scheme_not_allowed');
  });

  it.each([
    ['http://2130706433/', 'loopback'],
    ['http://0x7f000001/', 'loopback'],
    ['http://0177.0.0.1/', 'loopback'],
    ['http://127.1/', 'loopback'],
    ['http://0x7f.0.0.1/', 'loopback'],
    ['http://%31%32%37.0.0.1/', 'loopback'],
    ['http://127。0。0。1/', 'loopback'],
    ['http://0/', 'unspecified'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[0:0:0:0:0:ffff:7f00:1]/', 'loopback'],
    ['http://169.254.169.254/latest/meta-data/', 'metadata'],
    ['http://evil.com@10.0.0.1/', 'private'],
  ])('refuses the odd spelling %s as %s', (url, category) => {
    const err = refusal(policy, url);
    expect(err?.data).toMatchObject({ reason: 'address_blocked', category });
  });

  it.each([
    'http://localhost/',
    'http://LOCALHOST./',
    'http://app.localhost/',
    'http://metadata.google.internal/',
    'http://ip6-localhost/',
  ])('refuses the host name %s without resolving it', (url) => {
    expect(refusal(policy, url)?.data).toMatchObject({ reason: 'host_blocked' });
  });

  it('passes public addresses and ordinary names (names are checked again at connect time)', () => {
    expect(refusal(policy, 'https://93.184.215.14/')).toBeUndefined();
    expect(refusal(policy, 'https://example.com/')).toBeUndefined();
  });

  it('remembers passing hosts only: a blocked host is refused every time, before and after 300 passing hosts cycle the cache', () => {
    const fresh = new UrlPolicy(['10.0.0.0/8']);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 300; i++)
        expect(refusal(fresh, `http://host-${i}.example.com/`)).toBe(undefined);
      expect(refusal(fresh, 'http://10.1.2.3/')).toBe(undefined);
      for (const url of ['http://127.0.0.1/', 'http://localhost/', 'http://169.254.169.254/'])
        expect(refusal(fresh, url)?.code).toBe(-32103);
      expect(refusal(fresh, 'ftp://host-1.example.com/')?.code).toBe(-32103);
    }
  });

  it('never puts the URL userinfo or query in the refusal', () => {
    const err = refusal(policy, 'http://user:hunter2@127.0.0.1/?token=abc');
    expect(JSON.stringify([err?.message, err?.data])).not.toMatch(/hunter2|token|abc|user/);
  });
});

describe('allowlist', () => {
  it('exempts listed addresses and CIDRs, including their IPv4-mapped forms', () => {
    const policy = new UrlPolicy(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
    expect(refusal(policy, 'http://127.0.0.1:8080/')).toBeUndefined();
    expect(refusal(policy, 'http://[::ffff:127.0.0.1]/')).toBeUndefined();
    expect(refusal(policy, 'http://10.20.30.40/')).toBeUndefined();
    expect(refusal(policy, 'http://[fd00::2]/')).toBeUndefined();
    expect(refusal(policy, 'http://127.0.0.2/')?.data).toMatchObject({ category: 'loopback' });
    expect(refusal(policy, 'http://192.168.0.1/')?.data).toMatchObject({ category: 'private' });
  });

  it('exempts listed host names and *.suffix subdomains by name', () => {
    const policy = new UrlPolicy(['localhost', '*.svc.cluster.local']);
    expect(policy.hostAllowed('localhost')).toBe(true);
    expect(policy.hostAllowed('api.svc.cluster.local')).toBe(true);
    expect(policy.hostAllowed('svc.cluster.local')).toBe(false);
    expect(policy.hostAllowed('evilsvc.cluster.local')).toBe(false);
    expect(refusal(policy, 'http://localhost/')).toBeUndefined();
  });

  it('parses entries and rejects junk', () => {
    expect(parseAllowEntry('10.0.0.0/8')?.kind).toBe('cidr');
    expect(parseAllowEntry('API.Example.com.')).toEqual({ kind: 'host', host: 'api.example.com' });
    expect(parseAllowEntry('*.example.com')).toEqual({ kind: 'suffix', host: 'example.com' });
    for (const junk of ['http://x', '10.0.0.0/40', 'a b', '*', '1.2.3', ''])
      expect(parseAllowEntry(junk)).toBeUndefined();
  });

  it('comes only from server settings: flags and STEPFLOW_HTTP_ALLOW_HOSTS, validated at start-up', () => {
    const fromEnv = resolveSettings(settings, {
      env: { STEPFLOW_HTTP_ALLOW_HOSTS: '127.0.0.1, *.internal' },
    });
    expect(fromEnv.allowHosts).toEqual(['127.0.0.1', '*.internal']);
    const fromFlag = resolveSettings(settings, {
      env: { STEPFLOW_HTTP_ALLOW_HOSTS: '10.0.0.1' },
      flags: { 'allow-host': '::1' },
    });
    expect(fromFlag.allowHosts).toEqual(['::1']);
    expect(() =>
      resolveSettings(settings, { env: { STEPFLOW_HTTP_ALLOW_HOSTS: 'http://bad/' } }),
    ).toThrow(SettingsError);
    expect(resolveSettings(settings, {}).allowHosts).toEqual([]);
  });

  it('has the documented defaults', () => {
    const values = resolveSettings(settings, {});
    expect(values).toMatchObject({
      maxResponseBytes: 10 * 1024 * 1024,
      maxRedirects: 5,
      maxTimeoutSeconds: 300,
      maxRetryAfterSeconds: 60,
    });
    expect(() => resolveSettings(settings, { env: { STEPFLOW_HTTP_MAX_REDIRECTS: '6' } })).toThrow(
      SettingsError,
    );
  });
});
