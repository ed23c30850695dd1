import { defineSettings, fromEnv } from '@stepflow-packs/core';

/** Server-side limits of the data pack (environment variables or flags, never component input). */
export const settings = defineSettings({
  maxRecords: {
    schema: fromEnv.integer({ default: 100_000, min: 1, max: 10_000_000 }),
    env: 'STEPFLOW_DATA_MAX_RECORDS',
    flag: 'max-records',
    description:
      'Largest number of records (or CSV rows, or batch items) one call accepts (default 100000).',
  },
  maxDepth: {
    schema: fromEnv.integer({ default: 64, min: 1, max: 1000 }),
    env: 'STEPFLOW_DATA_MAX_DEPTH',
    flag: 'max-depth',
    description: 'Deepest nesting of objects/arrays accepted inside a record (default 64).',
  },
  maxOutputBytes: {
    schema: fromEnv.integer({ default: 32 * 1024 * 1024, min: 1024, max: 1024 * 1024 * 1024 }),
    env: 'STEPFLOW_DATA_MAX_OUTPUT_BYTES',
    flag: 'max-output-bytes',
    description:
      'Largest output (JSON bytes, estimated while it is built) one call may produce (default 32 MiB).',
  },
  maxPatternLength: {
    schema: fromEnv.integer({ default: 1024, min: 1, max: 65_536 }),
    env: 'STEPFLOW_DATA_MAX_PATTERN_LENGTH',
    flag: 'max-pattern-length',
    description:
      'Longest regular expression accepted by the `matches` operator, in characters (default 1024).',
  },
  regexTimeoutMs: {
    schema: fromEnv.integer({ default: 1000, min: 10, max: 60_000 }),
    env: 'STEPFLOW_DATA_REGEX_TIMEOUT_MS',
    flag: 'regex-timeout-ms',
    description:
      'Time budget of the `matches` operator per call; regexes run off the main thread (default 1000).',
  },
});
