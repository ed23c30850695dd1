import { BadRequestError } from '@stepflow-packs/core';
import {
  cidrContains,
  classify,
  parseCidr,
  parseIp,
  type Category,
  type Cidr,
  type ParsedIp,
} from './address.js';

/**
 * The SSRF policy: which URLs and which connected addresses are allowed. Built from server
 * settings only (never from component input).
 *
 * Allowlist entries:
 * - an IP address or CIDR (`127.0.0.1`, `10.0.0.0/8`, `fd00::/8`) exempts connections to those
 *   addresses, whatever host name led to them;
 * - a host name (`api.internal`) or a wildcard (`*.svc.cluster.local`, subdomains only) exempts
 *   requests whose URL names that host, whatever it resolves to.
 */

const HOSTNAME =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** Host names refused without a lookup (they name the machine itself or a metadata service). */
const BLOCKED_NAMES = new Set([
  'localhost',
  'localhost.localdomain',
  'ip6-localhost',
  'ip6-loopback',
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);
const BLOCKED_SUFFIXES = ['.localhost'];

const CATEGORY_TEXT: Record<Category, string> = {
  unspecified: 'unspecified',
  loopback: 'loopback',
  private: 'private-network',
  link_local: 'link-local',
  metadata: 'cloud metadata',
  cgnat: 'carrier-grade NAT',
  multicast: 'multicast',
  broadcast: 'broadcast',
  ula: 'unique-local (ULA)',
  site_local: 'site-local',
  documentation: 'documentation-range',
  reserved: 'reserved',
  teredo: 'Teredo',
  nat64_local: 'local-use NAT64',
};

export interface AllowEntry {
  kind: 'cidr' | 'host' | 'suffix';
  cidr?: Cidr;
  host?: string;
}

/** Parse one allowlist entry; undefined when it is neither an address, a CIDR nor a host name. */
export function parseAllowEntry(raw: string): AllowEntry | undefined {
  const text = raw.trim().toLowerCase();
  const cidr = parseCidr(text);
  if (cidr) return { kind: 'cidr', cidr };
  if (text.startsWith('*.')) {
    const suffix = text.slice(2).replace(/\.$/, '');
    return HOSTNAME.test(suffix) ? { kind: 'suffix', host: suffix } : undefined;
  }
  const host = text.replace(/\.$/, '');
  return HOSTNAME.test(host) && !/^[\d.]+$/.test(host) ? { kind: 'host', host } : undefined;
}

/** Error raised when a URL or connected address is refused (always -32103, zero connections). */
export class BlockedError extends BadRequestError {
  constructor(message: string, data: { reason: string; [key: string]: unknown }) {
    super(message, data);
    this.name = 'BlockedError';
  }
}

const ALLOW_HINT = 'allowlist it on the server with --allow-host or STEPFLOW_HTTP_ALLOW_HOSTS';

/** Host names remembered as passing `checkUrl` (the policy never changes, so this is exact). */
const PASSED_CACHE_SIZE = 256;

export class UrlPolicy {
  readonly #cidrs: Cidr[] = [];
  readonly #hosts = new Set<string>();
  readonly #suffixes: string[] = [];
  readonly #passed = new Set<string>();

  constructor(allowHosts: readonly string[]) {
    for (const raw of allowHosts) {
      const entry = parseAllowEntry(raw);
      if (!entry) throw new TypeError(`invalid allowlist entry ${JSON.stringify(raw)}`);
      if (entry.kind === 'cidr') this.#cidrs.push(entry.cidr!);
      else if (entry.kind === 'host') this.#hosts.add(entry.host!);
      else this.#suffixes.push(entry.host!);
    }
  }

  /** True when the URL's host name itself is allowlisted (its addresses are then not checked). */
  hostAllowed(hostname: string): boolean {
    const host = normalizeHost(hostname);
    return this.#hosts.has(host) || this.#suffixes.some((suffix) => host.endsWith(`.${suffix}`));
  }

  /**
   * Check a URL before any connection: scheme, and the host when it is an address literal or a
   * name that always means this machine. Names are checked again on every resolved address.
   */
  checkUrl(url: URL): void {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new BlockedError(
        `Only http and https URLs are allowed, not ${url.protocol.replace(/:$/, '')}`,
        {
          reason: 'scheme_not_allowed',
          scheme: url.protocol.replace(/:$/, ''),
        },
      );
    }
    const hostname = url.hostname;
    if (this.#passed.has(hostname)) return;
    this.#checkHost(normalizeHost(hostname));
    // Only URL-level checks are remembered: connected addresses are checked on every connect.
    if (this.#passed.size >= PASSED_CACHE_SIZE) this.#passed.clear();
    this.#passed.add(hostname);
  }

  #checkHost(host: string): void {
    if (this.hostAllowed(host)) return;
    const ip = parseIp(host);
    if (ip) {
      this.checkAddress(host, ip, host);
      return;
    }
    if (BLOCKED_NAMES.has(host) || BLOCKED_SUFFIXES.some((suffix) => host.endsWith(suffix))) {
      throw new BlockedError(
        `Requests to host ${host} are blocked: it names this machine or a metadata service (${ALLOW_HINT})`,
        {
          reason: 'host_blocked',
          host,
        },
      );
    }
  }

  /** Check an address about to be connected to; throws BlockedError when it is not allowed. */
  checkAddress(address: string, ip: ParsedIp | undefined = parseIp(address), host?: string): void {
    if (!ip) {
      throw new BlockedError(
        `Refusing to connect to ${host ?? 'the host'}: the resolved address is not an IP address`,
        {
          reason: 'address_blocked',
          category: 'invalid',
        },
      );
    }
    if (this.#cidrs.some((cidr) => cidrContains(cidr, ip))) return;
    const { category, embedded } = classify(ip);
    if (category === undefined) return;
    const via = embedded ? ` (${embedded.form} form of ${embedded.ipv4})` : '';
    const target = host && host !== address ? `${host} (${address})` : address;
    throw new BlockedError(
      `Request to ${target} blocked: ${CATEGORY_TEXT[category]} address${via}; ${ALLOW_HINT}`,
      {
        reason: 'address_blocked',
        category,
        address,
        ...(host && host !== address ? { host } : {}),
        ...(embedded ? { embedded_form: embedded.form, embedded_ipv4: embedded.ipv4 } : {}),
      },
    );
  }
}

/** Lowercase, without IPv6 brackets and without a trailing dot. */
export function normalizeHost(hostname: string): string {
  let host = hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return host.endsWith('.') ? host.slice(0, -1) : host;
}
