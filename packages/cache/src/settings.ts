import { defineSettings, fromEnv } from '@stepflow-packs/core';

/** Server-side limits of the cache pack (environment variables or flags, never component input). */
export const settings = defineSettings({
  maxTtlMinutes: {
    schema: fromEnv.integer({ default: 525_600, min: 1, max: 5_256_000 }),
    env: 'STEPFLOW_CACHE_MAX_TTL_MINUTES',
    flag: 'max-ttl-minutes',
    description: 'Longest ttl_minutes cache_data accepts (default 525600 = 365 days).',
  },
  maxEntryBytes: {
    schema: fromEnv.integer({ default: 16 * 1024 * 1024, min: 1024, max: 1024 * 1024 * 1024 }),
    env: 'STEPFLOW_CACHE_MAX_ENTRY_BYTES',
    flag: 'max-entry-bytes',
    description:
      'Largest cache entry (JSON bytes, data included) cache_data stores (default 16 MiB).',
  },
});
