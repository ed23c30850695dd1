import { describe, expect, it } from 'vitest';
import { checkRequestHeaders, publicResponseHeaders } from '../src/headers.js';
import { parsePath, selectPath } from '../src/jsonpath.js';
import { backoffDelay, parseRetryAfter } from '../src/retry.js';

function headerRefusal(
  headers: Record<string, string>,
): { code: number; message: string; data: { reason: string } } | undefined {
  try {
    checkRequestHeaders(headers);
    return undefined;
  } catch (err) {
    return err as { code: number; message: string; data: { reason: string } };
  }
}

describe('request headers', () => {
  it.each([
    ['CR', 'a\rb'],
    ['LF', 'a\nSet-Cookie: x=1'],
    ['CRLF', 'v\r\nX-Injected: 1'],
    ['NUL', 'a\u0000b'],
    ['DEL', 'a\u007fb'],
  ])(
    'refuses a value containing %s with -32103 invalid_header_value, without echoing it',
    (_name, value) => {
      const err = headerRefusal({ 'X-Test': value });
      expect(err?.code).toBe(-32103);
      expect(err?.data.reason).toBe('invalid_header_value');
      expect(err?.message).not.toContain(value);
    },
  );

  it.each(['Bad Name', 'X-A\r\nB', 'x:y', ''])('refuses the header name %j', (name) => {
    expect(headerRefusal({ [name]: 'v' })?.data.reason).toBe('invalid_header_name');
  });

  it.each([
    'Connection',
    'keep-alive',
    'Transfer-Encoding',
    'TE',
    'Trailer',
    'Upgrade',
    'Proxy-Authorization',
    'Host',
    'Content-Length',
  ])('refuses the hop-by-hop or client-managed header %s', (name) => {
    expect(headerRefusal({ [name]: 'x' })?.data.reason).toBe('forbidden_header');
  });

  it('lowercases names, keeps tabs and UTF-8 in values, and merges case-duplicates', () => {
    expect(checkRequestHeaders({ 'X-A': 'a\tb', 'x-a': 'c', Accept: 'é' })).toEqual({
      'x-a': 'a\tb, c',
      accept: 'é',
    });
  });

  it('drops Set-Cookie from the response headers put in outputs', () => {
    expect(
      publicResponseHeaders({
        'set-cookie': ['a=1'],
        'content-type': 'text/plain',
        vary: ['a', 'b'],
      }),
    ).toEqual({
      'content-type': 'text/plain',
      vary: 'a, b',
    });
  });
});

describe('retry timing', () => {
  it('doubles the backoff per retry with jitter between half and all of it, capped', () => {
    expect(backoffDelay(1, 200, 10_000, () => 0)).toBe(100);
    expect(backoffDelay(1, 200, 10_000, () => 1)).toBe(200);
    expect(backoffDelay(3, 200, 10_000, () => 1)).toBe(800);
    expect(backoffDelay(20, 200, 10_000, () => 1)).toBe(10_000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3600', now)).toBe(3_600_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:05 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('select paths', () => {
  const doc = { items: [{ name: 'a' }, { name: 'b' }], 'a.b': 1, 'we ird': { x: null } };

  it.each([
    ['$.items[1].name', 'b'],
    ['$["we ird"].x', null],
    ["$['a.b']", 1],
    ['a.b', 1],
    ['$', doc],
    ['', doc],
  ])('selects %s', (path, expected) => {
    expect(selectPath(doc, parsePath(path)!)).toEqual({ found: true, value: expected });
  });

  it('reports a missing segment and rejects unsupported syntax', () => {
    expect(selectPath(doc, parsePath('$.items[5]')!)).toEqual({ found: false, at: 1 });
    expect(selectPath(doc, parsePath('$.items.name')!)).toEqual({ found: false, at: 1 });
    expect(selectPath({}, parsePath('$.constructor')!)).toEqual({ found: false, at: 0 });
    for (const bad of ['$..a', '$.items[*]', '$[-1]', '$.a[', '$x', '$.'])
      expect(parsePath(bad)).toBeUndefined();
  });
});
