/**
 * The gRPC pull worker on the real stepflow-server 0.13.0: discovery, execution, errors and
 * their retry semantics, values, blobs, sub-runs, the concurrency bound, and faults (a worker
 * killed mid-task, an orchestrator restarted under a worker, SIGTERM with a task in flight, a
 * 20 s component, a worker that fails at start-up).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { requestJson, StepflowServer, type Json, type JsonObject } from '@stepflow-packs/runner';

const binary = inject('stepflowBinaries')['0.13.0'];
const probe = fileURLToPath(new URL('./fixtures/probe-pack.mjs', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'worker-v013-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function config(name: string, plugin: Record<string, Json>, extra = ''): string {
  const file = join(scratch, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      plugins: {
        builtin: { type: 'builtin' },
        probe: { type: 'grpc', queueName: 'probe', ...plugin },
      },
      routes: { '/probe': [{ plugin: 'probe' }], '/builtin': [{ plugin: 'builtin' }] },
      retry: { transportMaxRetries: 2, backoff: { type: 'constant', delayMs: 200 } },
      ...(extra ? JSON.parse(extra) : {}),
    }),
  );
  return file;
}

const managed = (env: Record<string, string> = {}) => ({
  command: process.execPath,
  args: [probe],
  env: { STEPFLOW_LOG_LEVEL: 'warn', ...env },
});

function flow(component: string, input: Json, extra: JsonObject = {}): JsonObject {
  return {
    schema: 'https://stepflow.org/schemas/v1/flow.json',
    name: component.replace(/\W/g, '_'),
    steps: [{ id: 'step', component, input, ...extra }],
    output: { $step: 'step' },
  };
}

/** Store a flow as plain JSON (integers stay integers: `maxRetries: 2`, not `2.0`). */
async function store(server: StepflowServer, f: JsonObject): Promise<string> {
  const res = (await requestJson(
    'POST',
    `${server.client.baseUrl}/api/v1/flows`,
    JSON.stringify({ flow: f }),
  )) as { flowId: string; stored: boolean };
  expect(res.stored).toBe(true);
  return res.flowId;
}

async function run(
  server: StepflowServer,
  f: JsonObject,
  input: Json = {},
  timeoutSecs = 60,
): Promise<JsonObject> {
  return (await server.client.runItem(await store(server, f), input, timeoutSecs)).result;
}

async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A remote worker (the plugin has no `command`), started by hand with the launch variables. */
function remoteWorker(
  port: number,
  env: Record<string, string> = {},
): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [probe], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      STEPFLOW_TRANSPORT: 'grpc',
      STEPFLOW_TASKS_URL: `127.0.0.1:${port}`,
      STEPFLOW_QUEUE_NAME: 'probe',
      ...env,
    },
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  return {
    child,
    stderr: () => err,
    exited: once(child, 'exit').then(([code]) => code as number | null),
  };
}

describe('a pack as a gRPC pull worker of stepflow-server 0.13.0', () => {
  let server: StepflowServer;
  beforeAll(async () => {
    server = await StepflowServer.start({
      binary,
      generation: '0.13.0',
      config: config('main', managed({ STEPFLOW_MAX_CONCURRENT: '2' })),
      plugins: 1,
    });
  });
  afterAll(() => server?.stop());

  it('is discovered: GET /api/v1/components lists its ids with complete: true', async () => {
    const res = (await requestJson('GET', `${server.client.baseUrl}/api/v1/components`)) as {
      components: {
        componentId: string;
        plugin: string;
        description?: string;
        inputSchema?: JsonObject;
      }[];
      complete: boolean;
    };
    expect(res.complete).toBe(true);
    const ours = res.components.filter((c) => c.plugin === 'probe');
    expect(ours.map((c) => c.componentId).sort()).toEqual([
      'blobs',
      'crash_once',
      'echo',
      'flaky',
      'get_run',
      'health_check',
      'slow',
      'sub_run',
      'values',
    ]);
    const echo = ours.find((c) => c.componentId === 'echo')!;
    expect(echo.description).toContain('payload');
    expect(echo.inputSchema).toMatchObject({ type: 'object', properties: { payload: {} } });
  });

  it('runs a step routed by the one-segment prefix and returns its output', async () => {
    expect(
      await run(server, flow('/probe/echo', { payload: { $input: 'x' } }), { x: [1, 'a'] }),
    ).toEqual({
      outcome: 'success',
      result: { payload: [1, 'a'], attempt: 1, max_in_flight: 1 },
    });
  });

  it('answers INVALID_INPUT naming the field', async () => {
    expect(await run(server, flow('/probe/echo', { payload: 1, delay_ms: 'soon' }))).toEqual({
      outcome: 'failed',
      error: {
        code: 'INVALID_INPUT',
        message: 'input.delay_ms: Invalid input: expected number, received string',
      },
    });
  });

  it('retries RESOURCE_UNAVAILABLE under onError: retry (attempt 2 succeeds) but never INVALID_INPUT', async () => {
    // No maxRetries: stepflow-server 0.13.0 stores REST flows through a protobuf Struct, whose
    // numbers are doubles, and then refuses `maxRetries: 2.0` ("expected u32"). Default: 3.
    const retry = { onError: { action: 'retry' } };
    expect(
      await run(server, flow('/probe/flaky', { error: 'resource', succeed_on: 2 }, retry)),
    ).toEqual({ outcome: 'success', result: { attempt: 2 } });
    expect(
      await run(server, flow('/probe/flaky', { error: 'bad_request', succeed_on: 2 }, retry)),
    ).toEqual({
      outcome: 'failed',
      error: { code: 'INVALID_INPUT', message: 'refused by policy' },
    });
  });

  it('returns values exactly and refuses an integer beyond 2^53 by name', async () => {
    expect(await run(server, flow('/probe/values', { kind: 'ok' }))).toEqual({
      outcome: 'success',
      result: { int: 3, float: 2.5, big: 2 ** 53 - 1, nested: { list: [1, 'a', null, false] } },
    });
    const refused = await run(server, flow('/probe/values', { kind: 'unsafe_int' }));
    expect(refused).toMatchObject({ outcome: 'failed', error: { code: 'COMPONENT_FAILED' } });
    expect(JSON.stringify(refused)).toContain('output.id');
  });

  it('stores and reads JSON and binary blobs in the orchestrator, readable by its builtin get_blob', async () => {
    const result = (await run(
      server,
      flow('/probe/blobs', { value: { k: [1, 2] }, text: 'bytes ✓' }),
    )) as { result: { json_id: string; value: Json; text: string } };
    expect(result.result.value).toEqual({ k: [1, 2] });
    expect(result.result.text).toBe('bytes ✓');
    expect(
      await run(server, flow('/builtin/get_blob', { blob_id: result.result.json_id })),
    ).toEqual({ outcome: 'success', result: { data: { k: [1, 2] } } });
  });

  it('submits a sub-run through SubmitRun and gets its result', async () => {
    const inner = flow('/probe/echo', { payload: { $input: 'v' } });
    const result = await run(
      server,
      flow('/probe/sub_run', { flow: { $literal: inner }, input: { v: 42 } }),
    );
    expect(result).toMatchObject({
      outcome: 'success',
      result: { outcome: 'success', output: { payload: 42, attempt: 1 } },
    });
    const runId = (result.result as { runId: string }).runId;
    expect(await run(server, flow('/probe/get_run', { run_id: runId }))).toMatchObject({
      outcome: 'success',
      result: { runId, outcome: 'success', output: { payload: 42 } },
    });
  });

  it('runs at most STEPFLOW_MAX_CONCURRENT components at once (2 of 6 concurrent runs)', async () => {
    const flowId = await store(
      server,
      flow('/probe/echo', { payload: { $input: 'i' }, delay_ms: 300 }),
    );
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => server.client.runItem(flowId, { i }, 60)),
    );
    const maxima = results.map((r) => (r.result.result as { max_in_flight: number }).max_in_flight);
    expect(results.every((r) => r.result.outcome === 'success')).toBe(true);
    expect(Math.max(...maxima)).toBe(2);
  });

  it('keeps a 20 s component alive with heartbeats: no TIMEOUT', async () => {
    const result = (await run(server, flow('/probe/slow', { ms: 20_000 }), {}, 90)) as {
      outcome: string;
      result: { waited_ms: number };
    };
    expect(result.outcome).toBe('success');
    expect(result.result.waited_ms).toBeGreaterThanOrEqual(19_900);
  });

  it('retries a step on a restarted worker after the worker is killed with SIGKILL mid-task (attempt 2)', async () => {
    expect(await run(server, flow('/probe/crash_once', {}), {}, 120)).toEqual({
      outcome: 'success',
      result: { attempt: 2 },
    });
    // and the restarted worker keeps serving
    expect(await run(server, flow('/probe/echo', { payload: 'after' }))).toMatchObject({
      outcome: 'success',
      result: { payload: 'after' },
    });
  });
});

describe('faults around a remote worker (a plugin without command)', () => {
  it('reconnects after stepflow-server restarts; the next run succeeds within 10 s', async () => {
    const port = await freePort();
    const file = config('remote', {});
    let server = await StepflowServer.start({
      binary,
      generation: '0.13.0',
      config: file,
      plugins: 1,
      port,
      waitReady: false,
    });
    const worker = remoteWorker(port);
    try {
      await server.client.ready(30_000);
      expect(await run(server, flow('/probe/echo', { payload: 1 }))).toMatchObject({
        outcome: 'success',
      });
      await server.stop();
      server = await StepflowServer.start({
        binary,
        generation: '0.13.0',
        config: file,
        plugins: 1,
        port,
        waitReady: false,
      });
      const back = Date.now();
      await server.client.ready(10_000);
      expect(await run(server, flow('/probe/echo', { payload: 2 }))).toMatchObject({
        outcome: 'success',
        result: { payload: 2 },
      });
      expect(Date.now() - back).toBeLessThan(10_000);
      expect(worker.stderr()).toContain('reconnected to the orchestrator');
    } finally {
      worker.child.kill('SIGKILL');
      await server.stop();
    }
  });

  it('finishes and completes the task in flight when the worker gets SIGTERM, then exits 0', async () => {
    const port = await freePort();
    const server = await StepflowServer.start({
      binary,
      generation: '0.13.0',
      config: config('sigterm', {}),
      plugins: 1,
      port,
      waitReady: false,
    });
    const worker = remoteWorker(port);
    try {
      await server.client.ready(30_000);
      const flowId = await store(server, flow('/probe/slow', { ms: 3000 }));
      const pending = server.client.runItem(flowId, {}, 60);
      await new Promise((r) => setTimeout(r, 1000)); // the task is running: progress heartbeats under way
      worker.child.kill('SIGTERM');
      expect((await pending).result).toMatchObject({
        outcome: 'success',
        result: { waited_ms: expect.any(Number) },
      });
      expect(await worker.exited).toBe(0);
    } finally {
      worker.child.kill('SIGKILL');
      await server.stop();
    }
  });
});

describe('a worker that fails at start-up', () => {
  it('makes stepflow-server fail with the worker’s own stderr in the report', async () => {
    const bad = config('bad', { command: process.execPath, args: [probe, '--no-such-flag'] });
    const started = StepflowServer.start({ binary, generation: '0.13.0', config: bad, plugins: 1 });
    await expect(started).rejects.toThrow(/Unknown option '--no-such-flag'/);
  });
});
