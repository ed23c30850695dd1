import { BadRequestError, defineComponent, z, type JsonValue } from '@stepflow-packs/core';
import { isObject, type CacheEntry } from '../entry.js';
import { settings } from '../settings.js';

/** The `cache_data` contract from Stepflow's documentation, with TTL and size limits. */
export const cacheData = defineComponent({
  name: 'cache_data',
  description:
    'Store data in the runtime blob store as a cache entry that expires ttl_minutes from now; returns the blob id to read it back with retrieve_cache.',
  settings,
  input: z.strictObject({
    key: z.string().min(1).max(1024).describe('Name of the cached value (stored as cache_key)'),
    // Passed through untouched so keys such as __proto__ are stored like any other.
    data: z
      .custom<Record<string, unknown>>(isObject, { message: 'expected an object' })
      .meta({ type: 'object' })
      .describe('The object to cache'),
    ttl_minutes: z
      .number()
      .positive()
      .default(60)
      .describe(
        'Minutes until the entry expires (> 0; fractions allowed; at most STEPFLOW_CACHE_MAX_TTL_MINUTES)',
      ),
  }),
  output: z.object({
    blob_id: z.string().describe('Id of the stored entry (pass it to retrieve_cache)'),
    cache_key: z.string(),
    expires_at: z.string().describe('ISO 8601 UTC time after which the entry reads as expired'),
  }),
  async execute({ key, data, ttl_minutes }, ctx) {
    if (ttl_minutes > ctx.config.maxTtlMinutes) {
      throw new BadRequestError(
        `ttl_minutes is ${ttl_minutes}; at most ${ctx.config.maxTtlMinutes} is accepted (STEPFLOW_CACHE_MAX_TTL_MINUTES)`,
        {
          reason: 'ttl_too_long',
          field: 'ttl_minutes',
          limit: ctx.config.maxTtlMinutes,
          actual: ttl_minutes,
        },
      );
    }
    const now = Date.now();
    const entry: CacheEntry = {
      data,
      cached_at: new Date(now).toISOString(),
      ttl_minutes,
      expires_at: new Date(now + ttl_minutes * 60_000).toISOString(),
      cache_key: key,
    };
    const size = Buffer.byteLength(JSON.stringify(entry));
    if (size > ctx.config.maxEntryBytes) {
      throw new BadRequestError(
        `The cache entry is ${size} bytes; at most ${ctx.config.maxEntryBytes} are accepted (STEPFLOW_CACHE_MAX_ENTRY_BYTES)`,
        { reason: 'entry_too_large', field: 'data', limit: ctx.config.maxEntryBytes, actual: size },
      );
    }
    const blobId = await ctx.putBlob(entry as unknown as JsonValue);
    return { blob_id: blobId, cache_key: key, expires_at: entry.expires_at };
  },
});
