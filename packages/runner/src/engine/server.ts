import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { lifelineArgs } from '@stepflow-packs/core/client';
import { SERVER_RELEASES, type ServerRelease } from './release.js';
import type { RestClient } from './rest/client.js';
import { isRecord, requestJson } from './rest/http.js';
import { RestClientV011 } from './rest/v011.js';
import { RestClientV013 } from './rest/v013.js';

export interface ServerOptions {
  binary: string;
  /** The release expected; absent: whatever the binary is (one of SERVER_RELEASES). */
  generation?: ServerRelease;
  /** Absolute path of the config file. */
  config: string;
  /**
   * Process plugins in the config; each may take up to 30 s to start (the server waits that long
   * for its PullTasks connection).
   */
  plugins: number;
  env?: NodeJS.ProcessEnv;
  logLevel?: string;
  /** Port to bind (default 0: OS-assigned); a fixed one lets a test restart the server in place. */
  port?: number;
  /**
   * Wait until every plugin reports components (default true; false for remote workers started
   * later).
   */
  waitReady?: boolean;
}

/** A running `stepflow-server` (behind a lifeline, so it dies with the test process). */
export class StepflowServer {
  readonly output: string[] = [];
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly client: RestClient,
  ) {}

  /** Start with `--port 0`, read the `{"port":N}` line from stdout, then wait for /health. */
  static async start(options: ServerOptions): Promise<StepflowServer> {
    const args = ['--port', String(options.port ?? 0), '--config', options.config];
    args.push('--log-level', options.logLevel ?? 'warn');
    const child = spawn(process.execPath, lifelineArgs('inherit', options.binary, args), {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const output: string[] = [];
    const stderr: string[] = [];
    const keep = (line: string) => {
      output.push(line);
      if (output.length > 200) output.splice(0, output.length - 200);
    };
    const deadlineMs = 15_000 + 30_000 * Math.max(1, options.plugins);
    let port: number;
    try {
      port = await new Promise<number>((resolve, reject) => {
        let pending = '';
        const timer = setTimeout(
          () => reject(new Error(`no {"port":N} line within ${deadlineMs / 1000} s`)),
          deadlineMs,
        );
        child.stdout!.on('data', (chunk: Buffer) => {
          pending += chunk.toString('utf8');
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) {
            keep(line);
            const found = portOf(line);
            if (found !== undefined) {
              clearTimeout(timer);
              resolve(found);
            }
          }
        });
        child.stderr!.on('data', (chunk: Buffer) => {
          // The server logs to stdout; its stderr carries what its workers write (inherited).
          for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
            keep(line);
            if (stderr.length < 40) stderr.push(line);
          }
        });
        child.once('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(
            new Error(`stepflow-server exited (${signal ?? code}) before announcing its port`),
          );
        });
      });
    } catch (err) {
      await stopProcessTree(child);
      throw new Error(
        `${(err as Error).message}; worker output (stderr):\n  ${stderr.join('\n  ') || '(none)'}\n` +
          `last server output:\n  ${output.slice(-25).join('\n  ')}`,
      );
    }
    const baseUrl = `http://127.0.0.1:${port}`;
    let release: ServerRelease;
    try {
      release = await waitHealthy(baseUrl, 10_000);
      if (options.generation && release !== options.generation)
        throw new Error(
          `${options.binary} is stepflow-server ${release}, expected ${options.generation}`,
        );
    } catch (err) {
      await stopProcessTree(child);
      throw err;
    }
    const client = release === '0.13.0' ? new RestClientV013(baseUrl) : new RestClientV011(baseUrl);
    const server = new StepflowServer(child, port, client);
    server.output.push(...output);
    child.stdout!.removeAllListeners('data');
    child.stderr!.removeAllListeners('data');
    const more = (chunk: Buffer) => {
      server.output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      if (server.output.length > 400) server.output.splice(0, server.output.length - 400);
    };
    child.stdout!.on('data', more);
    child.stderr!.on('data', more);
    try {
      if (options.waitReady !== false) await client.ready(30_000 * Math.max(1, options.plugins));
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** The release the server reported on GET /api/v1/health. */
  get release(): ServerRelease {
    return this.client.generation;
  }

  /** Recent server (and inherited worker) output, for failure messages. */
  tail(lines = 30): string {
    return this.output.slice(-lines).join('\n  ');
  }

  async stop(): Promise<void> {
    await stopProcessTree(this.child);
  }
}

function portOf(line: string): number | undefined {
  const text = line.trim();
  if (!text.startsWith('{') || !text.includes('port')) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && 'port' in value) {
      const port = (value as { port: unknown }).port;
      if (typeof port === 'number' && Number.isInteger(port) && port > 0) return port;
    }
  } catch {
    /* a log line */
  }
  return undefined;
}

/** `build.gitVersion` of release binaries → release (tag stepflow-0.13.0 is commit dd82fa7). */
const KNOWN_COMMITS: Record<string, ServerRelease> = { dd82fa7: '0.13.0' };

/**
 * The release a server reports on GET /api/v1/health: 0.11 has `version`; 0.13 only
 * `build.gitVersion`, which release binaries set to the tag's commit.
 */
export function releaseOfHealth(health: unknown): ServerRelease {
  const supported = `this runner speaks to ${SERVER_RELEASES.join(' and ')}`;
  if (isRecord(health) && typeof health.version === 'string') {
    const found = SERVER_RELEASES.find((r) => r === health.version);
    if (!found) throw new Error(`stepflow-server reports version ${health.version}; ${supported}`);
    return found;
  }
  const build = isRecord(health) ? health.build : undefined;
  if (isRecord(build) && typeof build.gitVersion === 'string') {
    const git = build.gitVersion.replace(/^stepflow-/, '');
    const found = KNOWN_COMMITS[git] ?? SERVER_RELEASES.find((r) => r === git);
    if (!found) throw new Error(`stepflow-server reports build ${build.gitVersion}; ${supported}`);
    return found;
  }
  throw new Error(`GET /api/v1/health: not a stepflow-server reply: ${JSON.stringify(health)}`);
}

async function waitHealthy(baseUrl: string, timeoutMs: number): Promise<ServerRelease> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    let health: unknown;
    try {
      health = await requestJson('GET', `${baseUrl}/api/v1/health`, undefined, 5000);
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    return releaseOfHealth(health);
  }
  throw new Error(`GET /api/v1/health not healthy within ${timeoutMs} ms: ${String(last)}`);
}

/** Direct children of `pid` (Linux /proc), used to reach workers in their own process groups. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    /* gone, or no /proc */
  }
  return out;
}

function descendantsOf(pid: number): number[] {
  const all: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const child of childrenOf(queue.shift()!)) {
      all.push(child);
      queue.push(child);
    }
  }
  return all;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/**
 * SIGTERM the lifeline's process group (the server, and 0.11 workers), then the process groups
 * of descendants that left it (0.13 workers call setpgid); SIGKILL whatever is left after 5 s.
 */
export async function stopProcessTree(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const pids = descendantsOf(child.pid);
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    signal(-child.pid, 'SIGTERM');
    const timer = setTimeout(() => signal(-child.pid!, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  signal(-child.pid, 'SIGKILL');
  for (const pid of pids) {
    signal(-pid, 'SIGTERM');
    signal(pid, 'SIGTERM');
  }
  await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids)
    if (alive(pid)) {
      await new Promise((r) => setTimeout(r, 2000));
      signal(-pid, 'SIGKILL');
      signal(pid, 'SIGKILL');
    }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
