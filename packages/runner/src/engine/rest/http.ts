/** Minimal JSON-over-HTTP helper for the orchestrator's REST API (global fetch). */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status}: ${body.slice(0, 500)}`);
    this.name = 'RestError';
  }
}

export async function requestJson(
  method: 'GET' | 'POST',
  url: string,
  /** Already serialized JSON (callers use the runner's canonicalJson to keep `1.0` a float). */
  body?: string,
  timeoutMs = 120_000,
): Promise<JsonValue> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (res.status < 200 || res.status >= 300)
    throw new RestError(res.status, text, `${method} ${url}`);
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new RestError(res.status, text, `${method} ${url}: not JSON`);
  }
}

export function isRecord(value: unknown): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
