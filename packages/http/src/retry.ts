/** Retry policy: which failures are retried, how long to wait, and Retry-After. */

export const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Statuses worth another attempt. */
export const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/** Failures before the request could reach the server: safe to retry for any method. */
const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** Failures after the request may have been sent: retried for idempotent methods only. */
const TRANSIENT_ERRORS = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

export function isConnectError(code: string | undefined): boolean {
  return code !== undefined && CONNECT_ERRORS.has(code);
}

export function isTransientError(code: string | undefined): boolean {
  return code !== undefined && (CONNECT_ERRORS.has(code) || TRANSIENT_ERRORS.has(code));
}

/** Exponential backoff with jitter: a random delay in [d/2, d], d = base·2^(retry-1) capped. */
export function backoffDelay(
  retry: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Retry-After as milliseconds from now (delta-seconds or HTTP-date); undefined when absent or invalid. */
export function parseRetryAfter(
  value: string | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
