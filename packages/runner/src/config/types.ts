import type { Json } from '../json/value.js';
import type { RouteTable } from './routes.js';

export type Backoff =
  | { type: 'fibonacci'; minDelayMs: number; maxDelayMs: number }
  | { type: 'constant'; delayMs: number }
  | { type: 'exponential'; minDelayMs: number; maxDelayMs: number; factor: number };

export interface RetryConfig {
  transportMaxRetries: number;
  backoff: Backoff;
}

export interface HealthCheckConfig {
  path: string;
  timeoutMs: number;
  retryDelayMs: number;
}

export interface StepflowPluginConfig {
  type: 'stepflow';
  /** v0.8 discriminator (`stdio` | `http`); ignored by v0.11. */
  transport?: string;
  command?: string;
  /** Raw (unsubstituted) arguments. */
  args?: string[];
  /** Raw (unsubstituted) environment entries. */
  env?: Record<string, string>;
  url?: string;
  healthCheck?: HealthCheckConfig;
  /** Runner extension: per-request timeout for this worker. */
  requestTimeoutMs?: number;
}

export interface MockBehavior {
  input: Json;
  /** A FlowResult returned as the step result, or an infrastructure error text. */
  behavior: { kind: 'result'; result: Json } | { kind: 'error'; message: string };
}

export interface MockComponentConfig {
  inputSchema: Json;
  outputSchema: Json;
  behaviors: MockBehavior[];
}

export interface MockPluginConfig {
  type: 'mock';
  components: Map<string, MockComponentConfig>;
}

export type PluginConfig =
  { type: 'builtin' } | StepflowPluginConfig | MockPluginConfig | { type: 'mcp' };

export interface BlobApiConfig {
  enabled: boolean;
  url?: string;
  blobThreshold: number;
}

export interface RunnerConfig {
  /** The file it was read from; undefined for inline and default configs. */
  file: string | undefined;
  /** Human description of where the config came from (for messages). */
  source: string;
  workingDirectory: string;
  plugins: Map<string, PluginConfig>;
  routes: RouteTable;
  blobApi: BlobApiConfig;
  retry: RetryConfig;
  /** Whether `retry` was given explicitly (v0.8 has no retry configuration). */
  retryConfigured: boolean;
  warnings: string[];
}

export const DEFAULT_RETRY: RetryConfig = {
  transportMaxRetries: 3,
  backoff: { type: 'fibonacci', minDelayMs: 1000, maxDelayMs: 10_000 },
};
