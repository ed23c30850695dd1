import { defineSettings, fromEnv, z, type SettingsOf } from '@stepflow-packs/core';

const postgresUrl = (value: string) => {
  try {
    const url = new URL(value);
    return url.protocol === 'postgres:' || url.protocol === 'postgresql:';
  } catch {
    return false;
  }
};

/** Server-side configuration of the PostgreSQL pack (never taken from component input). */
export const settings = defineSettings({
  databaseUrl: {
    schema: z
      .string()
      .min(1)
      .refine(postgresUrl, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    env: 'DATABASE_URL',
    flag: 'database-url',
    secret: true,
    description:
      'Default connection (postgres:// URL). When unset, the libpq variables PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE apply.',
  },
  allowConnectionString: {
    schema: fromEnv.boolean(true),
    env: 'STEPFLOW_PG_ALLOW_CONNECTION_STRING',
    flag: 'allow-connection-string',
    description:
      'Accept a per-call connection_string input (docs compatibility); false refuses it with -32103.',
  },
  poolMax: {
    schema: fromEnv.integer({ default: 10, min: 1, max: 1000 }),
    env: 'STEPFLOW_PG_POOL_MAX',
    flag: 'pool-max',
    description: 'Connections per pool (one pool per connection target).',
  },
  maxPools: {
    schema: fromEnv.integer({ default: 8, min: 1, max: 1000 }),
    env: 'STEPFLOW_PG_MAX_POOLS',
    flag: 'max-pools',
    description:
      'Pools kept open at once; the least recently used idle pool is closed beyond this.',
  },
  connectTimeoutMs: {
    schema: fromEnv.integer({ default: 5000, min: 1, max: 600_000 }),
    env: 'STEPFLOW_PG_CONNECT_TIMEOUT_MS',
    flag: 'connect-timeout-ms',
    description:
      'Time to open a connection (and to wait for a free pooled one) before failing with -32102.',
  },
  idleTimeoutMs: {
    schema: fromEnv.integer({ default: 30_000, min: 0, max: 86_400_000 }),
    env: 'STEPFLOW_PG_IDLE_TIMEOUT_MS',
    flag: 'idle-timeout-ms',
    description: 'Idle pooled connections are closed after this long (0 = never).',
  },
  statementTimeoutMs: {
    schema: fromEnv.integer({ default: 300_000, min: 1, max: 86_400_000 }),
    env: 'STEPFLOW_PG_STATEMENT_TIMEOUT_MS',
    flag: 'statement-timeout-ms',
    description:
      'Server-side statement_timeout for bulk_insert, bulk_upsert, copy_out and transaction calls that give no timeout.',
  },
  lockTimeoutMs: {
    schema: fromEnv.integer({ default: 10_000, min: 0, max: 86_400_000 }),
    env: 'STEPFLOW_PG_LOCK_TIMEOUT_MS',
    flag: 'lock-timeout-ms',
    description: 'Server-side lock_timeout of every statement (0 = wait forever).',
  },
  maxRows: {
    schema: fromEnv.integer({ default: 100_000, min: 1, max: 100_000_000 }),
    env: 'STEPFLOW_PG_MAX_ROWS',
    flag: 'max-rows',
    description:
      'Most rows database_query, transaction and copy_out (without a blob) return; more is -32103.',
  },
});

export type PostgresSettings = SettingsOf<typeof settings>;
