import { BadRequestError } from '@stepflow-packs/core';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Control characters other than horizontal tab: CR, LF and NUL among them.
// eslint-disable-next-line no-control-regex
const BAD_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** Headers a step may not set: hop-by-hop (RFC 9110 §7.6.1) and framing the client owns. */
export const FORBIDDEN_REQUEST_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
]);

/** Dropped on a redirect to another origin, plus the server's configured sensitive headers. */
export const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

/** Response headers never put in outputs: session secrets, and hop-by-hop connection details. */
const OMITTED_RESPONSE_HEADERS = new Set([
  'set-cookie',
  'set-cookie2',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'proxy-connection',
]);

function shown(name: string): string {
  return JSON.stringify(name.length > 64 ? `${name.slice(0, 63)}…` : name);
}

/**
 * Validate a step's request headers and return them with lowercase names. Values are never
 * echoed in errors (they may be credentials); names are.
 */
export function checkRequestHeaders(
  headers: Record<string, string> | undefined,
): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (!headers) return out;
  let position = 0;
  for (const [rawName, value] of Object.entries(headers)) {
    position++;
    if (!TOKEN.test(rawName)) {
      // An invalid name is hostile or broken input: describe it by position, never echo it.
      throw new BadRequestError(
        `Header name number ${position} is not a valid HTTP token (letters, digits and !#$%&'*+.^_\`|~-)`,
        {
          reason: 'invalid_header_name',
          field: 'headers',
          index: position - 1,
        },
      );
    }
    const name = rawName.toLowerCase();
    if (BAD_VALUE.test(value)) {
      throw new BadRequestError(
        `Header ${shown(rawName)} contains a control character (CR, LF, NUL or similar)`,
        {
          reason: 'invalid_header_value',
          field: `headers.${rawName}`,
        },
      );
    }
    if (FORBIDDEN_REQUEST_HEADERS.has(name)) {
      throw new BadRequestError(
        `Header ${shown(rawName)} may not be set by a step (hop-by-hop or managed by the client)`,
        {
          reason: 'forbidden_header',
          field: `headers.${rawName}`,
        },
      );
    }
    out[name] = name in out ? `${out[name]}, ${value}` : value;
  }
  return out;
}

/** Response headers as a plain object with lowercase names; cookies and hop-by-hop headers removed. */
export function publicResponseHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    const key = name.toLowerCase();
    if (value === undefined || OMITTED_RESPONSE_HEADERS.has(key) || key === '__proto__') continue;
    out[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
