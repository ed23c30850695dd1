import { BadRequestError } from '@stepflow-packs/core';

/** The blob cache_data stores (field names from Stepflow's documentation). */
export interface CacheEntry {
  data: unknown;
  cached_at: string;
  ttl_minutes: number;
  expires_at: string;
  cache_key: string;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Check that a blob is a cache entry and return its expiry time. Timestamps without an offset
 * are read as local time, like the naive `datetime.now().isoformat()` values of the Python
 * example, so entries written by it are understood too.
 */
export function readEntry(blob: unknown, blobId: string): { entry: CacheEntry; expiresAt: number } {
  const problem = (what: string) =>
    new BadRequestError(`Blob ${blobId} is not a cache entry written by cache_data: ${what}`, {
      reason: 'not_a_cache_entry',
      blob_id: blobId,
    });
  if (!isObject(blob)) throw problem('it is not an object');
  if (!Object.hasOwn(blob, 'data')) throw problem('it has no data member');
  for (const name of ['cached_at', 'expires_at', 'cache_key'] as const) {
    if (typeof blob[name] !== 'string') throw problem(`${name} is missing or not a string`);
  }
  if (typeof blob.ttl_minutes !== 'number') throw problem('ttl_minutes is missing or not a number');
  const expiresAt = Date.parse(blob.expires_at as string);
  if (Number.isNaN(expiresAt)) throw problem('expires_at is not an ISO 8601 date-time');
  return { entry: blob as unknown as CacheEntry, expiresAt };
}
