import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import {
  CONFIG_NAMES,
  generationOf,
  resolveTestConfig,
  TEST_CONFIG_NAMES,
  V013_CONFIG_NAMES,
} from '../config/discovery.js';
import type { RetryConfig } from '../config/types.js';
import { EmulatorEngine } from '../engine/emulator.js';
import { versionOfRelease, type ServerRelease } from '../engine/release.js';
import { ServerEngine } from '../engine/server-engine.js';
import type { FlowEngine } from '../engine/types.js';
import type { Flow, Version } from '../flow/model.js';
import { FLOW_SCHEMA_URL, inferVersion, parseFlow } from '../flow/parse.js';
import { parseYamlDocument, toJson } from '../json/yaml.js';
import { yamlLocator, type Locator } from '../flow/locate.js';
import { describeFailure } from '../execute/component-paths.js';
import { PluginStartError } from '../plugins/start-error.js';
import { nearest } from '../text/suggest.js';
import { isObject, type Json, type JsonObject } from '../json/value.js';
import { track } from '../lifecycle.js';
import { awaitAnnouncements } from './announce.js';
import { parseTestSection, type TestCase, type TestSection } from './cases.js';
import { compareResults } from './compare.js';
import type {
  CaseReport,
  FileReport,
  Reporter,
  Summary,
  UnmatchedCase,
} from './reporters/types.js';
import { startServers, stopServers, substituteInJson, type Placeholders } from './servers.js';

export interface TestOptions {
  paths: string[];
  config?: string;
  emulate?: Version;
  /**
   * Run a flow only on releases that read its syntax: v0.8-syntax flows are not applicable to
   * v0.11/0.13, v0.11-syntax flows not to v0.8 (multi-generation runs). Without it, only
   * v0.8-syntax flows under 0.13 are not applicable.
   */
  nativeSyntaxOnly?: boolean;
  cases?: string[];
  maxConcurrency?: number;
  requestTimeoutMs?: number;
  retry?: Partial<RetryConfig>;
  /** Bound on each worker's start (default 30 s). */
  startupTimeoutMs?: number;
  stackSensitive?: boolean;
  workerTransport?: 'stdio' | 'http';
  /**
   * What runs the cases (default: the runner's emulation). With a real `stepflow-server`, set
   * `emulate` to its release's version (`versionOfRelease`): configs and semantics follow it.
   */
  engine?: EngineChoice;
  cwd?: string;
  reporter: Reporter;
}

/** The runner's emulation, or a real `stepflow-server` binary of a known release. */
export type EngineChoice =
  { kind: 'emulator' } | { kind: 'stepflow-server'; binary: string; release: ServerRelease };

/** How reports name an engine. */
export function engineLabel(engine: EngineChoice | undefined): string {
  return engine?.kind === 'stepflow-server'
    ? `stepflow-server ${engine.release} (${engine.binary})`
    : 'emulator';
}

const CONFIG_FILES = new Set([...CONFIG_NAMES, ...TEST_CONFIG_NAMES, ...V013_CONFIG_NAMES]);
const FLOW_KEYS = ['steps', 'output', 'test', 'schema'];

/** Flow candidates: files as given, directories searched recursively for .yaml/.yml. */
export function collectFiles(paths: string[], cwd: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(entry.name) && !CONFIG_FILES.has(entry.name)) out.push(full);
    }
  };
  for (const p of paths) {
    const full = resolve(cwd, p);
    const stat = statSync(full, { throwIfNoEntry: false });
    if (!stat) throw new Error(`${p}: no such file or directory`);
    if (stat.isDirectory()) walk(full);
    else out.push(full);
  }
  return [...new Set(out)];
}

interface Prepared {
  file: string;
  display: string;
  report: FileReport;
  flow?: Flow;
  test?: TestSection;
  cases: TestCase[];
  /** Every case name of the file (before `--case` selection). */
  caseNames?: string[];
}

function prepare(file: string, options: TestOptions, cwd: string): Prepared {
  const display = relative(cwd, file) || basename(file);
  const warnings: string[] = [];
  const base = { file: display, warnings };
  const done = (report: Omit<FileReport, 'file' | 'warnings'>): Prepared => ({
    file,
    display,
    report: { ...base, ...report },
    cases: [],
  });
  let doc: Json;
  let locate: Locator;
  try {
    const document = parseYamlDocument(readFileSync(file, 'utf8'), display);
    doc = toJson(document, display);
    locate = yamlLocator(document, display);
  } catch (err) {
    return done({ status: 'error', message: (err as Error).message });
  }
  if (!isObject(doc) || !FLOW_KEYS.some((k) => k in doc))
    return done({ status: 'skipped', message: 'not a flow file' });
  const syntax = inferVersion(doc);
  let version: Version = options.emulate ?? syntax;
  const foreign =
    (version !== 'v0.8' &&
      syntax === 'v0.8' &&
      (version === 'v0.13' || options.nativeSyntaxOnly)) ||
    (version === 'v0.8' && syntax === 'v0.11' && options.nativeSyntaxOnly);
  if (foreign) {
    let count: TestCase[] = [];
    try {
      count = parseTestSection(doc.test, display, () => {})?.cases ?? [];
    } catch {
      /* counted as zero */
    }
    return {
      ...done({
        status: 'not-applicable',
        version,
        message: `written in the ${syntax === 'v0.8' ? 'v0.8 ($from)' : 'v0.11 ($step/$input)'} syntax, which Stepflow ${version} cannot read`,
      }),
      cases: count,
      caseNames: count.map((c) => c.name),
    };
  }
  if (version === 'v0.8' && doc.schema !== FLOW_SCHEMA_URL) {
    return done({
      status: 'skipped',
      version,
      message: `v0.8 ignores YAML files without "schema: ${FLOW_SCHEMA_URL}"`,
    });
  }
  let test: TestSection | undefined;
  try {
    test = parseTestSection(doc.test, display, (w) => warnings.push(w));
  } catch (err) {
    return done({ status: 'error', version, message: (err as Error).message });
  }
  const selected = (test?.cases ?? []).filter(
    (c) => !options.cases?.length || options.cases.includes(c.name),
  );
  const caseNames = (test?.cases ?? []).map((c) => c.name);
  if (!test || selected.length === 0)
    return { ...done({ status: 'no-tests', version }), caseNames };
  if (
    !options.emulate &&
    syntax === 'v0.11' &&
    configGeneration(file, test, options, cwd) === 'v0.13'
  )
    version = 'v0.13'; // 0.13 flows read like v0.11 ones: the config tells them apart
  let flow: Flow;
  try {
    const parsed = parseFlow(doc, { version, file: display, locate });
    warnings.push(...parsed.warnings);
    flow = parsed.flow;
  } catch (err) {
    return {
      file,
      display,
      report: { ...base, status: 'error', version, message: (err as Error).message },
      test,
      cases: selected,
      caseNames,
    };
  }
  return {
    file,
    display,
    report: { ...base, status: 'ran', version },
    flow,
    test,
    cases: selected,
    caseNames,
  };
}

/**
 * Run every selected case of every flow file; `failed` counts failed and errored cases and
 * unreadable files.
 */
export async function runTests(given: TestOptions): Promise<Summary> {
  // A real server is one release: its configs and semantics apply, and it reads one syntax.
  const options: TestOptions =
    given.engine?.kind === 'stepflow-server'
      ? { ...given, emulate: versionOfRelease(given.engine.release), nativeSyntaxOnly: true }
      : given;
  const started = performance.now();
  const cwd = options.cwd ?? process.cwd();
  const reporter = options.reporter;
  const prepared = collectFiles(options.paths.length ? options.paths : ['.'], cwd).map((f) =>
    prepare(f, options, cwd),
  );
  const total = prepared
    .filter((p) => p.report.status !== 'not-applicable')
    .reduce((n, p) => n + p.cases.length, 0);
  const cases: CaseReport[] = [];
  const files: FileReport[] = [];
  reporter.start(total);
  const record = (report: CaseReport) => {
    cases.push(report);
    reporter.caseDone(report, { done: cases.length, total });
  };
  for (const p of prepared) {
    files.push(p.report);
    reporter.file(p.report);
    if (p.cases.length === 0) continue;
    const version = p.report.version ?? 'v0.11';
    if (p.report.status === 'not-applicable') continue;
    if (!p.flow) {
      for (const c of p.cases)
        record({
          file: p.display,
          name: c.name,
          status: 'error',
          durationMs: 0,
          version,
          message: p.report.message ?? 'the flow could not be parsed',
        });
      continue;
    }
    await runFile(p, p.flow, version, options, cwd, record, (w) =>
      reporter.warning(`${p.display}: ${w}`),
    );
  }
  const failedCases = cases.filter((c) => c.status !== 'passed').length;
  const fileErrors = prepared.filter(
    (p) => p.report.status === 'error' && p.cases.length === 0,
  ).length;
  const unmatchedCases = unmatched(options.cases ?? [], prepared);
  const summary: Summary = {
    passed: cases.length - failedCases,
    failed: failedCases + fileErrors,
    fileErrors,
    errors: cases.filter((c) => c.status === 'error').length,
    files: files.length,
    skippedFiles: files.filter((f) => f.status === 'skipped').length,
    notApplicableFiles: files.filter((f) => f.status === 'not-applicable').length,
    notApplicableCases: prepared
      .filter((p) => p.report.status === 'not-applicable')
      .reduce((n, p) => n + p.cases.length, 0),
    versions: [...new Set(cases.map((c) => c.version))],
    unmatchedCases,
    engine: engineLabel(options.engine),
    noTestFiles: files.filter((f) => f.status === 'no-tests').length,
    durationMs: performance.now() - started,
  };
  reporter.end(summary, cases, files);
  return summary;
}

/** `--case` names no file has, with the nearest and all available names. */
function unmatched(wanted: string[], prepared: Prepared[]): UnmatchedCase[] {
  const available = [...new Set(prepared.flatMap((p) => p.caseNames ?? []))].sort();
  return [...new Set(wanted)]
    .filter((name) => !available.includes(name))
    .map((name) => ({ name, nearest: nearest(name, available), available }));
}

async function runFile(
  p: Prepared,
  flow: Flow,
  version: Version,
  options: TestOptions,
  cwd: string,
  record: (report: CaseReport) => void,
  warn: (message: string) => void,
): Promise<void> {
  const test = p.test!;
  const errorAll = (message: string) => {
    for (const c of p.cases)
      record({ file: p.display, name: c.name, status: 'error', durationMs: 0, version, message });
  };
  let placeholders: Placeholders = new Map();
  let servers: Awaited<ReturnType<typeof startServers>>['servers'] = [];
  const untrackServers = track(() => stopServers(servers, test.servers));
  let engine: FlowEngine | undefined;
  let untrackEngine = () => {};
  const server = options.engine?.kind === 'stepflow-server' ? options.engine : undefined;
  try {
    if (test.servers.length > 0) {
      try {
        ({ servers, placeholders } = await startServers(test.servers, dirname(p.file)));
        // A real server gets no transport retries from the runner: wait until each test
        // server that announces `{"port":N}` has done so (PostgreSQL accepts connections
        // before it can serve).
        if (server) await awaitAnnouncements(servers, test.servers, warn);
      } catch (err) {
        return errorAll(`test servers failed to start: ${(err as Error).message}`);
      }
    }
    let config;
    try {
      config = resolveTestConfig({
        explicit: options.config,
        flowFile: p.file,
        version,
        generation: options.emulate || version === 'v0.13' ? generationOf(version) : undefined,
        test:
          test.config !== undefined
            ? {
                config: substituteInJson(test.config, placeholders),
                ...(test.configFile ? { configFile: test.configFile } : {}),
              }
            : test,
        cwd,
        warn,
      });
    } catch (err) {
      return errorAll((err as Error).message);
    }
    for (const w of config.warnings) warn(w);
    try {
      engine = server
        ? await ServerEngine.start({
            binary: server.binary,
            release: server.release,
            config,
            label: p.display,
            ...(options.requestTimeoutMs
              ? { runTimeoutSecs: Math.ceil(options.requestTimeoutMs / 1000) }
              : {}),
          })
        : await EmulatorEngine.start({
            version,
            config,
            warn,
            ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
            ...(options.retry ? { retry: options.retry } : {}),
            ...(options.workerTransport ? { workerTransport: options.workerTransport } : {}),
            ...(options.startupTimeoutMs ? { startupTimeoutMs: options.startupTimeoutMs } : {}),
          });
    } catch (err) {
      if (server) return errorAll((err as Error).message);
      // The full account (command, working folder, stderr, hints) once; a reference per case.
      p.report.startError = (err as Error).message;
      options.reporter.startFailed(p.report);
      return errorAll(
        `the runtime environment failed to start: ${err instanceof PluginStartError ? `plugin "${err.plugin}" failed to start` : ((err as Error).message.split('\n')[0] ?? '')} (reported once for ${p.display})`,
      );
    }
    const live = engine;
    untrackEngine = track(() => live.close());
    const runCase = async (c: TestCase) => {
      const t0 = performance.now();
      const input = substituteInJson(c.input, placeholders);
      const expected =
        c.output === undefined ? undefined : substituteInJson(c.output, placeholders);
      let actual: JsonObject;
      let details: string | undefined;
      try {
        ({ result: actual, details } = await live.run(flow, input));
      } catch (err) {
        return record({
          file: p.display,
          name: c.name,
          status: 'error',
          durationMs: performance.now() - t0,
          version,
          message: (err as Error).message,
        });
      }
      const durationMs = performance.now() - t0;
      const base = { file: p.display, name: c.name, durationMs, version, actual };
      // A failed case whose run failed names the step, code and message (and a close path).
      const failure = async () => {
        const text =
          actual.outcome === 'failed'
            ? await describeFailure(
                live instanceof EmulatorEngine ? live.environment : undefined,
                actual,
              )
            : undefined;
        return text ? { failure: text } : {};
      };
      if (expected === undefined)
        return record({
          ...base,
          status: 'failed',
          message: 'the case has no expected output',
          ...(await failure()),
        });
      const differences = compareResults(live.expectation(expected), actual, {
        mode: version === 'v0.8' ? 'exact' : 'subset',
        codeNames: version === 'v0.13',
        stackSensitive: options.stackSensitive ?? false,
      });
      record({
        ...base,
        ...(differences.length ? await failure() : {}),
        expected,
        status: differences.length ? 'failed' : 'passed',
        ...(differences.length ? { differences } : {}),
        ...(differences.length && details ? { message: details } : {}),
      });
    };
    if (version === 'v0.8') {
      for (const c of p.cases) await runCase(c);
    } else {
      // v0.11 runs a file's cases as one batch with bounded concurrency.
      let next = 0;
      const lane = async () => {
        while (next < p.cases.length) await runCase(p.cases[next++]!);
      };
      await Promise.all(
        Array.from({ length: Math.min(options.maxConcurrency ?? 10, p.cases.length) }, lane),
      );
    }
    p.report.workers = engine.workerStats();
    for (const stats of engine.workerStats()) {
      if (stats.junkLines > 0)
        warn(
          `worker "${stats.name}" wrote ${stats.junkLines} non-protocol stdout line(s); they were skipped`,
        );
      if (stats.restarts > 0)
        warn(`worker "${stats.name}" was restarted ${stats.restarts} time(s)`);
    }
  } finally {
    await engine?.close();
    untrackEngine();
    await stopServers(servers, test.servers);
    untrackServers();
  }
}

/** The format of the config a flow file would use (`legacy` when it cannot be read). */
function configGeneration(
  file: string,
  test: TestSection,
  options: TestOptions,
  cwd: string,
): 'legacy' | 'v0.13' {
  try {
    return resolveTestConfig({
      explicit: options.config,
      flowFile: file,
      version: 'v0.11',
      test,
      cwd,
    }).generation;
  } catch {
    return 'legacy';
  }
}
