import { z } from 'zod';
import { lazyFieldsOf } from './lazy-json.js';
import type { Logger } from './logger.js';
import type { Dialect, JsonValue, Observability } from './protocol.js';
import type { GetRunOptions, SubRunRequest, SubRunResult } from './runs.js';
import type { SettingsDefinition, SettingsOf } from './settings.js';

export type BlobType = 'data' | 'flow';

/** What a component's `execute` receives besides its input. */
export interface ComponentContext<Config = Record<string, unknown>> {
  /** Component name as registered (without the leading `/`). */
  readonly component: string;
  /** 1-based attempt number sent by the runtime (monotonic in v0.11). */
  readonly attempt: number;
  readonly observability: Observability;
  /** Aborted when the client disconnects or the server shuts down. */
  readonly signal: AbortSignal;
  /** Logger bound to component and attempt; writes to stderr. */
  readonly log: Logger;
  /** The pack's validated server-side settings. */
  readonly config: Config;
  /** Wire generation of the runtime that sent this request. */
  readonly dialect: Dialect;
  /** Identifier of this server process (stable for its lifetime). */
  readonly instanceId: string;
  /** The pack serving the request. */
  readonly pack: { readonly name: string; readonly version: string };
  /** Store JSON in the runtime's blob store; returns its id. */
  putBlob(data: JsonValue, type?: BlobType): Promise<string>;
  /** Read a blob's JSON; throws BlobNotFoundError for an unknown id. */
  getBlob(id: string): Promise<JsonValue>;
  /** Store raw bytes as a binary blob (v0.13 BlobService); returns its id. */
  putBlobBytes(bytes: Uint8Array): Promise<string>;
  /** Read a binary blob's bytes (v0.13 BlobService). */
  getBlobBytes(id: string): Promise<Uint8Array>;
  /** Captures of the route pattern that reached this component (v0.13 `path_params`). */
  readonly pathParams: Readonly<Record<string, string>>;
  /**
   * Tell the orchestrator how far the work is (0…1) and what it is doing. Rides on the v0.13
   * heartbeats; a no-op on the JSON-RPC generations, which have no such channel.
   */
  reportProgress(progress?: number, message?: string): void;
  /**
   * Run a flow through the orchestrator and wait for its result: v0.13 `SubmitRun`, v0.11
   * `runs/submit`, v0.8 `flows/evaluate`. A run still going when the wait ends is `running`.
   */
  submitRun(request: SubRunRequest): Promise<SubRunResult>;
  /** Read a run again (v0.13 `GetRun`, v0.11 `runs/get`), waiting for it by default. */
  getRun(runId: string, options?: GetRunOptions): Promise<SubRunResult>;
}

export interface ComponentDefinition<
  I extends z.ZodType,
  O extends z.ZodType,
  S extends SettingsDefinition = Record<string, never>,
> {
  /** snake_case name; served as `/<name>`. */
  name: string;
  description: string;
  input: I;
  output: O;
  /** The pack settings this component reads through `ctx.config` (for typing). */
  settings?: S;
  /** True when running it twice with the same input has the same effect as once. */
  idempotent?: boolean;
  /**
   * How to move this component's large inputs or outputs through blobs instead (for example
   * "set to_blob: true"). Shown when a message exceeds the orchestrator's gRPC size limit.
   */
  blobAlternative?: string;
  /**
   * Top-level input fields that may carry a blob reference `{"$blob": "<id>"}` instead of their
   * value: the worker reads the blob and validates its content as the field. The way to hand a
   * component more than fits in one orchestrator message.
   */
  blobInputs?: readonly string[];
  execute(
    input: z.output<I>,
    ctx: ComponentContext<SettingsOf<S>>,
  ): Promise<z.input<O>> | z.input<O>;
}

export interface Component {
  readonly name: string;
  readonly description: string;
  readonly input: z.ZodType;
  readonly output: z.ZodType;
  readonly idempotent: boolean;
  /** How large inputs/outputs can go through blobs instead (see ComponentDefinition). */
  readonly blobAlternative?: string;
  /** Input fields that accept a blob reference (see ComponentDefinition). */
  readonly blobInputs: readonly string[];
  /** Input fields declared with `lazyArray()`: large arrays there reach the component unparsed. */
  readonly lazyFields: ReadonlySet<string>;
  /** JSON Schema (draft 2020-12) of the accepted input, computed once. */
  readonly inputJsonSchema: Record<string, unknown>;
  /** JSON Schema (draft 2020-12) of the produced output, computed once. */
  readonly outputJsonSchema: Record<string, unknown>;
  execute(input: unknown, ctx: ComponentContext<never>): Promise<unknown> | unknown;
}

const NAME = /^[a-z][a-z0-9_]*(\/[a-z][a-z0-9_]*)*$/;

export function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
}

export function defineComponent<
  I extends z.ZodType,
  O extends z.ZodType,
  S extends SettingsDefinition = Record<string, never>,
>(definition: ComponentDefinition<I, O, S>): Component {
  if (!NAME.test(definition.name)) {
    throw new TypeError(
      `component name "${definition.name}" must be snake_case (segments may be joined by "/")`,
    );
  }
  let inputSchema: Record<string, unknown> | undefined;
  let outputSchema: Record<string, unknown> | undefined;
  return {
    name: definition.name,
    description: definition.description,
    input: definition.input,
    output: definition.output,
    idempotent: definition.idempotent ?? true,
    ...(definition.blobAlternative ? { blobAlternative: definition.blobAlternative } : {}),
    lazyFields: lazyFieldsOf(definition.input),
    blobInputs: [...(definition.blobInputs ?? [])],
    get inputJsonSchema() {
      return (inputSchema ??= withBlobReferences(
        toJsonSchema(definition.input, 'input'),
        definition.blobInputs ?? [],
      ));
    },
    get outputJsonSchema() {
      return (outputSchema ??= toJsonSchema(definition.output, 'output'));
    },
    execute: definition.execute as Component['execute'],
  };
}

/** JSON Schema of `{"$blob": "<id>"}`, the reference a `blobInputs` field accepts. */
export const BLOB_REFERENCE_SCHEMA: Record<string, unknown> = {
  type: 'object',
  description: "A blob reference: the field's value, stored in the blob store",
  properties: {
    $blob: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'The blob id' },
    blobType: { type: 'string' },
    size: { type: 'integer' },
  },
  required: ['$blob'],
};

function withBlobReferences(
  schema: Record<string, unknown>,
  fields: readonly string[],
): Record<string, unknown> {
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (!properties) return schema;
  for (const field of fields) {
    const original = properties[field];
    if (original) properties[field] = { anyOf: [original, BLOB_REFERENCE_SCHEMA] };
  }
  return schema;
}

export interface PackDefinition<S extends SettingsDefinition = Record<string, never>> {
  /** Short name: folder, route prefix and binary suffix (`stepflow-pack-<name>`). */
  name: string;
  version: string;
  description?: string;
  settings?: S;
  components: readonly Component[];
  /** Release resources (pools, agents) when the server stops; awaited before exit. */
  close?: () => Promise<void> | void;
}

export interface Pack<S extends SettingsDefinition = SettingsDefinition> {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly settings: S;
  readonly components: ReadonlyMap<string, Component>;
  readonly close?: () => Promise<void> | void;
}

export function definePack<S extends SettingsDefinition = Record<string, never>>(
  definition: PackDefinition<S>,
): Pack<S> {
  const components = new Map<string, Component>();
  for (const component of [...definition.components, healthCheck]) {
    if (components.has(component.name)) {
      throw new TypeError(`pack "${definition.name}" defines component "${component.name}" twice`);
    }
    components.set(component.name, component);
  }
  return {
    name: definition.name,
    version: definition.version,
    description: definition.description ?? '',
    settings: (definition.settings ?? {}) as S,
    components,
    ...(definition.close ? { close: definition.close } : {}),
  };
}

const startedAt = Date.now();

/** Served by every pack: a liveness probe usable as a workflow step. */
export const healthCheck = defineComponent({
  name: 'health_check',
  description: 'Report that this component server is alive, with its identity and uptime.',
  input: z
    .preprocess((value) => value ?? {}, z.strictObject({}))
    .describe('No input (null or {}).'),
  output: z.object({
    status: z.literal('healthy'),
    server_id: z.string().describe('Identifier of this server process'),
    uptime_seconds: z.number().describe('Seconds since the server started'),
    pack: z.string(),
    version: z.string(),
  }),
  execute(_input, ctx) {
    return {
      status: 'healthy' as const,
      server_id: ctx.instanceId,
      uptime_seconds: Math.round((Date.now() - startedAt) / 10) / 100,
      pack: ctx.pack.name,
      version: ctx.pack.version,
    };
  },
});
