/**
 * In-process testing kit: run a pack's components through the real dispatcher (schema
 * validation, error mapping, JSON serialization) with a memory blob store. No transport, no
 * subprocess — the TypeScript counterpart of the mock context in Stepflow's SDK docs.
 */
import { MemoryBlobStore } from '../blobs.js';
import type { Pack } from '../component.js';
import { Dispatcher } from '../dispatcher.js';
import { RpcError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { JsonRpcDialect, Observability, RpcErrorObject } from '../protocol.js';
import { settingsFromValues, type SettingsDefinition, type SettingsOf } from '../settings.js';

export { installFromTarballs, type InstalledPackages } from './install.js';
export { startBuiltWorker, type BuiltWorkerOptions } from './built-worker.js';
export { NatsServer } from './nats-server.js';

export interface TestKitOptions<S extends SettingsDefinition> {
  /** Dialect announced in `initialize` (default v0.11). */
  dialect?: JsonRpcDialect;
  /** Settings values (parsed through the pack's schemas; unset ones take their defaults). */
  config?: Partial<SettingsOf<S>>;
  blobs?: MemoryBlobStore;
  log?: Logger;
  /** Receives what components pass to `ctx.reportProgress` (as a v0.13 worker would send it). */
  onProgress?: (progress: number | undefined, message: string | undefined) => void;
}

export interface ExecuteOptions {
  attempt?: number;
  observability?: Observability;
  signal?: AbortSignal;
}

export type CallResult = { ok: true; output: unknown } | { ok: false; error: RpcErrorObject };

export interface TestKit {
  readonly dispatcher: Dispatcher;
  readonly blobs: MemoryBlobStore;
  /** Execute and return the output; throws RpcError carrying the wire error on failure. */
  execute<T = unknown>(component: string, input: unknown, options?: ExecuteOptions): Promise<T>;
  /** Execute and return the wire outcome without throwing. */
  call(component: string, input: unknown, options?: ExecuteOptions): Promise<CallResult>;
  /** Send any protocol request; returns the parsed response frame. */
  request(method: string, params: unknown): Promise<{ result?: unknown; error?: RpcErrorObject }>;
}

export function createTestKit<S extends SettingsDefinition>(
  pack: Pack<S>,
  options: TestKitOptions<S> = {},
): TestKit {
  const blobs = options.blobs ?? new MemoryBlobStore();
  const dialect = options.dialect ?? 'v0.11';
  const dispatcher = new Dispatcher(pack, {
    config: settingsFromValues(pack.settings, options.config ?? {}),
    log: options.log ?? silentLogger,
    defaultDialect: dialect,
    blobs: () => blobs,
  }) as unknown as Dispatcher;
  let nextId = 1;

  const request = async (method: string, params: unknown, signal?: AbortSignal) => {
    const frame = await dispatcher.respond(
      { jsonrpc: '2.0', id: nextId++, method, params },
      {
        transport: 'memory',
        signal: signal ?? new AbortController().signal,
        ...(options.onProgress ? { reportProgress: options.onProgress } : {}),
      },
    );
    return JSON.parse(frame) as { result?: unknown; error?: RpcErrorObject };
  };
  const call = async (
    component: string,
    input: unknown,
    opts: ExecuteOptions = {},
  ): Promise<CallResult> => {
    const response = await request(
      'components/execute',
      { component, input, attempt: opts.attempt ?? 1, observability: opts.observability ?? {} },
      opts.signal,
    );
    if (response.error) return { ok: false, error: response.error };
    return { ok: true, output: (response.result as { output: unknown }).output };
  };
  const init = request(
    'initialize',
    dialect === 'v0.8' ? { runtime_protocol_version: 1 } : { runtimeProtocolVersion: 1 },
  );

  return {
    dispatcher,
    blobs,
    async execute<T>(component: string, input: unknown, opts?: ExecuteOptions): Promise<T> {
      await init;
      const outcome = await call(component, input, opts);
      if (!outcome.ok)
        throw new RpcError(outcome.error.code, outcome.error.message, outcome.error.data);
      return outcome.output as T;
    },
    async call(component, input, opts) {
      await init;
      return call(component, input, opts);
    },
    async request(method, params) {
      await init;
      return request(method, params);
    },
  };
}
