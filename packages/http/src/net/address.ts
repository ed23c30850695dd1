import { isIP } from 'node:net';

/**
 * IP address parsing and classification for the SSRF policy. Addresses are handled as
 * integers (IPv4: number, IPv6: bigint) so ranges are plain comparisons; IPv6 forms that embed
 * an IPv4 address (mapped, compatible, translated, NAT64, 6to4) are classified by the IPv4
 * address they lead to.
 */

export type Category =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'metadata'
  | 'cgnat'
  | 'multicast'
  | 'broadcast'
  | 'ula'
  | 'site_local'
  | 'documentation'
  | 'reserved'
  | 'teredo'
  | 'nat64_local';

export type ParsedIp = { family: 4; value: number } | { family: 6; value: bigint };

export interface Classification {
  /** Why the address is not public, or undefined when it is a public unicast address. */
  category: Category | undefined;
  /** The IPv4 address an IPv6 form embeds (mapped, NAT64, 6to4…), when it embeds one. */
  embedded?: { form: string; ipv4: string };
}

/** Parse a canonical IPv4 (dotted decimal) or IPv6 literal (brackets and zone id allowed). */
export function parseIp(text: string): ParsedIp | undefined {
  let address = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = address.indexOf('%');
  if (zone >= 0) address = address.slice(0, zone);
  const kind = isIP(address);
  if (kind === 4) return { family: 4, value: parseIpv4(address) };
  if (kind === 6) return { family: 6, value: parseIpv6(address) };
  return undefined;
}

function parseIpv4(address: string): number {
  return address.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function parseIpv6(address: string): bigint {
  let text = address.toLowerCase();
  // A dotted IPv4 tail ("::ffff:1.2.3.4") becomes two hex groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIpv4(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = '', rest] = text.split('::', 2) as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const missing = 8 - headGroups.length - restGroups.length;
  const groups =
    rest === undefined
      ? headGroups
      : [...headGroups, ...Array<string>(missing).fill('0'), ...restGroups];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

interface Range4 {
  base: number;
  bits: number;
  category: Category;
}
interface Range6 {
  base: bigint;
  bits: number;
  category: Category;
}

const r4 = (cidr: string, category: Category): Range4 => {
  const [ip, bits] = cidr.split('/') as [string, string];
  return { base: parseIpv4(ip), bits: Number(bits), category };
};
const r6 = (cidr: string, category: Category): Range6 => {
  const [ip, bits] = cidr.split('/') as [string, string];
  return { base: parseIpv6(ip), bits: Number(bits), category };
};

/** Non-public IPv4 ranges, most specific first (the first match names the category). */
const IPV4_RANGES: Range4[] = [
  r4('169.254.169.254/32', 'metadata'), // AWS, GCP, Azure, OpenStack…
  r4('169.254.170.2/32', 'metadata'), // AWS ECS task metadata
  r4('100.100.100.200/32', 'metadata'), // Alibaba Cloud
  r4('192.0.0.192/32', 'metadata'), // Oracle Cloud
  r4('255.255.255.255/32', 'broadcast'),
  r4('0.0.0.0/8', 'unspecified'),
  r4('10.0.0.0/8', 'private'),
  r4('100.64.0.0/10', 'cgnat'),
  r4('127.0.0.0/8', 'loopback'),
  r4('169.254.0.0/16', 'link_local'),
  r4('172.16.0.0/12', 'private'),
  r4('192.0.0.0/24', 'reserved'),
  r4('192.0.2.0/24', 'documentation'),
  r4('192.88.99.0/24', 'reserved'),
  r4('192.168.0.0/16', 'private'),
  r4('198.18.0.0/15', 'reserved'),
  r4('198.51.100.0/24', 'documentation'),
  r4('203.0.113.0/24', 'documentation'),
  r4('224.0.0.0/4', 'multicast'),
  r4('240.0.0.0/4', 'reserved'),
];

const IPV6_RANGES: Range6[] = [
  r6('::/128', 'unspecified'),
  r6('::1/128', 'loopback'),
  r6('64:ff9b:1::/48', 'nat64_local'),
  r6('100::/64', 'reserved'),
  r6('2001::/32', 'teredo'),
  r6('2001:db8::/32', 'documentation'),
  r6('2001::/23', 'reserved'),
  r6('fd00:ec2::254/128', 'metadata'), // AWS IMDS over IPv6
  r6('fc00::/7', 'ula'),
  r6('fe80::/10', 'link_local'),
  r6('fec0::/10', 'site_local'),
  r6('ff00::/8', 'multicast'),
];

/** IPv6 prefixes whose low or middle bits carry an IPv4 address that the packet reaches. */
const EMBEDDING: { range: Range6; form: string; extract: (v: bigint) => number }[] = [
  {
    range: r6('::ffff:0:0/96', 'reserved'),
    form: 'ipv4-mapped',
    extract: (v) => Number(v & 0xffffffffn),
  },
  {
    range: r6('::ffff:0:0:0/96', 'reserved'),
    form: 'ipv4-translated',
    extract: (v) => Number(v & 0xffffffffn),
  },
  { range: r6('64:ff9b::/96', 'reserved'), form: 'nat64', extract: (v) => Number(v & 0xffffffffn) },
  {
    range: r6('::/96', 'reserved'),
    form: 'ipv4-compatible',
    extract: (v) => Number(v & 0xffffffffn),
  },
  {
    range: r6('2002::/16', 'reserved'),
    form: '6to4',
    extract: (v) => Number((v >> 80n) & 0xffffffffn),
  },
];

function in4(value: number, range: Range4): boolean {
  if (range.bits === 0) return true;
  const shift = 32 - range.bits;
  return value >>> shift === range.base >>> shift;
}

function in6(value: bigint, range: Range6): boolean {
  const shift = BigInt(128 - range.bits);
  return value >> shift === range.base >> shift;
}

function classify4(value: number): Category | undefined {
  return IPV4_RANGES.find((range) => in4(value, range))?.category;
}

const GLOBAL_UNICAST = r6('2000::/3', 'reserved');

/** Classify an address; `category` is undefined only for public unicast addresses. */
export function classify(ip: ParsedIp): Classification {
  if (ip.family === 4) return { category: classify4(ip.value) };
  const direct = IPV6_RANGES.find((range) => in6(ip.value, range));
  if (direct) return { category: direct.category };
  for (const { range, form, extract } of EMBEDDING) {
    if (in6(ip.value, range)) {
      const v4 = extract(ip.value);
      return { category: classify4(v4), embedded: { form, ipv4: formatIpv4(v4) } };
    }
  }
  // Everything outside 2000::/3 is unassigned or special-purpose.
  return { category: in6(ip.value, GLOBAL_UNICAST) ? undefined : 'reserved' };
}

/** An allowlist CIDR (or single address). */
export interface Cidr {
  family: 4 | 6;
  base: bigint;
  bits: number;
}

export function parseCidr(text: string): Cidr | undefined {
  const slash = text.lastIndexOf('/');
  const ipText = slash >= 0 ? text.slice(0, slash) : text;
  const ip = parseIp(ipText);
  if (!ip) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const bitsText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bitsText)) return undefined;
    bits = Number(bitsText);
    if (bits > max) return undefined;
  }
  return { family: ip.family, base: BigInt(ip.value), bits };
}

export function cidrContains(cidr: Cidr, ip: ParsedIp): boolean {
  const value = BigInt(ip.value);
  if (cidr.family === ip.family) {
    const shift = BigInt((cidr.family === 4 ? 32 : 128) - cidr.bits);
    return value >> shift === cidr.base >> shift;
  }
  // An IPv4 entry also covers the IPv6 forms that lead to that IPv4 address.
  if (cidr.family === 4 && ip.family === 6) {
    const embedded = classify(ip).embedded;
    return embedded ? cidrContains(cidr, { family: 4, value: parseIpv4(embedded.ipv4) }) : false;
  }
  return false;
}
