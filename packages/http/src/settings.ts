import { defineSettings, fromEnv, z, type SettingsOf } from '@stepflow-packs/core';
import { parseAllowEntry } from './net/policy.js';

const allowList = fromEnv.list(
  z.string().refine((entry) => parseAllowEntry(entry) !== undefined, {
    message: 'each entry must be an IP address, a CIDR (10.0.0.0/8), a host name or *.suffix',
  }),
);

const headerList = fromEnv.list(
  z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be header names'),
);

/** Server-side settings of the HTTP pack (flags and environment only, never component input). */
export const settings = defineSettings({
  allowHosts: {
    schema: allowList,
    env: 'STEPFLOW_HTTP_ALLOW_HOSTS',
    flag: 'allow-host',
    description:
      'Hosts or networks exempt from the SSRF block: IP addresses, CIDRs (10.0.0.0/8, fd00::/8), host names or *.suffix (comma-separated; default none)',
  },
  maxResponseBytes: {
    schema: fromEnv.integer({ default: 10 * 1024 * 1024, min: 1, max: 1024 * 1024 * 1024 }),
    env: 'STEPFLOW_HTTP_MAX_RESPONSE_BYTES',
    flag: 'max-response-bytes',
    description:
      'Largest response body accepted, counted after decompression (default 10485760 = 10 MiB)',
  },
  maxRedirects: {
    schema: fromEnv.integer({ default: 5, min: 0, max: 5 }),
    env: 'STEPFLOW_HTTP_MAX_REDIRECTS',
    flag: 'max-redirects',
    description: 'Redirects followed per request, 0–5 (default 5)',
  },
  maxTimeoutSeconds: {
    schema: fromEnv.integer({ default: 300, min: 1, max: 3600 }),
    env: 'STEPFLOW_HTTP_MAX_TIMEOUT_SECONDS',
    flag: 'max-timeout',
    description: 'Largest per-call deadline a step may ask for with `timeout` (default 300 s)',
  },
  maxRetries: {
    schema: fromEnv.integer({ default: 10, min: 0, max: 100 }),
    env: 'STEPFLOW_HTTP_MAX_RETRIES',
    flag: 'max-retries',
    description: 'Largest `retries` a step may ask for (default 10)',
  },
  retryBaseDelayMs: {
    schema: fromEnv.integer({ default: 200, min: 0, max: 60_000 }),
    env: 'STEPFLOW_HTTP_RETRY_BASE_DELAY_MS',
    flag: 'retry-base-delay-ms',
    description:
      'First retry delay; doubles per retry, each wait randomised between half and all of it (default 200 ms)',
  },
  retryMaxDelayMs: {
    schema: fromEnv.integer({ default: 10_000, min: 0, max: 600_000 }),
    env: 'STEPFLOW_HTTP_RETRY_MAX_DELAY_MS',
    flag: 'retry-max-delay-ms',
    description: 'Longest backoff delay between attempts (default 10000 ms)',
  },
  maxRetryAfterSeconds: {
    schema: fromEnv.integer({ default: 60, min: 0, max: 86_400 }),
    env: 'STEPFLOW_HTTP_MAX_RETRY_AFTER_SECONDS',
    flag: 'max-retry-after',
    description:
      'Longest Retry-After honoured; a longer one (or one past the deadline) ends the retries at once (default 60 s)',
  },
  sensitiveHeaders: {
    schema: headerList,
    env: 'STEPFLOW_HTTP_SENSITIVE_HEADERS',
    flag: 'sensitive-header',
    description:
      'Extra request headers dropped on cross-origin redirects, like Authorization and Cookie (comma-separated, e.g. x-api-key)',
  },
  connectionsPerOrigin: {
    schema: fromEnv.integer({ default: 0, min: 0, max: 10_000 }),
    env: 'STEPFLOW_HTTP_CONNECTIONS_PER_ORIGIN',
    flag: 'connections-per-origin',
    description: 'Keep-alive sockets per origin in the shared pool (default 0 = unlimited)',
  },
  connectTimeoutMs: {
    schema: fromEnv.integer({ default: 10_000, min: 1, max: 120_000 }),
    env: 'STEPFLOW_HTTP_CONNECT_TIMEOUT_MS',
    flag: 'connect-timeout-ms',
    description: 'TCP/TLS connect timeout per attempt, within the call deadline (default 10000 ms)',
  },
  userAgent: {
    schema: fromEnv.string(),
    env: 'STEPFLOW_HTTP_USER_AGENT',
    flag: 'user-agent',
    description: 'User-Agent sent when a step sets none (default stepflow-pack-http/<version>)',
  },
});

export type HttpSettings = SettingsOf<typeof settings>;
