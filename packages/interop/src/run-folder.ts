import { basename, dirname, join } from 'node:path';
import {
  runTests,
  versionOfRelease,
  type CaseReport as RunnerCase,
  type Difference,
  type FileReport,
  type Json,
  type JsonObject,
  type Reporter,
} from '@stepflow-packs/runner';
import { exceptionFor } from './exceptions.js';
import type { Generation } from './generation.js';

export type CaseStatus = 'passed' | 'failed' | 'excepted' | 'skipped' | 'stale-exception';

export interface CaseReport {
  file: string;
  name: string;
  status: CaseStatus;
  /** Why a case failed, was excepted or skipped. */
  reason?: string;
  differences?: Difference[];
  expected?: Json;
  actual?: JsonObject;
  durationMs: number;
}

export interface FolderReport {
  generation: Generation;
  folder: string;
  cases: CaseReport[];
  durationMs: number;
}

export interface RunFolderOptions {
  /** Absolute path of workflows/<pack>. */
  folder: string;
  generation: Generation;
  /** Path of the stepflow-server binary for `generation`. */
  binary: string;
  /** Cases of one file run with at most this many runs in flight (default 4). */
  concurrency?: number;
  log?: (line: string) => void;
}

/** What one `runTests` call reported, case by case and file by file. */
interface Collected {
  cases: RunnerCase[];
  files: FileReport[];
  /** Files whose server (or workers) failed to start, with the explanation. */
  startFailures: FileReport[];
}

async function collect(
  options: Omit<Parameters<typeof runTests>[0], 'reporter'>,
): Promise<Collected> {
  const out: Collected = { cases: [], files: [], startFailures: [] };
  const reporter: Reporter = {
    start() {},
    file: (report) => void out.files.push(report),
    startFailed: (report) => void out.startFailures.push(report),
    caseDone: (report) => void out.cases.push(report),
    warning() {},
    end() {},
  };
  await runTests({ ...options, reporter });
  return out;
}

/**
 * Run every test case of a workflows/<pack> folder on a real stepflow-server through the
 * runner's server engine (`stepflow-packs test --engine stepflow-server`: one server per flow
 * file, with the config the runner resolves), and apply the exceptions list.
 */
export async function runFolder(options: RunFolderOptions): Promise<FolderReport> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { cases, files, startFailures } = await collect({
    paths: [options.folder],
    cwd: dirname(options.folder),
    engine: { kind: 'stepflow-server', binary: options.binary, release: options.generation },
    maxConcurrency: options.concurrency ?? 4,
  });
  const report: FolderReport = {
    generation: options.generation,
    folder: basename(options.folder),
    cases: [],
    durationMs: 0,
  };
  for (const file of startFailures)
    log(`[${options.generation}] ${file.file}: ${file.startError ?? 'failed to start'}`);
  for (const file of files.filter((f) => f.status === 'not-applicable'))
    report.cases.push({
      file: file.file,
      name: '(every case)',
      status: 'skipped',
      reason: file.message ?? 'not applicable',
      durationMs: 0,
    });
  for (const file of files.filter((f) => f.status === 'error'))
    report.cases.push({
      file: file.file,
      name: '(file)',
      status: 'failed',
      reason: file.message ?? 'the flow file could not be read',
      durationMs: 0,
    });
  for (const c of cases) {
    const entry = withException(options.generation, {
      file: c.file,
      name: c.name,
      status: c.status === 'passed' ? 'passed' : 'failed',
      durationMs: c.durationMs,
      ...(c.status === 'passed' ? {} : { reason: describe(c) }),
      ...(c.differences ? { differences: c.differences } : {}),
      ...(c.expected !== undefined ? { expected: c.expected } : {}),
      ...(c.actual !== undefined ? { actual: c.actual as JsonObject } : {}),
    });
    report.cases.push(entry);
    if (entry.status !== 'passed' || process.env.STEPFLOW_INTEROP_VERBOSE)
      log(
        `[${options.generation}] ${entry.status.padEnd(8)} ${entry.file} › ${entry.name}${entry.status === 'failed' && entry.reason ? ` — ${entry.reason}` : ''}`,
      );
  }
  report.durationMs = performance.now() - started;
  return report;
}

/**
 * The same folder through the runner's emulation of the server's release: what `--engine
 * emulator` reports for each case (the actual FlowResults, for the parity check).
 */
export async function emulateFolder(folder: string, generation: Generation): Promise<RunnerCase[]> {
  const { cases } = await collect({
    paths: [folder],
    cwd: dirname(folder),
    emulate: versionOfRelease(generation),
    nativeSyntaxOnly: true,
  });
  return cases;
}

function withException(generation: Generation, c: CaseReport): CaseReport {
  const exception = exceptionFor(generation, c.file, c.name);
  if (!exception || (exception.nondeterministic && c.status === 'passed')) return c;
  return c.status === 'passed'
    ? {
        ...c,
        status: 'stale-exception',
        reason: `passes, but is listed as an exception: ${exception.reason}`,
      }
    : { ...c, status: 'excepted', reason: exception.reason };
}

function describe(c: RunnerCase): string {
  const differences = (c.differences ?? [])
    .slice(0, 5)
    .map(
      (d) =>
        `${d.path}: ${d.problem}${'expected' in d ? ` (expected ${JSON.stringify(d.expected)}` : ''}${'actual' in d ? `${'expected' in d ? ', ' : ' ('}actual ${JSON.stringify(d.actual)})` : 'expected' in d ? ')' : ''}`,
    )
    .join('; ');
  const failed =
    c.actual !== undefined && (c.actual as JsonObject).outcome === 'failed'
      ? ` — the run failed: ${JSON.stringify((c.actual as JsonObject).error)}`
      : '';
  return [differences + failed, c.message].filter(Boolean).join('\n    ');
}

/** Folder of workflows/<pack> from the repository root. */
export function workflowsFolder(repoRoot: string, pack: string): string {
  return join(repoRoot, 'workflows', pack);
}
