import { describe, expect, it } from 'vitest';
import { cidrContains, classify, parseCidr, parseIp } from '../src/net/address.js';

const category = (ip: string) => classify(parseIp(ip)!).category;

describe('classify', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['192.0.0.192', 'metadata'],
    ['169.254.1.1', 'link_local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fc00::1', 'ula'],
    ['fd00::2', 'ula'],
    ['fd00:ec2::254', 'metadata'],
    ['fe80::1', 'link_local'],
    ['febf::1', 'link_local'],
    ['fec0::1', 'site_local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
    ['64:ff9b:1::1', 'nat64_local'],
    ['100::1', 'reserved'],
    ['4000::1', 'reserved'],
  ])('puts %s in the %s category', (ip, expected) => {
    expect(category(ip)).toBe(expected);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '169.255.0.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
  ])('treats %s as public', (ip) => {
    expect(category(ip)).toBeUndefined();
  });

  it.each([
    ['::ffff:127.0.0.1', 'ipv4-mapped', 'loopback'],
    ['::ffff:7f00:1', 'ipv4-mapped', 'loopback'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'ipv4-mapped', 'metadata'],
    ['::ffff:0:10.0.0.1', 'ipv4-translated', 'private'],
    ['64:ff9b::127.0.0.1', 'nat64', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'nat64', 'metadata'],
    ['::127.0.0.1', 'ipv4-compatible', 'loopback'],
    ['::c0a8:101', 'ipv4-compatible', 'private'],
    ['2002:7f00:1::', '6to4', 'loopback'],
    ['2002:a9fe:a9fe::1', '6to4', 'metadata'],
  ])('classifies %s by its embedded IPv4 address (%s → %s)', (ip, form, expected) => {
    const result = classify(parseIp(ip)!);
    expect(result.embedded?.form).toBe(form);
    expect(result.category).toBe(expected);
  });

  it('lets IPv4-mapped and 6to4 forms of public addresses through', () => {
    expect(category('::ffff:8.8.8.8')).toBeUndefined();
    expect(category('2002:808:808::1')).toBeUndefined();
  });
});

describe('parseIp', () => {
  it('accepts bracketed IPv6 and strips zone ids', () => {
    expect(parseIp('[::1]')).toEqual({ family: 6, value: 1n });
    expect(parseIp('fe80::1%eth0')?.family).toBe(6);
  });

  it('rejects non-canonical IPv4 spellings and host names (the URL parser canonicalises them first)', () => {
    for (const text of [
      '0x7f.0.0.1',
      '0177.0.0.1',
      '127.1',
      '2130706433',
      'localhost',
      '1.2.3.4.5',
      '',
    ]) {
      expect(parseIp(text)).toBeUndefined();
    }
  });
});

describe('CIDRs', () => {
  it('match addresses of their family and IPv6 forms of IPv4 ones', () => {
    const net = parseCidr('10.0.0.0/8')!;
    expect(cidrContains(net, parseIp('10.200.3.4')!)).toBe(true);
    expect(cidrContains(net, parseIp('11.0.0.1')!)).toBe(false);
    expect(cidrContains(net, parseIp('::ffff:10.0.0.1')!)).toBe(true);
    expect(cidrContains(parseCidr('fd00::/8')!, parseIp('fd12::1')!)).toBe(true);
    expect(cidrContains(parseCidr('127.0.0.1')!, parseIp('127.0.0.2')!)).toBe(false);
    expect(cidrContains(parseCidr('0.0.0.0/0')!, parseIp('8.8.8.8')!)).toBe(true);
  });

  it('rejects malformed prefixes', () => {
    for (const text of ['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/x', 'example.com/8'])
      expect(parseCidr(text)).toBeUndefined();
  });
});
