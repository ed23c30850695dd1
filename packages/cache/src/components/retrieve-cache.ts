import { BlobNotFoundError, defineComponent, RpcError, z } from '@stepflow-packs/core';
import { readEntry } from '../entry.js';

function isNotFound(err: unknown): boolean {
  if (err instanceof BlobNotFoundError) return true;
  const data = err instanceof RpcError ? err.data : undefined;
  return (
    typeof data === 'object' &&
    data !== null &&
    (data as { reason?: unknown }).reason === 'blob_not_found'
  );
}

/**
 * The `retrieve_cache` contract from Stepflow's documentation. Expiry is decided by the
 * wall-clock `expires_at` stored in the entry (no timers), so any TTL works across restarts.
 */
export const retrieveCache = defineComponent({
  name: 'retrieve_cache',
  description:
    'Read a cache entry stored by cache_data: found with its data, found but expired (data null), or not found.',
  input: z.strictObject({
    blob_id: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'expected a blob id (64 lowercase hex characters)')
      .describe('The blob_id returned by cache_data'),
  }),
  output: z.object({
    found: z.boolean().describe('The blob exists'),
    data: z.unknown().describe('The cached object; null when not found or expired'),
    is_expired: z.boolean().describe('The entry exists but its expires_at has passed'),
    cached_at: z.string().nullable().describe('When the entry was stored (null when not found)'),
    expires_at: z.string().nullable().describe('When the entry expires (null when not found)'),
    cache_key: z.string().nullable().describe('The key given to cache_data (null when not found)'),
  }),
  async execute({ blob_id }, ctx) {
    let blob: unknown;
    try {
      blob = await ctx.getBlob(blob_id);
    } catch (err) {
      if (isNotFound(err)) {
        return {
          found: false,
          data: null,
          is_expired: false,
          cached_at: null,
          expires_at: null,
          cache_key: null,
        };
      }
      throw err;
    }
    const { entry, expiresAt } = readEntry(blob, blob_id);
    const isExpired = Date.now() > expiresAt;
    return {
      found: true,
      data: isExpired ? null : entry.data,
      is_expired: isExpired,
      cached_at: entry.cached_at,
      expires_at: entry.expires_at,
      cache_key: entry.cache_key,
    };
  },
});
