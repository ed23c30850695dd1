import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { discoverConfig, generationOf } from './config/discovery.js';
import { ConfigError } from './config/load.js';
import type { RetryConfig } from './config/types.js';
import { EmulatorEngine } from './engine/emulator.js';
import { versionOfRelease } from './engine/release.js';
import { findServerBinary, probeRelease, ServerEngine } from './engine/server-engine.js';
import type { FlowEngine } from './engine/types.js';
import { checkComponentPath } from './config/static-check.js';
import { componentRows, describeFailure } from './execute/component-paths.js';
import { DEFAULT_STARTUP_TIMEOUT_MS, Environment } from './execute/environment.js';
import { yamlLocator, type Locator } from './flow/locate.js';
import type { Flow, Version } from './flow/model.js';
import { FlowParseError, inferVersion, parseFlow } from './flow/parse.js';
import { readBoundedText, type InputStream } from './input/stdin.js';
import { canonicalJson } from './json/canonical.js';
import { isObject, type Json, type JsonObject } from './json/value.js';
import { parseYaml, parseYamlDocument, SourceError, toJson } from './json/yaml.js';
import { track } from './lifecycle.js';
import { HumanReporter } from './testing/reporters/human.js';
import { JsonReporter } from './testing/reporters/json.js';
import { JunitReporter } from './testing/reporters/junit.js';
import type { Reporter, UnmatchedCase } from './testing/reporters/types.js';
import { engineLabel, runTests, type EngineChoice } from './testing/run-tests.js';

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  cwd: string;
  /**
   * `run` reads its input here when no input flag is given and it is not a TTY (the binary passes
   * process.stdin; without it, the input is null).
   */
  stdin?: InputStream;
}

const { version: VERSION } = createRequire(import.meta.url)('../package.json') as {
  version: string;
};

/**
 * Exit codes (documented in the README): 0 success; 1 the flow failed / a test case failed / the
 * flow is invalid; 2 usage or config errors; 130/143 interrupted; 141 stdout closed (EPIPE).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, brokenPipe: 141 } as const;

class UsageError extends Error {}

const HELP = `stepflow-packs ${VERSION} — run and test Stepflow flows locally (Stepflow v0.8 / v0.11 / 0.13 semantics)

Usage:
  stepflow-packs run --flow <FILE> [--input <FILE> | --input-json <JSON> | --input-yaml <YAML>] [options]
  <INPUT> | stepflow-packs run --flow <FILE> [options]     (input from stdin, JSON or YAML)
  stepflow-packs test [PATHS...] [options]
  stepflow-packs list-components [--config <FILE>] [options]
  stepflow-packs validate <FILE> [--config <FILE>] [options]

Commands:
  run               run one flow and print its FlowResult as JSON
  test              run the test cases of every flow file in PATHS (directories are searched
                    recursively; default ".")
  list-components   start the configured plugins and list their components as flow paths
  validate          check a flow (and its config and routes) without running it

Options:
  --config <FILE>            stepflow-config.yml to use (default: discovered per flow file)
  --emulate <v0.8|v0.11|v0.13>
                             Stepflow release to imitate (default: inferred from the flow syntax
                             and the config: grpc plugins / one-segment routes mean 0.13). With
                             v0.13, stepflow-config.v0.13.yml is preferred beside each flow.
                             test: a list (v0.13,v0.11,v0.8 or "all") runs every flow under each
                             release that reads its syntax and prints a summary per release
  --request-timeout-ms <N>   per-request worker timeout (default 300000; never infinite)
  --startup-timeout-ms <N>   how long a worker may take to start (default 30000): v0.8 initialize
                             answer, v0.11 port announcement and initialize, 0.13 connection
  --backoff-ms <N>           constant delay between retries instead of the configured backoff
  --transport-max-retries <N> transport retries per step (default: config retry, else 3)
  --worker-transport <auto|stdio|http>
                             launch command workers over stdio or HTTP subprocess whatever the
                             emulated release (default auto: v0.8 per config, v0.11 HTTP)
  --engine <emulator|stepflow-server>
                             run and test: what runs the flows (default emulator). stepflow-server
                             starts a real stepflow-server (0.11.1 or 0.13.0, detected) per flow
                             file with the resolved config and runs over its REST API; the
                             release decides the semantics and which configs are read
  --server-binary <PATH>     stepflow-server to use with --engine stepflow-server (default:
                             $STEPFLOW_SERVER_BINARY, else stepflow-server on PATH)
  --grpc-port <N>            0.13: serve the orchestrator on 127.0.0.1:N instead of an ephemeral
                             port (for remote workers: type grpc without command)
  --input <FILE>, --input-json <JSON>, --input-yaml <YAML>
                             run: the flow input; without them, stdin when it is not a terminal
                             (JSON or YAML, at most 64 MiB; empty means null), else null
  --variables-json <JSON>    variables for run (an object)
  --output <FILE>            run: also write the FlowResult to FILE
  --case <NAME>              test: only cases with this name (repeatable); a name that matches
                             no case is a failure (exit 1, the available names are listed)
  --reporter <human|json|junit>  test: output format (default human)
  --max-concurrency <N>      test: parallel cases per file in v0.11 mode (default 10)
  --stack-sensitive          test: also compare error.data.stack (ignored by default)
  --format <pretty|json>     list-components output (default pretty)
  -h, --help                 show this help
  -V, --version              show the version

Every flag is checked before anything starts: a bad value is a usage error (exit 2).

Exit codes:
  0        success (run: outcome success; test: every case passed; validate: valid)
  1        run: the flow failed or was skipped; test: a case failed or errored, a flow file
           could not be read, or a --case name matched nothing; validate: the flow is invalid
  2        usage error, unreadable or invalid config (run, list-components, validate), a worker
           that failed to start (run, list-components)
  130/143  interrupted by SIGINT/SIGTERM (workers are stopped first)
  141      stdout was closed early (e.g. piped into head); workers are stopped, nothing printed
`;

const OPTIONS = {
  flow: { type: 'string' },
  input: { type: 'string' },
  'input-json': { type: 'string' },
  'input-yaml': { type: 'string' },
  config: { type: 'string' },
  emulate: { type: 'string' },
  'request-timeout-ms': { type: 'string' },
  'startup-timeout-ms': { type: 'string' },
  'backoff-ms': { type: 'string' },
  'transport-max-retries': { type: 'string' },
  'variables-json': { type: 'string' },
  'worker-transport': { type: 'string' },
  'grpc-port': { type: 'string' },
  engine: { type: 'string' },
  'server-binary': { type: 'string' },
  output: { type: 'string' },
  case: { type: 'string', multiple: true },
  reporter: { type: 'string' },
  'max-concurrency': { type: 'string' },
  'stack-sensitive': { type: 'boolean' },
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} satisfies ParseArgsConfig['options'];

type Values = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>
>['values'];

function positiveInt(
  values: Values,
  name:
    | 'request-timeout-ms'
    | 'startup-timeout-ms'
    | 'max-concurrency'
    | 'backoff-ms'
    | 'transport-max-retries'
    | 'grpc-port',
  min = 1,
): number | undefined {
  const text = values[name];
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min)
    throw new UsageError(`--${name}: expected an integer >= ${min}, got ${JSON.stringify(text)}`);
  return n;
}

function versionOf(v: string): Version {
  if (v === 'v0.8' || v === '0.8' || v === 'v0.8.0') return 'v0.8';
  if (v === 'v0.11' || v === '0.11' || v === 'v0.11.1') return 'v0.11';
  if (v === 'v0.13' || v === '0.13' || v === 'v0.13.0' || v === '0.13.0') return 'v0.13';
  throw new UsageError(`--emulate: expected v0.8, v0.11 or v0.13, got ${JSON.stringify(v)}`);
}

function emulation(values: Values): Version | undefined {
  const list = emulations(values);
  if (list && list.length > 1)
    throw new UsageError('--emulate: a list of releases is only accepted by the test command');
  return list?.[0];
}

/** `--emulate v0.13,v0.11,v0.8` / `all` (test only). */
function emulations(values: Values): Version[] | undefined {
  const v = values.emulate;
  if (v === undefined) return undefined;
  if (v === 'all') return ['v0.13', 'v0.11', 'v0.8'];
  return [...new Set(v.split(',').map((part) => versionOf(part.trim())))];
}

function workerTransport(values: Values): { workerTransport?: 'stdio' | 'http' } {
  const v = values['worker-transport'];
  if (v === undefined || v === 'auto') return {};
  if (v === 'stdio' || v === 'http') return { workerTransport: v };
  throw new UsageError(
    `--worker-transport: expected auto, stdio or http, got ${JSON.stringify(v)}`,
  );
}

/**
 * `--engine`: the emulator, or a real stepflow-server whose release (probed once) replaces
 * `--emulate` — which, if given, must name that release.
 */
async function engineChoice(values: Values, io: Io): Promise<EngineChoice> {
  const kind = values.engine ?? 'emulator';
  if (kind === 'emulator') {
    if (values['server-binary'] !== undefined)
      throw new UsageError('--server-binary needs --engine stepflow-server');
    return { kind };
  }
  if (kind !== 'stepflow-server' && kind !== 'server')
    throw new UsageError(
      `--engine: expected emulator or stepflow-server, got ${JSON.stringify(kind)}`,
    );
  let binary: string;
  try {
    binary = findServerBinary(values['server-binary'], process.env, io.cwd);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const release = await probeRelease(binary).catch((err: Error) => {
    throw new UsageError(`cannot start ${binary}: ${err.message}`);
  });
  const wanted = emulations(values);
  const version = versionOfRelease(release);
  if (wanted && (wanted.length > 1 || wanted[0] !== version))
    throw new UsageError(
      `--emulate ${values.emulate} does not match --engine stepflow-server: ${binary} is ${release} (${version})`,
    );
  return { kind: 'stepflow-server', binary, release };
}

function retryOverride(values: Values): Partial<RetryConfig> | undefined {
  const backoff = positiveInt(values, 'backoff-ms', 0);
  const max = positiveInt(values, 'transport-max-retries', 0);
  if (backoff === undefined && max === undefined) return undefined;
  return {
    ...(max !== undefined ? { transportMaxRetries: max } : {}),
    ...(backoff !== undefined ? { backoff: { type: 'constant' as const, delayMs: backoff } } : {}),
  };
}

const REPORTERS = ['human', 'json', 'junit'] as const;
const FORMATS = ['pretty', 'json'] as const;

function oneOf<T extends string>(
  values: Values,
  name: 'reporter' | 'format',
  allowed: readonly T[],
): T | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new UsageError(
    `--${name}: expected ${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}, got ${JSON.stringify(v)}`,
  );
}

/**
 * Every flag, checked before anything is started (a bad value is a usage error, exit 2), whatever
 * the command.
 */
function checkFlags(command: string, values: Values): void {
  if (command === 'test') emulations(values);
  else emulation(values);
  workerTransport(values);
  oneOf(values, 'reporter', REPORTERS);
  oneOf(values, 'format', FORMATS);
  retryOverride(values);
  positiveInt(values, 'request-timeout-ms');
  positiveInt(values, 'startup-timeout-ms');
  positiveInt(values, 'max-concurrency');
  positiveInt(values, 'grpc-port', 0);
  const inputs = [values.input, values['input-json'], values['input-yaml']].filter(
    (v) => v !== undefined,
  );
  if (inputs.length > 1)
    throw new UsageError('give only one of --input, --input-json, --input-yaml');
}

/** Entry point; returns the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.stderr(`error: ${(err as Error).message}\nRun "stepflow-packs --help" for usage.\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    io.stdout(`stepflow-packs ${VERSION}\n`);
    return EXIT.ok;
  }
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    io.stdout(HELP);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  try {
    if (!['run', 'test', 'list-components', 'validate'].includes(command))
      throw new UsageError(
        `unknown command ${JSON.stringify(command)} (expected run, test, list-components or validate)`,
      );
    checkFlags(command, values);
    switch (command) {
      case 'run':
        return await runCommand(values, rest, io);
      case 'test':
        return await testCommand(values, rest, io);
      case 'list-components':
        return await listCommand(values, io);
      case 'validate':
        return await validateCommand(values, rest, io);
      default:
        throw new UsageError(
          `unknown command ${JSON.stringify(command)} (expected run, test, list-components or validate)`,
        );
    }
  } catch (err) {
    if (
      err instanceof UsageError ||
      err instanceof ConfigError ||
      err instanceof FlowParseError ||
      err instanceof SourceError
    ) {
      io.stderr(`error: ${err.message}\n`);
      return EXIT.usage;
    }
    io.stderr(`error: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
}

/**
 * Read a flow and the config it runs with. Without `--emulate`, the release comes from the
 * syntax, and a 0.13 config turns a v0.11-syntax flow into a 0.13 one (the syntax is shared).
 */
function loadFlowAndConfig(
  file: string,
  values: Values,
  io: Io,
  forced?: Version,
): { flow: Flow; config: ReturnType<typeof discoverConfig>; locate: Locator } {
  const emulate = forced ?? emulation(values);
  const { doc, locate } = readFlowDoc(file, io);
  const syntax = isObject(doc) ? inferVersion(doc) : 'v0.11';
  const config = discoverConfig({
    explicit: values.config,
    flowFile: file,
    cwd: io.cwd,
    generation: emulate ? generationOf(emulate) : undefined,
  });
  const version =
    emulate ?? (syntax === 'v0.11' && config.generation === 'v0.13' ? 'v0.13' : syntax);
  if (version !== 'v0.8' && syntax === 'v0.8' && (version === 'v0.13' || forced))
    throw new UsageError(
      `${file}: a flow in the v0.8 ($from) syntax cannot run on Stepflow ${version === 'v0.13' ? '0.13' : version}`,
    );
  const { flow, warnings } = parseFlow(doc, { version, file, locate });
  for (const w of warnings) io.stderr(`warning: ${w}\n`);
  return { flow, config, locate };
}

function readFlowDoc(file: string, io: Io): { doc: Json; locate: Locator } {
  const full = resolve(io.cwd, file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read flow ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const document = parseYamlDocument(text, file);
  return { doc: toJson(document, file), locate: yamlLocator(document, file) };
}

/** The flow input: a flag, else stdin when it is not a terminal (empty: null), else null. */
async function readInput(values: Values, io: Io): Promise<Json> {
  if (values['input-json'] !== undefined) return parseYaml(values['input-json'], '--input-json');
  if (values['input-yaml'] !== undefined) return parseYaml(values['input-yaml'], '--input-yaml');
  if (values.input !== undefined) {
    const full = resolve(io.cwd, values.input);
    let text: string;
    try {
      text = readFileSync(full, 'utf8');
    } catch (err) {
      throw new UsageError(
        `cannot read input ${values.input}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    return parseYaml(text, values.input);
  }
  if (!io.stdin) return null;
  const text = await readBoundedText(io.stdin).catch((err: unknown) => {
    throw new UsageError((err as Error).message);
  });
  if (text === undefined || text.trim() === '') return null;
  return parseYaml(text, '<stdin>');
}

async function runCommand(values: Values, rest: string[], io: Io): Promise<number> {
  const flowFile = values.flow ?? rest[0];
  if (!flowFile) throw new UsageError('run needs --flow <FILE>');
  const choice = await engineChoice(values, io);
  const { flow, config } = loadFlowAndConfig(
    flowFile,
    values,
    io,
    choice.kind === 'stepflow-server' ? versionOfRelease(choice.release) : undefined,
  );
  const input = await readInput(values, io);
  let variables: JsonObject = {};
  if (values['variables-json'] !== undefined) {
    const v = parseYaml(values['variables-json'], '--variables-json');
    if (!isObject(v)) throw new UsageError('--variables-json: expected a JSON object');
    variables = v;
  }
  for (const w of config.warnings) io.stderr(`warning: ${w}\n`);
  const retry = retryOverride(values);
  const requestTimeoutMs = positiveInt(values, 'request-timeout-ms');
  const grpcPort = positiveInt(values, 'grpc-port', 0);
  let engine: FlowEngine;
  if (choice.kind === 'stepflow-server') {
    io.stderr(`running on ${engineLabel(choice)} (config: ${config.source})\n`);
    engine = await ServerEngine.start({
      binary: choice.binary,
      release: choice.release,
      config,
      label: flowFile,
      ...(requestTimeoutMs ? { runTimeoutSecs: Math.ceil(requestTimeoutMs / 1000) } : {}),
    });
  } else {
    io.stderr(`emulating Stepflow ${flow.version} (config: ${config.source})\n`);
    engine = await EmulatorEngine.start({
      version: flow.version,
      config,
      warn: (w) => io.stderr(`warning: ${w}\n`),
      ...(grpcPort !== undefined ? { grpcPort } : {}),
      onGrpcListening: (address) => io.stderr(`gRPC orchestrator listening on ${address}\n`),
      ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
      ...startupTimeout(values),
      ...(retry ? { retry } : {}),
      ...workerTransport(values),
    });
  }
  const untrack = track(() => engine.close());
  try {
    const { result, details } = await engine.run(flow, input, variables);
    if (details) io.stderr(`${details}\n`);
    for (const stats of engine.workerStats()) {
      if (stats.junkLines > 0)
        io.stderr(
          `warning: worker "${stats.name}" wrote ${stats.junkLines} non-protocol stdout line(s); they were skipped\n`,
        );
      if (stats.restarts > 0)
        io.stderr(`warning: worker "${stats.name}" was restarted ${stats.restarts} time(s)\n`);
    }
    const text = canonicalJson(result, { indent: 2 }) + '\n';
    io.stdout(text);
    if (values.output) writeFileSync(resolve(io.cwd, values.output), text);
    if (result.outcome === 'failed') {
      const failure = await describeFailure(
        engine instanceof EmulatorEngine ? engine.environment : undefined,
        result,
      );
      if (failure) io.stderr(`${failure}\n`);
    }
    return result.outcome === 'success' ? EXIT.ok : EXIT.failed;
  } finally {
    await engine.close();
    untrack();
  }
}

async function testCommand(values: Values, paths: string[], io: Io): Promise<number> {
  const kind = oneOf(values, 'reporter', REPORTERS) ?? 'human';
  const engine = await engineChoice(values, io);
  const versions =
    engine.kind === 'stepflow-server' ? [versionOfRelease(engine.release)] : emulations(values);
  const multi = versions !== undefined && versions.length > 1;
  if (multi && kind !== 'human')
    throw new UsageError('--emulate with several releases needs --reporter human');
  let reporter: Reporter;
  if (kind === 'human') reporter = new HumanReporter(io.stdout, io.stderr);
  else if (kind === 'json') reporter = new JsonReporter(io.stdout);
  else reporter = new JunitReporter(io.stdout);
  const retry = retryOverride(values);
  const requestTimeoutMs = positiveInt(values, 'request-timeout-ms');
  const maxConcurrency = positiveInt(values, 'max-concurrency');
  const common = {
    paths,
    cwd: io.cwd,
    reporter,
    ...(values.config ? { config: values.config } : {}),
    ...(values.case ? { cases: values.case } : {}),
    ...(maxConcurrency ? { maxConcurrency } : {}),
    ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
    ...startupTimeout(values),
    ...(retry ? { retry } : {}),
    stackSensitive: values['stack-sensitive'] ?? false,
    ...workerTransport(values),
    engine,
  };
  if (!multi) {
    const emulate = versions?.[0];
    const summary = await runTests({ ...common, ...(emulate ? { emulate } : {}) });
    reportUnmatchedCases(summary.unmatchedCases, io);
    return summary.failed > 0 || summary.unmatchedCases.length > 0 ? EXIT.failed : EXIT.ok;
  }
  const lines: string[] = [];
  let failed = 0;
  let unmatched: UnmatchedCase[] | undefined;
  for (const emulate of versions) {
    io.stdout(`\n=== Stepflow ${emulate} ===\n`);
    const s = await runTests({ ...common, emulate, nativeSyntaxOnly: true });
    failed += s.failed;
    // A name is unmatched when no generation has it (every run sees the same files).
    unmatched = unmatched?.filter((u) => s.unmatchedCases.some((v) => v.name === u.name)) ?? [
      ...s.unmatchedCases,
    ];
    lines.push(
      `${emulate.padEnd(6)} ${s.passed} passed, ${s.failed} failed, ${s.notApplicableCases} not applicable (${s.notApplicableFiles} file${s.notApplicableFiles === 1 ? '' : 's'} in another syntax) in ${(s.durationMs / 1000).toFixed(1)} s`,
    );
  }
  io.stdout(`\nSummary per generation:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
  reportUnmatchedCases(unmatched ?? [], io);
  return failed > 0 || (unmatched?.length ?? 0) > 0 ? EXIT.failed : EXIT.ok;
}

function reportUnmatchedCases(unmatched: UnmatchedCase[], io: Io): void {
  for (const u of unmatched) {
    const near = u.nearest.length
      ? `; nearest: ${u.nearest.map((n) => JSON.stringify(n)).join(', ')}`
      : '';
    const shown = u.available.slice(0, 20).map((n) => JSON.stringify(n));
    const more = u.available.length > 20 ? `, … (${u.available.length} in all)` : '';
    io.stderr(
      `error: --case ${JSON.stringify(u.name)} matches no test case${near}; available: ${shown.length ? shown.join(', ') + more : '(none)'}\n`,
    );
  }
}

function startupTimeout(values: Values): { startupTimeoutMs?: number } {
  const ms = positiveInt(values, 'startup-timeout-ms');
  return ms === undefined || ms === DEFAULT_STARTUP_TIMEOUT_MS ? {} : { startupTimeoutMs: ms };
}

async function listCommand(values: Values, io: Io): Promise<number> {
  const emulate = emulation(values);
  const config = discoverConfig({
    explicit: values.config,
    cwd: io.cwd,
    generation: emulate ? generationOf(emulate) : undefined,
  });
  for (const w of config.warnings) io.stderr(`warning: ${w}\n`);
  const version = emulate ?? (config.generation === 'v0.13' ? 'v0.13' : 'v0.11');
  const format = oneOf(values, 'format', FORMATS) ?? 'pretty';
  const env = await Environment.start({
    version,
    config,
    warn: (w) => io.stderr(`warning: ${w}\n`),
    ...startupTimeout(values),
    ...workerTransport(values),
  });
  const untrack = track(() => env.close());
  try {
    const rows = await componentRows(env);
    if (format === 'json') io.stdout(JSON.stringify(rows, null, 2) + '\n');
    else
      for (const row of rows)
        io.stdout(`${row.path.padEnd(32)} ${row.plugin.padEnd(12)} ${row.description ?? ''}\n`);
    return EXIT.ok;
  } finally {
    await env.close();
    untrack();
  }
}

async function validateCommand(values: Values, rest: string[], io: Io): Promise<number> {
  const flowFile = values.flow ?? rest[0];
  if (!flowFile) throw new UsageError('validate needs a flow file');
  let flow: Flow;
  let config: ReturnType<typeof discoverConfig>;
  let locate: Locator;
  try {
    ({ flow, config, locate } = loadFlowAndConfig(flowFile, values, io));
  } catch (err) {
    if (err instanceof FlowParseError || err instanceof SourceError) {
      io.stderr(`${err.message}\n`);
      return EXIT.failed;
    }
    throw err;
  }
  for (const w of config.warnings) io.stderr(`warning: ${w}\n`);
  const problems: string[] = [];
  for (const step of flow.steps) {
    const problem = checkComponentPath(config, flow.version, step.component);
    if (problem)
      problems.push(
        `${locate(['steps', step.index, 'component'])}: step "${step.id}": component ${step.component}: ${problem}`,
      );
  }
  if (problems.length) {
    io.stderr(problems.join('\n') + '\n');
    return EXIT.failed;
  }
  io.stdout(
    `${flowFile}: valid (${flow.version}, ${flow.steps.length} step${flow.steps.length === 1 ? '' : 's'}, config ${config.source})\n`,
  );
  return EXIT.ok;
}
