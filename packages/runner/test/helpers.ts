import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

export const RUNNER_BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
export const TRACKER = fileURLToPath(new URL('./fixtures/tracker/worker.mjs', import.meta.url));

export interface RunnerProcess {
  child: ChildProcess;
  done: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    elapsedMs: number;
  }>;
}

/** Start the built runner CLI; every wait is bounded by `timeoutMs`. */
export function startRunner(args: string[], cwd: string, timeoutMs = 30_000): RunnerProcess {
  const started = performance.now();
  const child = spawn(process.execPath, [RUNNER_BIN, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    elapsedMs: number;
  }>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, elapsedMs: performance.now() - started });
    });
  });
  return { child, done };
}

export function runRunner(args: string[], cwd: string, timeoutMs = 30_000) {
  return startRunner(args, cwd, timeoutMs).done;
}

export function tempDir(prefix: string): {
  dir: string;
  cleanup(): void;
  write(name: string, text: string): string;
} {
  const dir = mkdtempSync(join(tmpdir(), `runner-${prefix}-`));
  return {
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
    write: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
  };
}

/** A temporary folder removed when the current test finishes. */
export function workspace(prefix: string): ReturnType<typeof tempDir> {
  const t = tempDir(prefix);
  onTestFinished(t.cleanup);
  return t;
}

export interface TrackRecord {
  step: string;
  attempt: number;
  pid: number;
  pgid: number;
}

export function readTracker(file: string): TrackRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as TrackRecord);
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `[state, pgid]` from /proc, or undefined when the process is gone. */
function procStat(pid: number): [string, number] | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return [fields[0]!, Number(fields[2])];
  } catch {
    return undefined;
  }
}

/** Whether a process exists and is not a zombie (an unreaped corpse runs nothing). */
export function alive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat[0] !== 'Z';
}

/** Whether any live (non-zombie) process is still in the group. */
export function groupAlive(pgid: number): boolean {
  return readdirSync('/proc').some((name) => {
    if (!/^\d+$/.test(name)) return false;
    const stat = procStat(Number(name));
    return stat !== undefined && stat[1] === pgid && stat[0] !== 'Z';
  });
}

/** A config routing /tracker/{component} to the fixture worker. */
export function trackerConfig(
  options: {
    retry?: string;
    extraPlugins?: string;
    extraRoutes?: string;
    pluginExtra?: string;
  } = {},
): string {
  return `plugins:
  tracker:
    type: stepflow
    transport: stdio
    command: node
    args: [${JSON.stringify(TRACKER)}, "--transport", "auto"]
${options.pluginExtra ?? ''}${options.extraPlugins ?? ''}routes:
  "/tracker/{component}":
    - plugin: tracker
${options.extraRoutes ?? ''}${options.retry ?? 'retry:\n  transportMaxRetries: 3\n  backoff: {type: constant, delayMs: 100}\n'}`;
}
