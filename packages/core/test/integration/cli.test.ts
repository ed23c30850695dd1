import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { byId, execute, spawnRaw, type RawWorker } from '../helpers/raw.js';
import { strictFrameViolation } from '../helpers/protocol-validator.js';
import { FIXTURE_BIN } from '../helpers/workers.js';

const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [FIXTURE_BIN, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10_000,
  });

describe('runCli', () => {
  it('--version prints the pack version and exits 0', () => {
    const r = run(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('9.9.9\n');
  });

  it('--help documents transports, pack settings and environment, and exits 0', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--transport <auto|stdio|http|grpc|nats>');
    expect(r.stdout).toContain('--marker <value> / FIXTURE_MARKER');
    expect(r.stdout).toContain('STEPFLOW_LOG_LEVEL');
  });

  it('--list-components prints names and schemas without serving', () => {
    const r = run(['--list-components']);
    expect(r.status).toBe(0);
    const listed = JSON.parse(r.stdout) as {
      components: { component: string; input_schema: unknown }[];
    };
    expect(listed.components.map((c) => c.component)).toContain('/echo');
    expect(listed.components.every((c) => typeof c.input_schema === 'object')).toBe(true);
  });

  it('--list-components shows component_id and path as Stepflow 0.13 discovery registers them', () => {
    const listed = JSON.parse(run(['--list-components']).stdout) as {
      components: { component_id: string; path: string }[];
    };
    const echo = listed.components.find((c) => c.component_id === 'echo');
    expect(echo).toMatchObject({ component_id: 'echo', path: '/echo' });
    expect(listed.components.every((c) => c.path === `/${c.component_id}`)).toBe(true);
  });

  it('--help documents the gRPC transport and its settings', () => {
    const r = run(['--help']);
    for (const text of [
      '--transport <auto|stdio|http|grpc|nats>',
      'STEPFLOW_TASKS_URL',
      'STEPFLOW_QUEUE_NAME',
      'STEPFLOW_MAX_CONCURRENT',
      'STEPFLOW_BLOB_URL',
    ]) {
      expect(r.stdout).toContain(text);
    }
  });

  it('names the variable of a bad NATS or gRPC setting', () => {
    const nats = run(['--transport', 'nats'], { STEPFLOW_NATS_URL: 'http://x' });
    expect(nats.status).toBe(1);
    expect(nats.stderr).toContain('STEPFLOW_NATS_URL (--nats-url)');
    const bad = run(['--transport', 'grpc'], { STEPFLOW_MAX_CONCURRENT: '0' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('STEPFLOW_MAX_CONCURRENT');
  });

  it('ignores an inherited STEPFLOW_PORT that is not a port when it runs as a gRPC worker', () => {
    const r = run(['--transport', 'grpc'], {
      STEPFLOW_PORT: 'not-a-port',
      STEPFLOW_TASKS_URL: '127.0.0.1:9',
      STEPFLOW_RECONNECT_TIMEOUT_SECS: '1',
      STEPFLOW_LOG_LEVEL: 'off',
    });
    expect(r.stderr).not.toContain('--port');
    expect(r.status).toBe(1); // gave up on the unreachable orchestrator, not on the port
  });

  it('exits 1 naming the variable when a pack setting is invalid', () => {
    const r = run(['--stdio'], { FIXTURE_LIMIT: '1000' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/FIXTURE_LIMIT: .*\(got "1000"\)/);
    expect(r.stdout).toBe('');
  });

  it('exits 2 with a usage hint for an unknown flag', () => {
    const r = run(['--frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--help/);
  });

  it('fills pack settings from flags over environment variables', async () => {
    const w = spawnRaw(['--stdio', '--marker', 'from-flag'], {
      FIXTURE_MARKER: 'from-env',
      FIXTURE_LIMIT: '7',
    });
    w.send(execute(1, '/config', null));
    const line = await w.waitFor(byId(1));
    expect(JSON.parse(line).result.output).toEqual({ marker: 'from-flag', limit: 7 });
    w.child.stdin!.end();
  });
});

describe('pack close hook', () => {
  it.each([
    ['stdio at stdin EOF', ['--stdio'], (w: RawWorker) => w.child.stdin!.end()],
    ['HTTP on SIGTERM', ['--http'], (w: RawWorker) => w.child.kill('SIGTERM')],
  ])('runs once before exit (%s)', async (_name, args, stop) => {
    const file = join(mkdtempSync(join(tmpdir(), 'close-')), 'closed');
    const w = spawnRaw(
      args,
      { FIXTURE_CLOSE_FILE: file },
      undefined,
      args[0] === '--http' ? { stdio: ['ignore', 'pipe', 'pipe'] } : {},
    );
    if (args[0] === '--http') await w.waitFor((l) => l.startsWith('{"port"'));
    else {
      w.send(execute(1, '/count', null));
      await w.waitFor(byId(1));
    }
    stop(w);
    expect((await w.exit).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('closed\n');
  });
});

describe('transport auto-detection', () => {
  it('speaks stdio when fd 0 is a FIFO (as Rust and shells create it)', () => {
    const request = JSON.stringify(execute(1, '/echo', { payload: 5 }));
    const r = spawnSync(
      'sh',
      ['-c', `printf '%s\\n' '${request}' | cat | "${process.execPath}" "${FIXTURE_BIN}"`],
      { encoding: 'utf8', timeout: 10_000 },
    );
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      jsonrpc: '2.0',
      id: 1,
      result: { output: { payload: 5 } },
    });
  });

  it("speaks stdio when fd 0 is a socket (Node's child_process pipes)", async () => {
    const w = spawnRaw([]);
    w.send(execute('s', '/echo', { payload: 'socket' }));
    expect(JSON.parse(await w.waitFor(byId('s'))).result.output).toMatchObject({
      payload: 'socket',
    });
    w.child.stdin!.end();
    expect((await w.exit).code).toBe(0);
  });

  it('serves HTTP on an ephemeral port when stdin is /dev/null', async () => {
    const w = spawnRaw([], {}, FIXTURE_BIN, { stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await w.waitFor((l) => l.length > 0);
    expect(line).toMatch(/^\{"port":\d+\}$/);
    w.child.kill('SIGTERM');
    expect((await w.exit).code).toBe(0);
  });
});

describe('stdout purity in stdio mode', () => {
  it('redirects console.log and stray stdout writes to stderr', async () => {
    const w = spawnRaw(['--stdio']);
    w.send(execute('n', '/noisy', null));
    await w.waitFor(byId('n'));
    w.child.stdin!.end();
    await w.exit;
    expect(w.lines.map((l) => strictFrameViolation(l, 'v0.8'))).toEqual([null]);
    expect(w.stderr()).toContain('console.log noise');
    expect(w.stderr()).toContain('stray stdout write');
  });

  it('executes without a prior initialize and every frame passes the v0.8 strict rules', async () => {
    const w = spawnRaw(['--stdio']);
    w.send(execute(1, '/echo', { payload: 'first' }));
    w.send('{"jsonrpc":"2.0","id":2,"method":"nope","params":{}}');
    w.send('{"jsonrpc":"2.0","id":null,"method":"components/list","params":{}}');
    w.send('{"jsonrpc":"2.0","method":"$/cancelRequest","params":{}}');
    w.send('{"jsonrpc":"2.0","id":3,"method":"components/list","params":{}}');
    await w.waitFor(byId(3));
    w.child.stdin!.end();
    await w.exit;
    const frames = w.lines.map(
      (l) =>
        JSON.parse(l) as {
          id: number;
          result?: { output: { payload: string } };
          error?: { code: number };
        },
    );
    expect(w.lines.map((l) => strictFrameViolation(l, 'v0.8'))).toEqual([null, null, null]);
    expect(frames.map((f) => f.id).sort()).toEqual([1, 2, 3]);
    expect(frames.find((f) => f.id === 1)!.result!.output.payload).toBe('first');
    expect(frames.find((f) => f.id === 2)!.error!.code).toBe(-32601);
  });
});
