import type { Json, JsonObject } from '../json/value.js';
import type { PrefixRoutes } from './prefix-routes.js';
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

/** Stepflow 0.13 `type: grpc`: a pull worker the orchestrator starts, or a remote one. */
export interface GrpcPluginConfig {
  type: 'grpc';
  queueName: string;
  /** Absent for a remote worker (one that connects by itself). */
  command?: string;
  /** Verbatim (no substitution). */
  args: string[];
  /** Verbatim, added to the inherited environment. */
  env: Record<string, string>;
  queueTimeoutSecs: number;
  executionTimeoutSecs?: number;
}

/**
 * Stepflow 0.13 `type: nats`: tasks published to `<stream>.tasks` of a JetStream WorkQueue
 * stream; claims, heartbeats and completions come back over the orchestrator's gRPC port.
 */
export interface NatsPluginConfig {
  type: 'nats';
  url: string;
  /** The durable consumer name given to workers (`STEPFLOW_NATS_CONSUMER`). */
  consumer: string;
  /** Default stream; a route rule's `stream` param overrides it. */
  stream?: string;
  /** Absent for external workers (started by someone else). */
  command?: string;
  args: string[];
  env: Record<string, string>;
  queueTimeoutSecs: number;
  executionTimeoutSecs?: number;
}

/** Parsed so that the error can name the plugin; not supported by this runner. */
export interface UnsupportedPluginConfig {
  type: 'mcp';
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
  | { type: 'builtin' }
  | StepflowPluginConfig
  | MockPluginConfig
  | GrpcPluginConfig
  | NatsPluginConfig
  | UnsupportedPluginConfig;

/** Which config format a file is: v0.8/v0.11 (`type: stepflow`, matchit routes) or 0.13. */
export type ConfigGeneration = 'legacy' | 'v0.13';

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
  /** `v0.13` for grpc/nats plugins, one-segment route prefixes, string error codes. */
  generation: ConfigGeneration;
  plugins: Map<string, PluginConfig>;
  /** v0.8/v0.11 route patterns (empty for a 0.13 config). */
  routes: RouteTable;
  /** 0.13 one-segment prefixes (empty for a v0.8/v0.11 config). */
  prefixRoutes: PrefixRoutes;
  blobApi: BlobApiConfig;
  retry: RetryConfig;
  /** Whether `retry` was given explicitly (v0.8 has no retry configuration). */
  retryConfigured: boolean;
  warnings: string[];
  /**
   * The config as written (after the inline-env merge of a 0.13 test config): what a real
   * `stepflow-server` is given by the server engine.
   */
  document: JsonObject;
}

export const DEFAULT_RETRY: RetryConfig = {
  transportMaxRetries: 3,
  backoff: { type: 'fibonacci', minDelayMs: 1000, maxDelayMs: 10_000 },
};
