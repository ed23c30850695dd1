import { fstatSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Pack } from './component.js';
import { BlobCache, DEFAULT_BLOB_CACHE_BYTES } from './blob-cache.js';
import { Dispatcher } from './dispatcher.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './framing.js';
import { createLogger, isLogLevel, type Logger, type LogLevel } from './logger.js';
import { exitWithParentProcess, exitWithParentSetting } from './parent-watch.js';
import { resolveSettings, SettingsError, type SettingsDefinition } from './settings.js';
import { serveHttp } from './transport/http.js';
import { reserveStdout, serveStdio } from './transport/stdio.js';
import {
  GRPC_FLAGS,
  GRPC_SETTINGS,
  grpcOptionsFrom,
  launchedForGrpc,
} from './transport/grpc/options.js';
import { serveGrpc, type GrpcWorkerOptions } from './transport/grpc/worker.js';
import {
  launchedForNats,
  NATS_FLAGS,
  NATS_SETTINGS,
  natsOptionsFrom,
} from './transport/nats/options.js';
import { serveNats, type NatsWorkerOptions } from './transport/nats/worker.js';

export type TransportMode = 'auto' | 'stdio' | 'http' | 'grpc' | 'nats';

export interface CliOptions {
  argv?: string[];
  env?: Record<string, string | undefined>;
}

const COMMON_ENV = [
  ['STEPFLOW_TRANSPORT', 'auto | stdio | http | grpc | nats (default auto)'],
  ['STEPFLOW_PORT', 'HTTP port (default 0 = ephemeral; ignored by gRPC)'],
  ['STEPFLOW_HOST', 'HTTP bind address (default 127.0.0.1)'],
  ['STEPFLOW_LOG_LEVEL', 'trace | debug | info | warn | error | silent (default info)'],
  ['STEPFLOW_AUTH_TOKEN', 'require "Authorization: Bearer <token>" on HTTP POSTs'],
  ['STEPFLOW_ALLOWED_HOSTS', 'extra Host names accepted over HTTP (comma-separated)'],
  ['STEPFLOW_ALLOWED_ORIGINS', 'Origins accepted over HTTP (comma-separated; default none)'],
  ['STEPFLOW_MAX_MESSAGE_BYTES', `largest accepted message (default ${DEFAULT_MAX_MESSAGE_BYTES})`],
  ['STEPFLOW_SHUTDOWN_GRACE_MS', 'time in-flight work gets on shutdown (default 10000)'],
  ['STEPFLOW_SHUTDOWN_GRACE_SECS', 'the same in seconds (the Python SDK name)'],
  ['STEPFLOW_HEADERS_TIMEOUT_MS', 'HTTP header read timeout (default 10000)'],
  ['STEPFLOW_REQUEST_TIMEOUT_MS', 'HTTP request body read timeout (default 60000)'],
  ['STEPFLOW_BLOB_TIMEOUT_MS', 'wait for each blob call to the runtime (default 30000, max 30000)'],
  [
    'STEPFLOW_BLOB_CACHE_BYTES',
    'blobs kept in memory by id, which are content hashes (default 33554432 = 32 MiB; 0 = off)',
  ],
  ['STEPFLOW_EXIT_WITH_PARENT', 'a worker exits when its starter dies (default true)'],
] as const;

function usage(pack: Pack): string {
  const lines = [
    `stepflow-pack-${pack.name} ${pack.version}${pack.description ? ` — ${pack.description}` : ''}`,
    '',
    `Usage: stepflow-pack-${pack.name} [options]`,
    '',
    'Serves the components of this pack to Stepflow: as a gRPC pull worker or from NATS',
    'JetStream (Stepflow 0.12+), or over the JSON-RPC component protocol on stdio or HTTP',
    '(Stepflow 0.8 to 0.11).',
    '',
    'Options:',
    '  --transport <auto|stdio|http|grpc|nats>',
    '                                 auto: gRPC when STEPFLOW_TRANSPORT=grpc or STEPFLOW_TASKS_URL',
    '                                 is set, NATS when STEPFLOW_TRANSPORT=nats or STEPFLOW_NATS_URL',
    '                                 is, else stdio when stdin is a pipe, else HTTP on port 0',
    '  --stdio, --http, --grpc, --nats  shorthands for --transport stdio|http|grpc|nats',
    '  --port <n>                     HTTP port (0 = ephemeral; the port is printed as {"port":N})',
    '  --host <addr>                  HTTP bind address (default 127.0.0.1)',
    '  --allow-remote                 permit binding a non-loopback address',
    '  --log-level <level>            trace | debug | info | warn | error | silent',
    '  --blob-timeout-ms <n>          wait for each blob call to the runtime (default 30000)',
    '  --no-exit-with-parent          keep serving after the process that started it exits',
    '  --list-components              print the components with their schemas and exit',
    '  --help, --version',
  ];
  const settings = Object.entries(pack.settings as SettingsDefinition);
  if (settings.length > 0) {
    lines.push('', 'Pack settings (flag / environment variable):');
    for (const [, setting] of settings) {
      const names = [setting.flag ? `--${setting.flag} <value>` : undefined, setting.env]
        .filter(Boolean)
        .join(' / ');
      lines.push(`  ${names}`, `      ${setting.description}`);
    }
  }
  lines.push('', 'gRPC pull worker (flag / environment variable):');
  for (const [flag, variable, text] of GRPC_SETTINGS) {
    lines.push(`  ${[flag, variable].filter(Boolean).join(' / ')}`, `      ${text}`);
  }
  lines.push('', 'NATS JetStream worker (also uses the gRPC settings for blobs and completions):');
  for (const [flag, variable, text] of NATS_SETTINGS) {
    lines.push(`  ${flag} / ${variable}`, `      ${text}`);
  }
  lines.push('', 'Environment:');
  for (const [name, text] of COMMON_ENV) lines.push(`  ${name.padEnd(28)} ${text}`);
  return lines.join('\n') + '\n';
}

/**
 * gRPC when the orchestrator's launch environment asks for it (Stepflow 0.12+ sets
 * STEPFLOW_TRANSPORT=grpc and STEPFLOW_TASKS_URL); otherwise stdio when fd 0 is a pipe (a FIFO
 * from Rust or shells, a socket from Node's child_process), else HTTP.
 */
export function detectTransport(
  env: Record<string, string | undefined> = process.env,
): 'stdio' | 'http' | 'grpc' | 'nats' {
  if (launchedForGrpc(env)) return 'grpc';
  if (launchedForNats(env)) return 'nats';
  try {
    const stat = fstatSync(0);
    return stat.isFIFO() || stat.isSocket() ? 'stdio' : 'http';
  } catch {
    return 'http';
  }
}

function intFrom(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new SettingsError([
      `${name}: expected a non-negative integer, got ${JSON.stringify(value)}`,
    ]);
  return n;
}

function listFrom(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/**
 * Write to stdout, then exit once the text is flushed: through a pipe, a write larger than the
 * pipe's buffer (64 KiB) is still in progress when `process.exit` would cut it off.
 */
function printAndExit(text: string): Promise<never> {
  return new Promise<never>(() => {
    process.stdout.write(text, () => process.exit(0));
  });
}

/** Run the pack's close hook, bounded so a stuck pool cannot keep the process alive. */
async function closePack(pack: Pack, log: Logger): Promise<void> {
  if (!pack.close) return;
  try {
    await Promise.race([
      Promise.resolve(pack.close()),
      new Promise((resolve) => setTimeout(resolve, 5000).unref()),
    ]);
  } catch (err) {
    log.warn('pack close hook failed', { error: err instanceof Error ? err.message : String(err) });
  }
}

/**
 * The whole binary of a pack: parse flags, validate settings, serve over the chosen transport,
 * shut down gracefully on SIGTERM/SIGINT or stdin EOF. Exits the process when done.
 */
export async function runCli(pack: Pack, options: CliOptions = {}): Promise<never> {
  const env = options.env ?? process.env;
  const settingFlags = Object.values(pack.settings as SettingsDefinition).filter((s) => s.flag);
  let parsed;
  try {
    parsed = parseArgs({
      args: options.argv ?? process.argv.slice(2),
      strict: true,
      allowPositionals: false,
      options: {
        transport: { type: 'string' },
        stdio: { type: 'boolean' },
        http: { type: 'boolean' },
        grpc: { type: 'boolean' },
        nats: { type: 'boolean' },
        ...NATS_FLAGS,
        ...GRPC_FLAGS,
        port: { type: 'string' },
        host: { type: 'string' },
        'allow-remote': { type: 'boolean' },
        'log-level': { type: 'string' },
        'no-exit-with-parent': { type: 'boolean' },
        'blob-timeout-ms': { type: 'string' },
        'blob-cache-bytes': { type: 'string' },
        'list-components': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
        ...Object.fromEntries(
          settingFlags.map((s) => [s.flag!, { type: 'string' as const, multiple: true as const }]),
        ),
      },
    });
  } catch (err) {
    process.stderr.write(
      `${err instanceof Error ? err.message : String(err)}\nRun with --help for usage.\n`,
    );
    return process.exit(2);
  }
  const flags = parsed.values as Record<string, string | string[] | boolean | undefined>;
  if (flags.help) return printAndExit(usage(pack));
  if (flags.version) return printAndExit(`${pack.version}\n`);
  if (flags['list-components']) {
    // component_id and path are what Stepflow 0.13 discovery registers; component is the
    // JSON-RPC name of Stepflow 0.8–0.11.
    const components = [...pack.components.values()].map((c) => ({
      component_id: c.name,
      path: `/${c.name}`,
      component: `/${c.name}`,
      description: c.description,
      input_schema: c.inputJsonSchema,
      output_schema: c.outputJsonSchema,
    }));
    return printAndExit(
      JSON.stringify({ pack: pack.name, version: pack.version, components }, null, 2) + '\n',
    );
  }

  // `off` is the orchestrator's spelling (it passes STEPFLOW_LOG_LEVEL on to its workers).
  const levelText = String(flags['log-level'] ?? env.STEPFLOW_LOG_LEVEL ?? env.LOG_LEVEL ?? 'info')
    .toLowerCase()
    .replace(/^off$/, 'silent');
  const level: LogLevel = isLogLevel(levelText) ? levelText : 'info';
  const log: Logger = createLogger({ level, bindings: { pack: pack.name } });
  if (!isLogLevel(levelText)) log.warn('unknown log level; using info', { given: levelText });

  let chosen: 'stdio' | 'http' | 'grpc' | 'nats';
  let natsOptions: Omit<NatsWorkerOptions, 'log'> | undefined;
  let settings;
  let exitWithParent = true;
  let port = 0;
  let grpcOptions: Omit<GrpcWorkerOptions, 'log'> | undefined;
  const numbers: Record<string, number> = {};
  try {
    const transport = String(
      flags.stdio
        ? 'stdio'
        : flags.http
          ? 'http'
          : flags.grpc
            ? 'grpc'
            : flags.nats
              ? 'nats'
              : (flags.transport ?? env.STEPFLOW_TRANSPORT ?? 'auto'),
    );
    if (!['auto', 'stdio', 'http', 'grpc', 'nats'].includes(transport)) {
      throw new SettingsError([
        `--transport: expected auto, stdio, http, grpc or nats, got ${JSON.stringify(transport)}`,
      ]);
    }
    chosen = transport === 'auto' ? detectTransport(env) : (transport as typeof chosen);
    if (chosen === 'http') {
      // Only HTTP reads a port: a gRPC worker inherits the orchestrator's own STEPFLOW_PORT.
      port = intFrom((flags.port as string | undefined) ?? env.STEPFLOW_PORT, '--port', 0);
      if (port > 65535) throw new SettingsError([`--port: must be at most 65535, got ${port}`]);
    }
    numbers.maxMessageBytes = intFrom(
      env.STEPFLOW_MAX_MESSAGE_BYTES,
      'STEPFLOW_MAX_MESSAGE_BYTES',
      DEFAULT_MAX_MESSAGE_BYTES,
    );
    numbers.graceMs = env.STEPFLOW_SHUTDOWN_GRACE_MS
      ? intFrom(env.STEPFLOW_SHUTDOWN_GRACE_MS, 'STEPFLOW_SHUTDOWN_GRACE_MS', 10_000)
      : intFrom(env.STEPFLOW_SHUTDOWN_GRACE_SECS, 'STEPFLOW_SHUTDOWN_GRACE_SECS', 10) * 1000;
    numbers.headersTimeoutMs = intFrom(
      env.STEPFLOW_HEADERS_TIMEOUT_MS,
      'STEPFLOW_HEADERS_TIMEOUT_MS',
      10_000,
    );
    numbers.requestTimeoutMs = intFrom(
      env.STEPFLOW_REQUEST_TIMEOUT_MS,
      'STEPFLOW_REQUEST_TIMEOUT_MS',
      60_000,
    );
    exitWithParent = exitWithParentSetting(
      flags['no-exit-with-parent'],
      env.STEPFLOW_EXIT_WITH_PARENT,
    );
    numbers.blobTimeoutMs = intFrom(
      (flags['blob-timeout-ms'] as string | undefined) ?? env.STEPFLOW_BLOB_TIMEOUT_MS,
      'STEPFLOW_BLOB_TIMEOUT_MS (--blob-timeout-ms)',
      30_000,
    );
    if (numbers.blobTimeoutMs < 1 || numbers.blobTimeoutMs > 30_000)
      throw new SettingsError(['STEPFLOW_BLOB_TIMEOUT_MS (--blob-timeout-ms): must be 1…30000']);
    numbers.blobCacheBytes = intFrom(
      (flags['blob-cache-bytes'] as string | undefined) ?? env.STEPFLOW_BLOB_CACHE_BYTES,
      'STEPFLOW_BLOB_CACHE_BYTES (--blob-cache-bytes)',
      DEFAULT_BLOB_CACHE_BYTES,
    );
    if (numbers.blobCacheBytes > 4 * 1024 ** 3)
      throw new SettingsError(['STEPFLOW_BLOB_CACHE_BYTES (--blob-cache-bytes): at most 4 GiB']);
    if (numbers.headersTimeoutMs! > 30_000)
      throw new SettingsError(['STEPFLOW_HEADERS_TIMEOUT_MS: must be at most 30000']);
    if (numbers.requestTimeoutMs! > 120_000)
      throw new SettingsError(['STEPFLOW_REQUEST_TIMEOUT_MS: must be at most 120000']);
    const flagValues: Record<string, string | undefined> = {};
    for (const s of settingFlags) {
      const value = flags[s.flag!];
      if (Array.isArray(value)) flagValues[s.flag!] = value.join(',');
    }
    settings = resolveSettings(pack.settings as SettingsDefinition, { env, flags: flagValues });
    if (chosen === 'grpc' || chosen === 'nats') {
      grpcOptions = grpcOptionsFrom(flags, env, {
        queueName: pack.name,
        shutdownGraceMs: numbers.graceMs!,
        blobTimeoutMs: numbers.blobTimeoutMs!,
      });
    }
    if (chosen === 'nats') {
      natsOptions = natsOptionsFrom(flags, env, grpcOptions!, pack.name);
      grpcOptions = undefined;
    }
  } catch (err) {
    const message = err instanceof SettingsError ? err.problems.join('\n  ') : String(err);
    process.stderr.write(`stepflow-pack-${pack.name}: invalid configuration:\n  ${message}\n`);
    return process.exit(1);
  }

  const writeStdout = reserveStdout();
  const dispatcher = new Dispatcher(pack, {
    config: settings,
    log,
    defaultDialect: chosen === 'stdio' ? 'v0.8' : 'v0.11',
    blobTimeoutMs: numbers.blobTimeoutMs,
    blobCache: new BlobCache(numbers.blobCacheBytes),
  });
  process.on('uncaughtException', (err) => {
    log.error('uncaught exception; exiting', { error: err.message });
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    log.error('unhandled promise rejection', {
      error: reason instanceof Error ? reason.message : String(reason),
    });
  });

  if (grpcOptions || natsOptions) {
    // A worker the orchestrator spawned must not outlive it (stepflow run does not always kill
    // its workers); a remote worker under a supervisor has nothing to watch.
    if (exitWithParent) exitWithParentProcess(log);
    const worker = natsOptions
      ? serveNats(dispatcher, { ...natsOptions, log })
      : serveGrpc(dispatcher, { ...grpcOptions!, log });
    const stop = () => worker.shutdown();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    const code = await worker.done;
    await closePack(pack, log);
    return process.exit(code);
  }

  if (chosen === 'stdio') {
    const server = serveStdio(dispatcher, {
      log,
      write: writeStdout,
      maxMessageBytes: numbers.maxMessageBytes!,
      shutdownGraceMs: numbers.graceMs!,
      callbackTimeoutMs: numbers.blobTimeoutMs,
    });
    const stop = () => server.shutdown();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    log.debug('serving over stdio');
    const code = await server.done;
    await closePack(pack, log);
    return process.exit(code);
  }

  const stopRequested = new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  // Before the port line: a starter that dies right after reading it is still noticed.
  if (exitWithParent) exitWithParentProcess(log);
  let server;
  try {
    server = await serveHttp(dispatcher, {
      host: (flags.host as string | undefined) ?? env.STEPFLOW_HOST ?? '127.0.0.1',
      port,
      log,
      allowRemote: Boolean(flags['allow-remote']),
      allowedHosts: listFrom(env.STEPFLOW_ALLOWED_HOSTS),
      allowedOrigins: listFrom(env.STEPFLOW_ALLOWED_ORIGINS),
      ...(env.STEPFLOW_AUTH_TOKEN ? { authToken: env.STEPFLOW_AUTH_TOKEN } : {}),
      maxBodyBytes: numbers.maxMessageBytes!,
      headersTimeoutMs: numbers.headersTimeoutMs!,
      requestTimeoutMs: numbers.requestTimeoutMs!,
      callbackTimeoutMs: numbers.blobTimeoutMs,
      onListening: (bound) => writeStdout(`${JSON.stringify({ port: bound })}\n`),
    });
  } catch (err) {
    process.stderr.write(
      `stepflow-pack-${pack.name}: cannot serve HTTP: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    return process.exit(1);
  }
  log.debug('serving over HTTP', { port: server.port });
  await stopRequested;
  await server.close(numbers.graceMs!);
  await closePack(pack, log);
  return process.exit(0);
}
