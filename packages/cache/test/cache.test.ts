import { afterEach, describe, expect, it, vi } from 'vitest';
import { cacheKit, failure, MISSING_ID } from './helpers.js';

interface Stored {
  blob_id: string;
  cache_key: string;
  expires_at: string;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

describe('cache_data', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stores {data, cached_at, ttl_minutes, expires_at, cache_key} in the blob store', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2030-01-01T00:00:00.000Z'));
    const kit = cacheKit();
    const out = await kit.execute<Stored>('cache_data', {
      key: 'users',
      data: { n: 1 },
      ttl_minutes: 30,
    });
    expect(out).toEqual({
      blob_id: expect.stringMatching(/^[0-9a-f]{64}$/),
      cache_key: 'users',
      expires_at: '2030-01-01T00:30:00.000Z',
    });
    expect(kit.blobs.lookup(out.blob_id)).toEqual({
      type: 'data',
      data: {
        data: { n: 1 },
        cached_at: '2030-01-01T00:00:00.000Z',
        ttl_minutes: 30,
        expires_at: '2030-01-01T00:30:00.000Z',
        cache_key: 'users',
      },
    });
  });

  it('defaults ttl_minutes to 60', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2030-01-01T00:00:00.000Z'));
    const out = await cacheKit().execute<Stored>('cache_data', { key: 'k', data: {} });
    expect(out.expires_at).toBe('2030-01-01T01:00:00.000Z');
  });

  it('answers -32003 naming ttl_minutes when it is not positive', async () => {
    for (const ttl of [0, -5]) {
      const error = await failure(cacheKit(), 'cache_data', {
        key: 'k',
        data: {},
        ttl_minutes: ttl,
      });
      expect(error.code).toBe(-32003);
      expect(error.message).toMatch(/^input\.ttl_minutes: /);
    }
  });

  it('answers -32103 ttl_too_long above maxTtlMinutes', async () => {
    const error = await failure(cacheKit({ maxTtlMinutes: 100 }), 'cache_data', {
      key: 'k',
      data: {},
      ttl_minutes: 101,
    });
    expect(error).toMatchObject({
      code: -32103,
      data: { reason: 'ttl_too_long', limit: 100, actual: 101 },
    });
  });

  it('answers -32103 entry_too_large above maxEntryBytes', async () => {
    const error = await failure(cacheKit({ maxEntryBytes: 2048 }), 'cache_data', {
      key: 'k',
      data: { s: 'x'.repeat(3000) },
    });
    expect(error).toMatchObject({ code: -32103, data: { reason: 'entry_too_large', limit: 2048 } });
  });

  it('answers -32003 when data is not an object or the key is empty', async () => {
    expect((await failure(cacheKit(), 'cache_data', { key: 'k', data: [1] })).message).toBe(
      'input.data: expected an object',
    );
    expect((await failure(cacheKit(), 'cache_data', { key: '', data: {} })).message).toMatch(
      /^input\.key: /,
    );
  });
});

describe('retrieve_cache', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('returns the data of a fresh entry', async () => {
    const kit = cacheKit();
    const { blob_id } = await kit.execute<Stored>('cache_data', { key: 'k', data: { answer: 42 } });
    const out = await kit.execute('retrieve_cache', { blob_id });
    expect(out).toEqual({
      found: true,
      data: { answer: 42 },
      is_expired: false,
      cached_at: expect.any(String),
      expires_at: expect.any(String),
      cache_key: 'k',
    });
  });

  it('keeps a 30-day entry for 30 days and expires it afterwards, with no timers involved', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = new Date('2030-03-01T12:00:00.000Z').getTime();
    vi.setSystemTime(start);
    const kit = cacheKit();
    const { blob_id, expires_at } = await kit.execute<Stored>('cache_data', {
      key: 'k',
      data: { v: 1 },
      ttl_minutes: 30 * 24 * 60,
    });
    expect(expires_at).toBe('2030-03-31T12:00:00.000Z');

    vi.setSystemTime(start + 30 * DAY - 1);
    expect(await kit.execute('retrieve_cache', { blob_id })).toMatchObject({
      found: true,
      is_expired: false,
      data: { v: 1 },
    });

    vi.setSystemTime(start + 30 * DAY + 1);
    expect(await kit.execute('retrieve_cache', { blob_id })).toMatchObject({
      found: true,
      is_expired: true,
      data: null,
    });
  });

  it('reads an expired entry as found: true, is_expired: true, data: null', async () => {
    const kit = cacheKit();
    const blob_id = kit.blobs.putSync({
      data: { v: 1 },
      cached_at: '2020-01-01T00:00:00.000Z',
      ttl_minutes: 1,
      expires_at: '2020-01-01T00:01:00.000Z',
      cache_key: 'old',
    });
    expect(await kit.execute('retrieve_cache', { blob_id })).toEqual({
      found: true,
      data: null,
      is_expired: true,
      cached_at: '2020-01-01T00:00:00.000Z',
      expires_at: '2020-01-01T00:01:00.000Z',
      cache_key: 'old',
    });
  });

  it('reads entries written by the documentation’s Python example (naive local ISO times)', async () => {
    const kit = cacheKit();
    const blob_id = kit.blobs.putSync({
      data: { v: 'py' },
      cached_at: '2999-01-01T10:00:00.123456',
      ttl_minutes: 60,
      expires_at: '2999-01-01T11:00:00.123456',
      cache_key: 'python',
    });
    expect(await kit.execute('retrieve_cache', { blob_id })).toMatchObject({
      found: true,
      is_expired: false,
      data: { v: 'py' },
    });
  });

  it('answers found: false for a blob id the store does not have', async () => {
    expect(await cacheKit().execute('retrieve_cache', { blob_id: MISSING_ID })).toEqual({
      found: false,
      data: null,
      is_expired: false,
      cached_at: null,
      expires_at: null,
      cache_key: null,
    });
  });

  it.each([
    [{ hello: 'world' }, 'it has no data member'],
    [[1, 2], 'it is not an object'],
    [
      { data: {}, cached_at: 'x', ttl_minutes: 1, expires_at: 'soon', cache_key: 'k' },
      'expires_at is not an ISO 8601 date-time',
    ],
    [
      {
        data: {},
        cached_at: 'x',
        ttl_minutes: '1',
        expires_at: '2030-01-01T00:00:00Z',
        cache_key: 'k',
      },
      'ttl_minutes is missing or not a number',
    ],
  ])('answers -32103 not_a_cache_entry for %j', async (blob, why) => {
    const kit = cacheKit();
    const blob_id = kit.blobs.putSync(blob);
    const error = await failure(kit, 'retrieve_cache', { blob_id });
    expect(error).toMatchObject({
      code: -32103,
      message: `Blob ${blob_id} is not a cache entry written by cache_data: ${why}`,
      data: { reason: 'not_a_cache_entry', blob_id },
    });
  });

  it('answers -32003 for a malformed blob id', async () => {
    const error = await failure(cacheKit(), 'retrieve_cache', { blob_id: 'sha256:abc' });
    expect(error).toMatchObject({
      code: -32003,
      message: 'input.blob_id: expected a blob id (64 lowercase hex characters)',
    });
  });

  it('round-trips __proto__, constructor and prototype keys in cached data', async () => {
    const kit = cacheKit();
    const data = JSON.parse('{"__proto__":{"polluted":1},"constructor":2,"prototype":3}') as Record<
      string,
      unknown
    >;
    const { blob_id } = await kit.execute<Stored>('cache_data', { key: 'k', data });
    const out = await kit.execute<{ data: unknown }>('retrieve_cache', { blob_id });
    expect(JSON.stringify(out.data)).toBe(
      '{"__proto__":{"polluted":1},"constructor":2,"prototype":3}',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
