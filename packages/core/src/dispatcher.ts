import { randomUUID } from 'node:crypto';
import {
  BlobNotFoundError,
  callbackBlobs,
  httpBlobs,
  unavailableBlobs,
  type BlobAccess,
  type CallRuntime,
} from './blobs.js';
import { BlobCache, cachedBlobs } from './blob-cache.js';
import type { BlobType, Component, ComponentContext, Pack } from './component.js';
import {
  jsonRpcRuns,
  type GetRunOptions,
  type RunAccess,
  type SubRunRequest,
  type SubRunResult,
} from './runs.js';
import { BadRequestError, RpcError, toRpcErrorObject } from './errors.js';
import { encodeError, encodeResult } from './json.js';
import { DeferredJsonArray, parseFrame } from './lazy-json.js';
import { silentLogger, type Logger } from './logger.js';
import {
  ErrorCodes,
  PROTOCOL_VERSION,
  type Dialect,
  type JsonRpcDialect,
  type JsonValue,
  type NotificationMessage,
  type Observability,
  type RequestMessage,
} from './protocol.js';
import type { SettingsDefinition, SettingsOf } from './settings.js';
import { invalidInput } from './validation.js';

/** What the transport offers to one request. */
export interface Session {
  readonly transport: 'stdio' | 'http' | 'grpc' | 'memory';
  /** Aborted when the client goes away or the server shuts down. */
  readonly signal: AbortSignal;
  /** Call the runtime on the request's own channel (v0.8 callbacks); absent when impossible. */
  readonly call?: CallRuntime;
  /** The wire generation, when the transport fixes it (gRPC pull is always v0.13). */
  readonly dialect?: Dialect;
  /** Blob access the transport provides itself (v0.13 BlobService). */
  readonly blobs?: BlobAccess;
  /** Progress the transport can pass on to the orchestrator (v0.13 heartbeats). */
  readonly reportProgress?: (progress: number | undefined, message: string | undefined) => void;
  /** Sub-runs, where the runtime offers them. */
  readonly runs?: RunAccess;
  /**
   * What an `initialize` on this session's connection said (HTTP: one per TCP connection), so
   * that runtimes of different versions can share one worker. Unset: the process-wide state of
   * the most recent `initialize`.
   */
  readonly connection?: ConnectionState;
}

/** The dialect and blob mechanism a runtime announced in `initialize`. */
export interface ConnectionState {
  dialect?: JsonRpcDialect;
  blobApiUrl?: string | undefined;
}

/** What an execute carries besides the component name and its input. */
export interface ExecuteMeta {
  attempt: number;
  observability: Observability;
  /** Captures of the route pattern (v0.13 `path_params`). */
  pathParams?: Readonly<Record<string, string>>;
}

export interface DispatcherOptions<S extends SettingsDefinition> {
  config: SettingsOf<S>;
  log?: Logger;
  /** JSON-RPC dialect assumed until an `initialize` says otherwise. */
  defaultDialect: JsonRpcDialect;
  instanceId?: string;
  /** Timeout for each blob call to the runtime. */
  blobTimeoutMs?: number;
  /** Replace the dialect-chosen blob mechanism (testing kit). */
  blobs?: (session: Session) => BlobAccess;
  /**
   * Blobs read or written by this process, by id (ids are content hashes): default a
   * BlobCache of DEFAULT_BLOB_CACHE_BYTES (32 MiB); `maxBytes` 0 turns it off.
   */
  blobCache?: BlobCache;
}

interface ComponentInfo {
  component: string;
  description: string;
  input_schema: Record<string, unknown>;
  output_schema: Record<string, unknown>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidParams(message: string, field: string): RpcError {
  return new RpcError(ErrorCodes.INVALID_PARAMS, message, { field });
}

/**
 * Serves the component protocol for one pack, independent of the transport: every transport
 * hands it parsed requests and notifications and writes back the frame it returns.
 */
export class Dispatcher<S extends SettingsDefinition = SettingsDefinition> {
  readonly pack: Pack<S>;
  readonly instanceId: string;
  readonly log: Logger;
  readonly blobCache: BlobCache;
  #dialect: JsonRpcDialect;
  #blobApiUrl: string | undefined;
  readonly #options: DispatcherOptions<S>;
  readonly #packInfo: { name: string; version: string };
  /** Input fields some component of the pack takes as a `lazyArray()`. */
  readonly #lazyFields: ReadonlySet<string>;

  constructor(pack: Pack<S>, options: DispatcherOptions<S>) {
    this.pack = pack;
    this.#lazyFields = new Set([...pack.components.values()].flatMap((c) => [...c.lazyFields]));
    this.#options = options;
    this.#dialect = options.defaultDialect;
    this.instanceId = options.instanceId ?? randomUUID();
    this.log = options.log ?? silentLogger;
    this.#packInfo = { name: pack.name, version: pack.version };
    this.blobCache = options.blobCache ?? new BlobCache();
  }

  get dialect(): JsonRpcDialect {
    return this.#dialect;
  }

  get blobApiUrl(): string | undefined {
    return this.#blobApiUrl;
  }

  /**
   * Parse one incoming frame (a line, or an HTTP body). Large arrays in input fields that the
   * pack's components declare with `lazyArray()` are left unparsed for the component to read
   * in batches; everything else is `JSON.parse`. Throws like `JSON.parse`.
   */
  readonly parseFrame = (text: string): unknown => parseFrame(text, this.#lazyFields);

  /** Handle a request and return the complete response frame (never throws). */
  async respond(request: RequestMessage, session: Session): Promise<string> {
    try {
      return encodeResult(request.id, await this.handle(request, session));
    } catch (err) {
      const component = this.#componentOf(request);
      if (!(err instanceof RpcError)) {
        this.log.error('component threw an unexpected error', {
          component,
          error: err instanceof Error ? err.message : String(err),
          stack: this.log.isEnabled('debug') && err instanceof Error ? err.stack : undefined,
        });
      }
      return encodeError(request.id, toRpcErrorObject(err, component));
    }
  }

  notify(message: NotificationMessage): void {
    // `initialized` needs no action; unknown notifications are ignored (never answered).
    this.log.debug('notification', { method: message.method });
  }

  /** Handle a request; throws RpcError (or anything the component threw). */
  async handle(request: RequestMessage, session: Session): Promise<unknown> {
    const params = request.params === undefined ? {} : request.params;
    switch (request.method) {
      case 'initialize':
        return this.#initialize(params, session);
      case 'components/list':
        return {
          components: [...this.pack.components.values()].map((c) => this.#info(c, `/${c.name}`)),
        };
      case 'components/info': {
        const name = this.#componentParam(params);
        return { info: this.#info(this.#lookup(name), name) };
      }
      case 'components/infer_schema': {
        const name = this.#componentParam(params);
        return { output_schema: this.#lookup(name).outputJsonSchema };
      }
      case 'components/execute':
        return this.#execute(params, session);
      default:
        throw new RpcError(ErrorCodes.METHOD_NOT_FOUND, `Method not found: ${request.method}`);
    }
  }

  #initialize(params: unknown, session: Session): Record<string, unknown> {
    if (!isRecord(params)) throw invalidParams('initialize params must be an object', 'params');
    if ('runtimeProtocolVersion' in params) {
      this.#dialect = 'v0.11';
      const capabilities = isRecord(params.capabilities) ? params.capabilities : {};
      this.#blobApiUrl =
        typeof capabilities.blobApiUrl === 'string' ? capabilities.blobApiUrl : undefined;
    } else if ('runtime_protocol_version' in params) {
      this.#dialect = 'v0.8';
      this.#blobApiUrl = undefined;
    } else {
      throw invalidParams(
        'initialize params need runtime_protocol_version (v0.8) or runtimeProtocolVersion (v0.11)',
        'runtimeProtocolVersion',
      );
    }
    // The connection keeps what its runtime said; the process-wide state serves connections
    // that never sent initialize (a runtime's pooled connections), as the most recent one did.
    if (session.connection) {
      session.connection.dialect = this.#dialect;
      session.connection.blobApiUrl = this.#blobApiUrl;
    }
    this.log.debug('initialized', {
      dialect: this.#dialect,
      blobApi: this.#blobApiUrl !== undefined,
    });
    return {
      server_protocol_version: PROTOCOL_VERSION,
      serverProtocolVersion: PROTOCOL_VERSION,
      supportsBlobRefs: false,
    };
  }

  #componentParam(params: unknown): string {
    if (!isRecord(params)) throw invalidParams('params must be an object', 'params');
    if (typeof params.component !== 'string') {
      throw invalidParams('params.component is required and must be a string', 'component');
    }
    return params.component;
  }

  #lookup(name: string): Component {
    const key = name.startsWith('/') ? name.slice(1) : name;
    const component = this.pack.components.get(key);
    if (!component) {
      throw new RpcError(ErrorCodes.COMPONENT_NOT_FOUND, `Component '${name}' not found`, {
        component: name,
      });
    }
    return component;
  }

  #info(component: Component, name: string): ComponentInfo {
    return {
      component: name,
      description: component.description,
      input_schema: component.inputJsonSchema,
      output_schema: component.outputJsonSchema,
    };
  }

  #componentOf(request: RequestMessage): string | undefined {
    return isRecord(request.params) && typeof request.params.component === 'string'
      ? request.params.component
      : undefined;
  }

  async #execute(params: unknown, session: Session): Promise<{ output: unknown }> {
    const name = this.#componentParam(params);
    const p = params as Record<string, unknown>;
    const attempt = p.attempt === undefined ? 1 : p.attempt;
    if (!Number.isSafeInteger(attempt) || (attempt as number) < 1) {
      throw invalidParams('params.attempt must be an integer >= 1', 'attempt');
    }
    if (p.observability !== undefined && p.observability !== null && !isRecord(p.observability)) {
      throw invalidParams('params.observability must be an object', 'observability');
    }
    const observability = (p.observability ?? {}) as Observability;
    const output = await this.execute(
      name,
      p.input,
      { attempt: attempt as number, observability },
      session,
    );
    return { output };
  }

  /**
   * Run one component: look it up, validate the input, call it with a fresh `ctx`, check that
   * it returned something. The one execution path of every transport. Throws RpcError (or
   * whatever the component threw).
   */
  async execute(
    name: string,
    input: unknown,
    meta: ExecuteMeta,
    session: Session,
  ): Promise<unknown> {
    const component = this.#lookup(name);
    if (component.blobInputs.length > 0) await this.#resolveBlobInputs(component, input, session);
    if (this.#lazyFields.size > 0) materializeDeferred(input, component.lazyFields);
    const parsed = component.input.safeParse(input === undefined ? null : input);
    if (!parsed.success) throw invalidInput(parsed.error, name);
    const ctx: ComponentContext<SettingsOf<S>> = new ExecutionContext(
      this,
      component.name,
      meta,
      session,
    );
    const output = await component.execute(parsed.data, ctx as ComponentContext<never>);
    if (output === undefined) {
      throw new RpcError(
        ErrorCodes.COMPONENT_VALUE_ERROR,
        `Component "${name}" returned no output`,
      );
    }
    return output;
  }

  /** Replace `{"$blob": id}` in the component's `blobInputs` fields by the blobs' content. */
  async #resolveBlobInputs(component: Component, input: unknown, session: Session): Promise<void> {
    if (!isRecord(input)) return;
    for (const field of component.blobInputs) {
      const value = input[field];
      if (!isBlobReference(value)) continue;
      try {
        input[field] = await this.blobsFor(session).get(value.$blob, session.signal);
      } catch (err) {
        if (err instanceof BlobNotFoundError) {
          throw new BadRequestError(
            `input.${field}: blob ${value.$blob} was not found in the blob store`,
            {
              reason: 'blob_not_found',
              field: `input.${field}`,
              blob_id: value.$blob,
            },
          );
        }
        throw err;
      }
    }
  }

  /** Whether the pack serves `name` (with or without a leading `/`). */
  has(name: string): boolean {
    return this.pack.components.has(name.startsWith('/') ? name.slice(1) : name);
  }

  /** The JSON-RPC dialect a session speaks: its connection's, else the process-wide one. */
  dialectOf(session: Session): JsonRpcDialect {
    return session.connection?.dialect ?? this.#dialect;
  }

  /** Sub-runs for a session: the transport's own, or callbacks on a JSON-RPC channel. */
  runsFor(session: Session): RunAccess | undefined {
    if (session.runs) return session.runs;
    if (!session.call) return undefined;
    return jsonRpcRuns(
      this.dialectOf(session),
      session.call,
      this.blobsFor(session),
      this.#options.blobTimeoutMs ?? 30_000,
    );
  }

  /** Blob access for a session (used by ExecutionContext on first use), through the cache. */
  blobsFor(session: Session): BlobAccess {
    return cachedBlobs(this.#blobs(session), this.blobCache);
  }

  get config(): SettingsOf<S> {
    return this.#options.config;
  }

  get packInfo(): { name: string; version: string } {
    return this.#packInfo;
  }

  #blobs(session: Session): BlobAccess {
    if (this.#options.blobs) return this.#options.blobs(session);
    if (session.blobs) return session.blobs;
    const announced = session.connection?.dialect ? session.connection : undefined;
    const dialect = announced?.dialect ?? this.#dialect;
    const blobApiUrl = announced ? announced.blobApiUrl : this.#blobApiUrl;
    if (dialect === 'v0.8') {
      return session.call
        ? callbackBlobs(session.call)
        : unavailableBlobs(
            ErrorCodes.WORKER_ERROR,
            'Blob callbacks are unavailable on this transport',
          );
    }
    return blobApiUrl
      ? httpBlobs(blobApiUrl, this.#options.blobTimeoutMs ?? 30_000)
      : unavailableBlobs(
          ErrorCodes.WORKER_CONFIGURATION_ERROR,
          'Blob storage is unavailable: the runtime did not send capabilities.blobApiUrl in initialize',
        );
  }
}

/** `{"$blob": "<64 hex>"}`, optionally with `blobType` and `size` (the Stepflow ref shape). */
function isBlobReference(value: unknown): value is { $blob: string } {
  if (!isRecord(value) || typeof value.$blob !== 'string' || !/^[0-9a-f]{64}$/.test(value.$blob))
    return false;
  return Object.keys(value).every((key) => key === '$blob' || key === 'blobType' || key === 'size');
}

/** Parse the deferred arrays of `input` that the component does not take lazily. */
function materializeDeferred(input: unknown, lazy: ReadonlySet<string>): void {
  if (!isRecord(input)) return;
  for (const key in input) {
    const value = input[key];
    if (value instanceof DeferredJsonArray && !lazy.has(key)) input[key] = value.parseAll();
  }
}

/**
 * The `ctx` of one execute. A class rather than an object literal because one is built per
 * request: the logger, blob access and abort signal are only created when a component uses them.
 */
class ExecutionContext<S extends SettingsDefinition> implements ComponentContext<SettingsOf<S>> {
  readonly config: SettingsOf<S>;
  readonly dialect: Dialect;
  readonly instanceId: string;
  readonly pack: { readonly name: string; readonly version: string };
  readonly attempt: number;
  readonly observability: Observability;
  readonly pathParams: Readonly<Record<string, string>>;
  #log: Logger | undefined;
  #blobs: BlobAccess | undefined;

  constructor(
    private readonly dispatcher: Dispatcher<S>,
    readonly component: string,
    meta: ExecuteMeta,
    private readonly session: Session,
  ) {
    this.config = dispatcher.config;
    this.dialect = session.dialect ?? dispatcher.dialectOf(session);
    this.instanceId = dispatcher.instanceId;
    this.pack = dispatcher.packInfo;
    this.attempt = meta.attempt;
    this.observability = meta.observability;
    this.pathParams = meta.pathParams ?? NO_PARAMS;
  }

  get signal(): AbortSignal {
    return this.session.signal;
  }

  get log(): Logger {
    return (this.#log ??= this.dispatcher.log.child({
      component: this.component,
      attempt: this.attempt,
      step: this.observability.step_id,
    }));
  }

  putBlob(data: JsonValue, type: BlobType = 'data'): Promise<string> {
    return this.#access().put(data, type, this.session.signal);
  }

  getBlob(id: string): Promise<JsonValue> {
    return this.#access().get(id, this.session.signal);
  }

  putBlobBytes(bytes: Uint8Array): Promise<string> {
    const access = this.#access();
    if (!access.putBytes) return binaryUnsupported(this.dialect);
    return access.putBytes(bytes, this.session.signal);
  }

  getBlobBytes(id: string): Promise<Uint8Array> {
    const access = this.#access();
    if (!access.getBytes) return binaryUnsupported(this.dialect);
    return access.getBytes(id, this.session.signal);
  }

  reportProgress(progress?: number, message?: string): void {
    if (progress !== undefined && !(progress >= 0 && progress <= 1)) {
      throw new RangeError(`progress must be between 0 and 1, got ${progress}`);
    }
    this.session.reportProgress?.(progress, message);
  }

  submitRun(request: SubRunRequest): Promise<SubRunResult> {
    const runs = this.#runs();
    return runs ? runs.submit(request, this.session.signal) : Promise.reject(this.#noRuns());
  }

  getRun(runId: string, options?: GetRunOptions): Promise<SubRunResult> {
    const runs = this.#runs();
    return runs ? runs.get(runId, options, this.session.signal) : Promise.reject(this.#noRuns());
  }

  #runs(): RunAccess | undefined {
    return this.dispatcher.runsFor(this.session);
  }

  #noRuns(): RpcError {
    return new RpcError(
      ErrorCodes.WORKER_ERROR,
      `Sub-runs are not available on this transport (${this.session.transport}, ${this.dialect})`,
    );
  }

  #access(): BlobAccess {
    return (this.#blobs ??= this.dispatcher.blobsFor(this.session));
  }
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

function binaryUnsupported(dialect: Dialect): Promise<never> {
  return Promise.reject(
    new RpcError(
      ErrorCodes.WORKER_ERROR,
      `Binary blobs need the Stepflow ${dialect === 'v0.8' ? 'v0.11 Blob HTTP API or v0.13' : 'v0.13'} blob service; this runtime speaks ${dialect}`,
    ),
  );
}
