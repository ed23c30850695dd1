import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { normalizeHost, type UrlPolicy } from './policy.js';

/** Resolve a host name to all its addresses (injectable for tests). */
export type Resolver = (hostname: string, family: 0 | 4 | 6) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname, family) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, family, verbatim: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    );
  });

export interface SafeAgentOptions {
  policy: UrlPolicy;
  resolver?: Resolver;
  /** Max sockets per origin (undefined = unlimited). */
  connections?: number;
  keepAliveTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** undici's own headers/body timeouts, above any per-call deadline. */
  backstopTimeoutMs?: number;
}

/**
 * A `lookup` for net/tls.connect that refuses blocked addresses before any socket is opened.
 * Every address the name resolves to must be allowed, so the address the socket connects to
 * is always one that was checked (DNS-rebinding safe: there is no second resolution).
 */
export function safeLookup(policy: UrlPolicy, resolver: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    const family = (options.family === 4 || options.family === 6 ? options.family : 0) as 0 | 4 | 6;
    resolver(hostname, family).then(
      (addresses) => {
        try {
          if (addresses.length === 0)
            throw Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' });
          if (!policy.hostAllowed(hostname)) {
            for (const { address } of addresses)
              policy.checkAddress(address, undefined, normalizeHost(hostname));
          }
        } catch (err) {
          callback(err as NodeJS.ErrnoException, '', 0);
          return;
        }
        if (options.all) {
          (callback as unknown as (err: null, addresses: LookupAddress[]) => void)(null, addresses);
        } else {
          callback(null, addresses[0]!.address, addresses[0]!.family);
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

/**
 * The shared keep-alive Agent. Its connector checks address literals itself (net.connect does
 * not call `lookup` for them) and resolves names through `safeLookup`.
 */
export function createSafeAgent(options: SafeAgentOptions): Agent {
  const { policy } = options;
  const base = buildConnector({
    lookup: safeLookup(policy, options.resolver ?? systemResolver),
    timeout: options.connectTimeoutMs ?? 10_000,
  });
  const connect: buildConnector.connector = (connectOptions, callback) => {
    const hostname = connectOptions.hostname;
    if (isIP(hostname) !== 0 && !policy.hostAllowed(hostname)) {
      try {
        policy.checkAddress(hostname);
      } catch (err) {
        callback(err as Error, null);
        return;
      }
    }
    base(connectOptions, callback);
  };
  return new Agent({
    connect,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
    ...(options.connections ? { connections: options.connections } : {}),
    // Deadlines are enforced per call with an AbortSignal; these are only a backstop.
    headersTimeout: options.backstopTimeoutMs ?? 600_000,
    bodyTimeout: options.backstopTimeoutMs ?? 600_000,
  });
}
