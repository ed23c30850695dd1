import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { discoverConfig } from './config/discovery.js';
import { ConfigError } from './config/load.js';
import type { RetryConfig } from './config/types.js';
import { Environment } from './execute/environment.js';
import { toFlowResult } from './execute/result.js';
import type { Flow, Version } from './flow/model.js';
import { FlowParseError, inferVersion, parseFlow } from './flow/parse.js';
import { canonicalJson } from './json/canonical.js';
import { isObject, type Json, type JsonObject } from './json/value.js';
import { parseYaml, SourceError } from './json/yaml.js';
import { track } from './lifecycle.js';
import { HumanReporter } from './testing/reporters/human.js';
import { JsonReporter } from './testing/reporters/json.js';
import { JunitReporter } from './testing/reporters/junit.js';
import type { Reporter } from './testing/reporters/types.js';
import { runTests } from './testing/run-tests.js';

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  cwd: string;
}

const { version: VERSION } = createRequire(import.meta.url)('../package.json') as {
  version: string;
};

/** Exit codes (documented in the README). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

class UsageError extends Error {}

const HELP = `stepflow-packs ${VERSION} — run and test Stepflow flows locally (Stepflow v0.8 / v0.11 semantics)

Usage:
  stepflow-packs run --flow <FILE> [--input <FILE> | --input-json <JSON> | --input-yaml <YAML>] [options]
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
  --emulate <v0.8|v0.11>     Stepflow release to imitate (default: inferred from the flow syntax)
  --request-timeout-ms <N>   per-request worker timeout (default 300000; never infinite)
  --backoff-ms <N>           constant delay between retries instead of the configured backoff
  --transport-max-retries <N> transport retries per step (default: config retry, else 3)
  --worker-transport <auto|stdio|http>
                             launch command workers over stdio or HTTP subprocess whatever the
                             emulated release (default auto: v0.8 per config, v0.11 HTTP)
  --variables-json <JSON>    variables for run (an object)
  --output <FILE>            run: also write the FlowResult to FILE
  --case <NAME>              test: only cases with this name (repeatable)
  --reporter <human|json|junit>  test: output format (default human)
  --max-concurrency <N>      test: parallel cases per file in v0.11 mode (default 10)
  --stack-sensitive          test: also compare error.data.stack (ignored by default)
  --format <pretty|json>     list-components output (default pretty)
  -h, --help                 show this help
  -V, --version              show the version

Exit codes: 0 success; 1 the flow failed (run) / number of failed cases, at most 100 (test) /
invalid flow (validate); 2 usage, config or flow-file errors; 130/143 interrupted.
`;

const OPTIONS = {
  flow: { type: 'string' },
  input: { type: 'string' },
  'input-json': { type: 'string' },
  'input-yaml': { type: 'string' },
  config: { type: 'string' },
  emulate: { type: 'string' },
  'request-timeout-ms': { type: 'string' },
  'backoff-ms': { type: 'string' },
  'transport-max-retries': { type: 'string' },
  'variables-json': { type: 'string' },
  'worker-transport': { type: 'string' },
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
  name: 'request-timeout-ms' | 'max-concurrency' | 'backoff-ms' | 'transport-max-retries',
  min = 1,
): number | undefined {
  const text = values[name];
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min)
    throw new UsageError(`--${name}: expected an integer >= ${min}, got ${JSON.stringify(text)}`);
  return n;
}

function emulation(values: Values): Version | undefined {
  const v = values.emulate;
  if (v === undefined) return undefined;
  if (v === 'v0.8' || v === '0.8' || v === 'v0.8.0') return 'v0.8';
  if (v === 'v0.11' || v === '0.11' || v === 'v0.11.1') return 'v0.11';
  throw new UsageError(`--emulate: expected v0.8 or v0.11, got ${JSON.stringify(v)}`);
}

function workerTransport(values: Values): { workerTransport?: 'stdio' | 'http' } {
  const v = values['worker-transport'];
  if (v === undefined || v === 'auto') return {};
  if (v === 'stdio' || v === 'http') return { workerTransport: v };
  throw new UsageError(
    `--worker-transport: expected auto, stdio or http, got ${JSON.stringify(v)}`,
  );
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

function loadFlow(file: string, version: Version | undefined, io: Io): Flow {
  const full = resolve(io.cwd, file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read flow ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const doc = parseYaml(text, file);
  const emulated = version ?? (isObject(doc) ? inferVersion(doc) : 'v0.11');
  const { flow, warnings } = parseFlow(doc, { version: emulated, file });
  for (const w of warnings) io.stderr(`warning: ${w}\n`);
  return flow;
}

function readInput(values: Values, io: Io): Json {
  const given = [values.input, values['input-json'], values['input-yaml']].filter(
    (v) => v !== undefined,
  );
  if (given.length > 1)
    throw new UsageError('give only one of --input, --input-json, --input-yaml');
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
  return null;
}

async function runCommand(values: Values, rest: string[], io: Io): Promise<number> {
  const flowFile = values.flow ?? rest[0];
  if (!flowFile) throw new UsageError('run needs --flow <FILE>');
  const flow = loadFlow(flowFile, emulation(values), io);
  const input = readInput(values, io);
  let variables: JsonObject = {};
  if (values['variables-json'] !== undefined) {
    const v = parseYaml(values['variables-json'], '--variables-json');
    if (!isObject(v)) throw new UsageError('--variables-json: expected a JSON object');
    variables = v;
  }
  const config = discoverConfig({ explicit: values.config, flowFile, cwd: io.cwd });
  for (const w of config.warnings) io.stderr(`warning: ${w}\n`);
  const retry = retryOverride(values);
  const requestTimeoutMs = positiveInt(values, 'request-timeout-ms');
  const env = await Environment.start({
    version: flow.version,
    config,
    warn: (w) => io.stderr(`warning: ${w}\n`),
    ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
    ...(retry ? { retry } : {}),
    ...workerTransport(values),
  });
  const untrack = track(() => env.close());
  try {
    const { result } = await env.run(flow, input, variables);
    for (const stats of env.workerStats()) {
      if (stats.junkLines > 0)
        io.stderr(
          `warning: worker "${stats.name}" wrote ${stats.junkLines} non-protocol stdout line(s); they were skipped\n`,
        );
      if (stats.restarts > 0)
        io.stderr(`warning: worker "${stats.name}" was restarted ${stats.restarts} time(s)\n`);
    }
    const text = canonicalJson(toFlowResult(result), { indent: 2 }) + '\n';
    io.stdout(text);
    if (values.output) writeFileSync(resolve(io.cwd, values.output), text);
    return result.outcome === 'success' ? EXIT.ok : EXIT.failed;
  } finally {
    await env.close();
    untrack();
  }
}

async function testCommand(values: Values, paths: string[], io: Io): Promise<number> {
  const kind = values.reporter ?? 'human';
  let reporter: Reporter;
  if (kind === 'human') reporter = new HumanReporter(io.stdout, io.stderr);
  else if (kind === 'json') reporter = new JsonReporter(io.stdout);
  else if (kind === 'junit') reporter = new JunitReporter(io.stdout);
  else
    throw new UsageError(`--reporter: expected human, json or junit, got ${JSON.stringify(kind)}`);
  const emulate = emulation(values);
  const retry = retryOverride(values);
  const requestTimeoutMs = positiveInt(values, 'request-timeout-ms');
  const maxConcurrency = positiveInt(values, 'max-concurrency');
  const summary = await runTests({
    paths,
    cwd: io.cwd,
    reporter,
    ...(values.config ? { config: values.config } : {}),
    ...(emulate ? { emulate } : {}),
    ...(values.case ? { cases: values.case } : {}),
    ...(maxConcurrency ? { maxConcurrency } : {}),
    ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
    ...(retry ? { retry } : {}),
    stackSensitive: values['stack-sensitive'] ?? false,
    ...workerTransport(values),
  });
  return Math.min(summary.failed, 100);
}

/** Flow path of a listed component under a route pattern (spec protocol.md §8.4). */
function flowPath(pattern: string, name: string): string {
  if (/\{\*component\}/.test(pattern))
    return pattern.replace('{*component}', name.replace(/^\//, ''));
  return pattern.replace('{component}', name).replace(/\/\/+/g, '/');
}

async function listCommand(values: Values, io: Io): Promise<number> {
  const config = discoverConfig({ explicit: values.config, cwd: io.cwd });
  for (const w of config.warnings) io.stderr(`warning: ${w}\n`);
  const version = emulation(values) ?? 'v0.11';
  const env = await Environment.start({
    version,
    config,
    warn: (w) => io.stderr(`warning: ${w}\n`),
    ...workerTransport(values),
  });
  const untrack = track(() => env.close());
  try {
    const rows: { path: string; plugin: string; component: string; description?: string }[] = [];
    for (const [name, plugin] of env.plugins) {
      const patterns = config.routes.patterns
        .filter((r) => r.rules.some((rule) => rule.plugin === name))
        .map((r) => r.pattern);
      for (const info of await plugin.list()) {
        for (const pattern of patterns.length ? patterns : ['(unrouted)']) {
          rows.push({
            path: patterns.length ? flowPath(pattern, info.component) : '(unrouted)',
            plugin: name,
            component: info.component,
            ...(info.description ? { description: info.description } : {}),
          });
        }
      }
    }
    if (values.format === 'json') io.stdout(JSON.stringify(rows, null, 2) + '\n');
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
  try {
    flow = loadFlow(flowFile, emulation(values), io);
  } catch (err) {
    if (err instanceof FlowParseError || err instanceof SourceError) {
      io.stderr(`${err.message}\n`);
      return EXIT.failed;
    }
    throw err;
  }
  const config = discoverConfig({ explicit: values.config, flowFile, cwd: io.cwd });
  for (const w of config.warnings) io.stderr(`warning: ${w}\n`);
  const problems: string[] = [];
  for (const step of flow.steps) {
    try {
      config.routes.resolve(step.component, null);
    } catch (err) {
      if (!/condition path/.test((err as Error).message))
        problems.push(
          `${flowFile}: step "${step.id}": component ${step.component}: ${(err as Error).message}`,
        );
    }
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
