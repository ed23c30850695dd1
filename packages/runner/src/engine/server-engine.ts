import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import type { RunnerConfig } from '../config/types.js';
import type { Flow, Version } from '../flow/model.js';
import { isObject, type Json, type JsonObject } from '../json/value.js';
import { versionOfRelease, type ServerRelease } from './release.js';
import { writeServerConfig } from './server-config.js';
import { StepflowServer } from './server.js';
import type { EngineRun, FlowEngine, WorkerStats } from './types.js';

export interface ServerEngineOptions {
  /** Path of the `stepflow-server` binary (see `findServerBinary`). */
  binary: string;
  release: ServerRelease;
  config: RunnerConfig;
  /** Per-run wait on the server (`timeoutSecs` of POST /api/v1/runs; default 300). */
  runTimeoutSecs?: number;
  /** Label of the generated config file (the flow file, for messages). */
  label?: string;
}

/** Where the binary comes from, for the hint in "not found" errors. */
const INSTALL_HINT =
  'install the orchestrator with `pip install stepflow-orchestrator==0.13.0` (it provides ' +
  '`stepflow-server`), or pass --server-binary <PATH> / set STEPFLOW_SERVER_BINARY';

/**
 * The `stepflow-server` binary to run: the explicit path, else `STEPFLOW_SERVER_BINARY`, else
 * `stepflow-server` on PATH. Throws a message saying how to get one.
 */
export function findServerBinary(
  explicit: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd = process.cwd(),
): string {
  const given = explicit ?? env.STEPFLOW_SERVER_BINARY;
  if (given) {
    const path = resolve(cwd, given);
    if (!isExecutable(path))
      throw new Error(`stepflow-server binary ${given} does not exist or is not executable`);
    return path;
  }
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const path = join(dir, 'stepflow-server');
    if (isExecutable(path)) return path;
  }
  throw new Error(`stepflow-server was not found on PATH: ${INSTALL_HINT}`);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const releases = new Map<string, Promise<ServerRelease>>();

/**
 * The release of a binary (it has no `--version`): started once with a config holding only the
 * builtin plugin, asked GET /api/v1/health, stopped. Cached per path.
 */
export function probeRelease(binary: string): Promise<ServerRelease> {
  let found = releases.get(binary);
  if (!found) {
    found = (async () => {
      const dir = mkdtempSync(join(tmpdir(), 'stepflow-packs-probe-'));
      try {
        const config = join(dir, 'probe.json');
        writeFileSync(config, '{"plugins":{"builtin":{"type":"builtin"}},"routes":{}}\n');
        const server = await StepflowServer.start({ binary, config, plugins: 0, waitReady: false });
        await server.stop();
        return server.release;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    })();
    releases.set(binary, found);
    found.catch(() => releases.delete(binary));
  }
  return found;
}

/**
 * A real `stepflow-server` as the engine: started with the resolved config (its workers are
 * started by the server, as in production), flows stored with POST /api/v1/flows and run with
 * POST /api/v1/runs (`wait: true`). The FlowResult is the server's, in its vocabulary (0.13:
 * code names, no `error.data`).
 */
export class ServerEngine implements FlowEngine {
  readonly kind = 'stepflow-server' as const;
  readonly version: Version;
  readonly #flowIds = new Map<Flow, Promise<string>>();

  private constructor(
    readonly server: StepflowServer,
    readonly release: ServerRelease,
    readonly binary: string,
    private readonly runTimeoutSecs: number,
  ) {
    this.version = versionOfRelease(release);
  }

  static async start(options: ServerEngineOptions): Promise<ServerEngine> {
    const file = writeServerConfig(options.config, options.label);
    try {
      const server = await StepflowServer.start({
        binary: options.binary,
        generation: options.release,
        config: file.path,
        plugins: file.processPlugins,
      });
      return new ServerEngine(
        server,
        options.release,
        options.binary,
        options.runTimeoutSecs ?? 300,
      );
    } catch (err) {
      throw new Error(
        `stepflow-server ${options.release} failed to start: ${(err as Error).message}`,
      );
    } finally {
      // The server has read its config by the time it prints its port.
      file.dispose();
    }
  }

  get label(): string {
    return `stepflow-server ${this.release}`;
  }

  async run(flow: Flow, input: Json, variables?: JsonObject): Promise<EngineRun> {
    const flowId = await this.#store(flow);
    const client = this.server.client;
    const { result, runId } = await client.runItem(flowId, input, this.runTimeoutSecs, variables);
    if (result.outcome === 'success') return { result };
    const steps = await client
      .describeSteps(runId)
      .catch((err: Error) => `(steps: ${err.message})`);
    return { result, details: `steps of run ${runId}:\n${steps}` };
  }

  #store(flow: Flow): Promise<string> {
    let id = this.#flowIds.get(flow);
    if (!id) {
      const { test: _test, ...document } = flow.raw;
      id = this.server.client.storeFlow(document);
      this.#flowIds.set(flow, id);
    }
    return id;
  }

  /** 0.13 REST results carry no `error.data`; everything else is compared as written. */
  expectation(expected: Json): Json {
    if (this.release !== '0.13.0' || !isObject(expected) || !isObject(expected.error))
      return expected;
    const { data: _data, ...error } = expected.error;
    return { ...expected, error };
  }

  workerStats(): WorkerStats[] {
    return [];
  }

  /** Recent server and worker output, for failure reports. */
  tail(lines = 30): string {
    return this.server.tail(lines);
  }

  close(): Promise<void> {
    return this.server.stop();
  }
}
