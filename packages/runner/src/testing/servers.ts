import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { resolve } from 'node:path';
import { lifelineArgs } from '@stepflow-packs/core/client';
import { isObject, ObjectBuilder, type Json } from '../json/value.js';
import { resolveCommand } from '../plugins/command.js';
import type { ServerSpec } from './cases.js';

export interface RunningServer {
  name: string;
  port: number;
  url: string;
  child: ChildProcess;
  output: string[];
}

/**
 * Placeholder values: `{port}` (own), `{name.port}`, `{name.url}` (placeholders in `test.servers`
 * commands and inputs).
 */
export type Placeholders = Map<string, string>;

export function substitutePlaceholders(text: string, values: Placeholders): string {
  return text.replace(
    /\{([A-Za-z0-9_-]+(?:\.(?:port|url))?)\}/g,
    (whole, key: string) => values.get(key) ?? whole,
  );
}

/** Substitute placeholders in every string (and key) of a JSON value, keeping annotations. */
export function substituteInJson(value: Json, values: Placeholders): Json {
  if (values.size === 0) return value;
  if (typeof value === 'string') return substitutePlaceholders(value, values);
  if (Array.isArray(value)) return value.map((v) => substituteInJson(v, values));
  if (isObject(value)) {
    const builder = new ObjectBuilder();
    for (const key of Object.keys(value))
      builder.set(substitutePlaceholders(key, values), substituteInJson(value[key]!, values));
    return builder.build();
  }
  return value;
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/**
 * A free port of the range, scanned from a random offset: a port just released by the previous
 * file's server (or held by a concurrent run) is then rarely the first candidate.
 */
async function freePort([low, high]: [number, number], taken: Set<number>): Promise<number> {
  const size = high - low + 1;
  const offset = Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const port = low + ((offset + i) % size);
    if (!taken.has(port) && (await portIsFree(port))) return port;
  }
  throw new Error(`no free port in ${low}–${high}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function httpOk(port: number, path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((done) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: timeoutMs }, (res) => {
      res.resume();
      done((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(false));
    req.end();
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

/**
 * Start a flow file's `test.servers`: ports are picked first so every
 * server can reference every other one; each runs in its own process group behind a lifeline
 * and must pass its health check (or accept connections) within `startupTimeoutMs`.
 */
export async function startServers(
  specs: ServerSpec[],
  flowDir: string,
  processEnv: NodeJS.ProcessEnv = process.env,
): Promise<{ servers: RunningServer[]; placeholders: Placeholders }> {
  const placeholders: Placeholders = new Map();
  const taken = new Set<number>();
  const ports = new Map<string, number>();
  for (const spec of specs) {
    const port = await freePort(spec.portRange, taken);
    taken.add(port);
    ports.set(spec.name, port);
    placeholders.set(`${spec.name}.port`, String(port));
    placeholders.set(`${spec.name}.url`, `http://127.0.0.1:${port}`);
  }
  const servers: RunningServer[] = [];
  try {
    for (const spec of specs) {
      const port = ports.get(spec.name)!;
      const own = new Map(placeholders).set('port', String(port));
      const cwd = resolve(flowDir, spec.workingDirectory ?? '.');
      const command = resolveCommand(spec.command, cwd, processEnv.PATH ?? '');
      const args = spec.args.map((a) => substitutePlaceholders(a, own));
      const env: NodeJS.ProcessEnv = { ...processEnv };
      for (const [k, v] of Object.entries(spec.env)) env[k] = substitutePlaceholders(v, own);
      const child = spawn(process.execPath, lifelineArgs('inherit', command, args), {
        cwd,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      const server: RunningServer = {
        name: spec.name,
        port,
        url: `http://127.0.0.1:${port}`,
        child,
        output: [],
      };
      const keep = (chunk: Buffer) => {
        server.output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        if (server.output.length > 50) server.output.splice(0, server.output.length - 50);
      };
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      child.on('error', (err) => server.output.push(`spawn failed: ${err.message}`));
      servers.push(server);
      await waitReady(server, spec);
    }
  } catch (err) {
    await stopServers(servers, specs);
    throw err;
  }
  return { servers, placeholders };
}

async function waitReady(server: RunningServer, spec: ServerSpec): Promise<void> {
  const deadline = Date.now() + spec.startupTimeoutMs;
  const delay = spec.healthCheck?.retryDelayMs ?? 100;
  for (;;) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(
        `test server "${server.name}" exited before it was ready; output:\n    ${server.output.slice(-10).join('\n    ')}`,
      );
    }
    const ready = spec.healthCheck
      ? await httpOk(
          server.port,
          spec.healthCheck.path,
          Math.min(spec.healthCheck.timeoutMs, Math.max(100, deadline - Date.now())),
        )
      : await accepts(server.port);
    if (ready) return;
    if (Date.now() + delay > deadline) {
      throw new Error(
        `test server "${server.name}" was not ready on port ${server.port} within ${spec.startupTimeoutMs} ms (${spec.healthCheck ? `GET ${spec.healthCheck.path}` : 'connect'}); output:\n    ${server.output.slice(-10).join('\n    ')}`,
      );
    }
    await sleep(Math.min(delay, 250));
  }
}

/** Stop servers: SIGTERM to each process group, SIGKILL after `shutdownTimeoutMs`. */
export async function stopServers(servers: RunningServer[], specs: ServerSpec[]): Promise<void> {
  await Promise.all(
    servers.map(async (server) => {
      const child = server.child;
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      const kill = (signal: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, signal);
        } catch {
          /* already gone */
        }
      };
      kill('SIGTERM');
      const grace = specs.find((s) => s.name === server.name)?.shutdownTimeoutMs ?? 5000;
      const timer = setTimeout(() => kill('SIGKILL'), Math.min(grace, 5000));
      await exited;
      clearTimeout(timer);
      kill('SIGKILL'); // grandchildren left in the group
    }),
  );
}
