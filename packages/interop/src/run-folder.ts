import { basename, dirname, join } from 'node:path';
import {
  awaitAnnouncements,
  startServers,
  stopServers,
  substituteInJson,
  type Difference,
  type Json,
  type JsonObject,
  type Placeholders,
  type RunningServer,
  StepflowServer,
} from '@stepflow-packs/runner';
import { fileConfig, folderConfig, hasOwnConfig, type ServerConfig } from './config.js';
import { exceptionFor } from './exceptions.js';
import { expectedFor, compareCase } from './expect.js';
import { loadFolder, type FlowFile } from './folder.js';
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
  /** Per-run wait on the server (default 60 s). */
  runTimeoutSecs?: number;
  log?: (line: string) => void;
}

/**
 * Run every test case of a workflows/<pack> folder on a real stepflow-server: files that share
 * the folder config share one server; a file with its own config (inline `test.config`) gets
 * its own, started after its `test.servers`.
 */
export async function runFolder(options: RunFolderOptions): Promise<FolderReport> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const workflowsRoot = dirname(options.folder);
  const files = loadFolder(options.folder, workflowsRoot);
  const report: FolderReport = {
    generation: options.generation,
    folder: basename(options.folder),
    cases: [],
    durationMs: 0,
  };
  const runnable: FlowFile[] = [];
  for (const file of files) {
    if (file.skipReason) {
      for (const c of file.test.cases)
        report.cases.push({
          file: file.name,
          name: c.name,
          status: 'skipped',
          reason: file.skipReason,
          durationMs: 0,
        });
    } else runnable.push(file);
  }
  const shared = runnable.filter((f) => !hasOwnConfig(f));
  const own = runnable.filter(hasOwnConfig);
  const ctx: Ctx = { options, log, report };
  if (shared.length > 0) {
    await withServer(
      ctx,
      folderConfig(options.folder, options.generation),
      shared,
      async (server) => {
        for (const file of shared)
          await withTestServers(ctx, file, (placeholders) =>
            runFile(ctx, server, file, placeholders),
          );
      },
    );
  }
  for (const file of own) {
    await withTestServers(ctx, file, async (placeholders) => {
      let config: ServerConfig;
      try {
        config = fileConfig(file, options.folder, options.generation, placeholders);
      } catch (err) {
        return errorAll(ctx, [file], `config: ${(err as Error).message}`);
      }
      await withServer(ctx, config, [file], (server) => runFile(ctx, server, file, placeholders));
    });
  }
  report.durationMs = performance.now() - started;
  return report;
}

interface Ctx {
  options: RunFolderOptions;
  log: (line: string) => void;
  report: FolderReport;
}

function record(ctx: Ctx, file: FlowFile, c: Omit<CaseReport, 'file'>): void {
  const exception = exceptionFor(ctx.options.generation, file.name, c.name);
  let entry: CaseReport = { file: file.name, ...c };
  if (exception && !(exception.nondeterministic && c.status === 'passed')) {
    entry =
      c.status === 'passed'
        ? {
            ...entry,
            status: 'stale-exception',
            reason: `passes, but is listed as an exception: ${exception.reason}`,
          }
        : { ...entry, status: 'excepted', reason: exception.reason };
  }
  ctx.report.cases.push(entry);
  if (entry.status === 'passed' && !process.env.STEPFLOW_INTEROP_VERBOSE) return;
  ctx.log(
    `[${ctx.options.generation}] ${entry.status.padEnd(8)} ${file.name} › ${c.name}${entry.status === 'failed' && entry.reason ? ` — ${entry.reason}` : ''}`,
  );
}

function errorAll(ctx: Ctx, files: FlowFile[], reason: string): void {
  for (const file of files)
    for (const c of file.test.cases)
      record(ctx, file, { name: c.name, status: 'failed', reason, durationMs: 0 });
}

async function withServer(
  ctx: Ctx,
  config: ServerConfig,
  files: FlowFile[],
  body: (server: StepflowServer) => Promise<void>,
): Promise<void> {
  let server: StepflowServer | undefined;
  try {
    const t0 = performance.now();
    server = await StepflowServer.start({
      binary: ctx.options.binary,
      generation: ctx.options.generation,
      config: config.path,
      plugins: config.processPlugins,
    });
    ctx.log(
      `[${ctx.options.generation}] stepflow-server on port ${server.port} (${Math.round(performance.now() - t0)} ms to start) for ${files.map((f) => f.name).join(', ')}`,
    );
  } catch (err) {
    config.dispose();
    return errorAll(ctx, files, `stepflow-server failed to start: ${(err as Error).message}`);
  }
  const before = ctx.report.cases.length;
  try {
    await body(server);
  } finally {
    if (ctx.report.cases.slice(before).some((c) => c.status === 'failed'))
      ctx.log(
        `[${ctx.options.generation}] last output of stepflow-server and its workers:\n  ${server.tail(40)}`,
      );
    await server.stop();
    config.dispose();
  }
}

async function withTestServers(
  ctx: Ctx,
  file: FlowFile,
  body: (placeholders: Placeholders) => Promise<void>,
): Promise<void> {
  if (file.test.servers.length === 0) return body(new Map());
  let servers: RunningServer[];
  let placeholders: Placeholders;
  try {
    ({ servers, placeholders } = await startServers(file.test.servers, dirname(file.file)));
  } catch (err) {
    return errorAll(ctx, [file], `test servers failed to start: ${(err as Error).message}`);
  }
  try {
    await awaitAnnouncements(servers, file.test.servers, ctx.log);
  } catch (err) {
    await stopServers(servers, file.test.servers);
    return errorAll(ctx, [file], `test servers failed to start: ${(err as Error).message}`);
  }
  try {
    await body(placeholders);
  } finally {
    await stopServers(servers, file.test.servers);
  }
}

async function runFile(
  ctx: Ctx,
  server: StepflowServer,
  file: FlowFile,
  placeholders: Placeholders,
): Promise<void> {
  let flowId: string;
  try {
    flowId = await server.client.storeFlow(file.flow);
  } catch (err) {
    return errorAll(ctx, [file], `${(err as Error).message}\n  server output:\n  ${server.tail()}`);
  }
  const cases = file.test.cases;
  let next = 0;
  const lane = async () => {
    while (next < cases.length) {
      const c = cases[next++]!;
      const t0 = performance.now();
      const input = substituteInJson(c.input, placeholders);
      if (c.output === undefined) {
        record(ctx, file, {
          name: c.name,
          status: 'failed',
          reason: 'the case has no expected output',
          durationMs: 0,
        });
        continue;
      }
      const expectedRaw = substituteInJson(c.output, placeholders);
      try {
        const { result, runId } = await server.client.runItem(
          flowId,
          input,
          ctx.options.runTimeoutSecs ?? 60,
        );
        const differences = compareCase(ctx.options.generation, expectedRaw, result);
        const steps = differences.length
          ? await server.client
              .describeSteps(runId)
              .catch((err: Error) => `(steps: ${err.message})`)
          : '';
        record(ctx, file, {
          name: c.name,
          status: differences.length ? 'failed' : 'passed',
          durationMs: performance.now() - t0,
          ...(differences.length
            ? {
                differences,
                expected: expectedFor(ctx.options.generation, expectedRaw),
                actual: result,
                reason: `${describe(differences, result)}\n    steps of run ${runId}:\n      ${steps.split('\n').join('\n      ')}`,
              }
            : {}),
        });
      } catch (err) {
        record(ctx, file, {
          name: c.name,
          status: 'failed',
          reason: (err as Error).message,
          durationMs: performance.now() - t0,
        });
      }
    }
  };
  const width = Math.min(ctx.options.concurrency ?? 4, cases.length);
  await Promise.all(Array.from({ length: width }, lane));
}

function describe(differences: Difference[], actual: JsonObject): string {
  const error =
    actual.outcome === 'failed' && differences.some((d) => d.path === '$.outcome')
      ? ` — the run failed: ${JSON.stringify(actual.error)}`
      : '';
  return (
    differences
      .slice(0, 5)
      .map(
        (d) =>
          `${d.path}: ${d.problem}${'expected' in d ? ` (expected ${JSON.stringify(d.expected)}` : ''}${'actual' in d ? `${'expected' in d ? ', ' : ' ('}actual ${JSON.stringify(d.actual)})` : 'expected' in d ? ')' : ''}`,
      )
      .join('; ') + error
  );
}

/** Folder of workflows/<pack> from the repository root. */
export function workflowsFolder(repoRoot: string, pack: string): string {
  return join(repoRoot, 'workflows', pack);
}
