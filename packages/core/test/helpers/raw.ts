import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { LineFramer } from '../../src/framing.js';
import { FIXTURE_BIN } from './workers.js';

export interface RawWorker {
  child: ChildProcess;
  /** Complete stdout lines so far. */
  lines: string[];
  stderr(): string;
  /** Resolves with the first stdout line matching the predicate. */
  waitFor(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  send(frame: unknown): void;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Spawn a worker binary with raw pipes (the test plays the runtime byte by byte). */
export function spawnRaw(
  args: string[],
  env: Record<string, string> = {},
  bin = FIXTURE_BIN,
  options: SpawnOptions = {},
): RawWorker {
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', STEPFLOW_LOG_LEVEL: 'warn', ...env },
    ...options,
  });
  const lines: string[] = [];
  const waiters: { predicate: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  let err = '';
  const framer = new LineFramer(1024 * 1024 * 1024, { line: onLine, oversize: () => {} });
  child.stdout!.on('data', (chunk: Buffer) => framer.push(chunk));
  function onLine(line: string) {
    {
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.predicate(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  }
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (t: string) => (err += t));
  child.stdin?.on('error', () => {});
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
    (resolve) => child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return {
    child,
    lines,
    stderr: () => err,
    exit,
    send: (frame) =>
      child.stdin!.write((typeof frame === 'string' ? frame : JSON.stringify(frame)) + '\n'),
    waitFor(predicate, timeoutMs = 10_000) {
      const found = lines.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching stdout line within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          predicate,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
}

export const byId = (id: unknown) => (line: string) => {
  try {
    return JSON.parse(line).id === id;
  } catch {
    return false;
  }
};

export function execute(id: string | number, component: string, input: unknown) {
  return {
    jsonrpc: '2.0',
    id,
    method: 'components/execute',
    params: { component, input, attempt: 1, observability: {} },
  };
}

/** Resident and peak memory of a process, in bytes (Linux /proc). */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** User + system CPU seconds a process has used (Linux /proc). */
export function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export function httpCall(
  port: number,
  options: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
  } = {},
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'POST',
        path: options.path ?? '/',
        headers: {
          ...(body
            ? {
                'content-type': 'application/json',
                accept: 'application/json, text/event-stream',
                'content-length': body.length,
              }
            : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('no HTTP response within 10 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Start the fixture pack over HTTP and return its announced port. */
export async function spawnHttp(
  env: Record<string, string> = {},
  args: string[] = ['--http'],
): Promise<{ worker: RawWorker; port: number }> {
  const worker = spawnRaw(args, env, FIXTURE_BIN, { stdio: ['ignore', 'pipe', 'pipe'] });
  const line = await worker.waitFor((l) => l.startsWith('{"port":'));
  return { worker, port: JSON.parse(line).port as number };
}
