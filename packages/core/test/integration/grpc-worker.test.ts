import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TaskErrorCode } from '../../src/transport/grpc/gen/stepflow/v1/common_pb.js';
import type { CompleteTaskRequest } from '../../src/transport/grpc/gen/stepflow/v1/orchestrator_pb.js';
import { fromValue } from '../../src/transport/grpc/values.js';
import { FixtureOrchestrator } from '../helpers/grpc-orchestrator.js';
import { grpcPack, startGrpcWorker, until, type StartedWorker } from '../helpers/grpc-worker.js';
import { alive, goneWithin } from '../helpers/processes.js';

const STARTER = fileURLToPath(new URL('../fixtures/http-starter.mjs', import.meta.url));

let orchestrator: FixtureOrchestrator;
let worker: StartedWorker | undefined;

beforeEach(async () => {
  orchestrator = await FixtureOrchestrator.start();
});

afterEach(async () => {
  await worker?.stop('SIGKILL');
  worker = undefined;
  await orchestrator.stop();
});

function output(completion: CompleteTaskRequest): unknown {
  if (completion.result.case !== 'response')
    throw new Error(`expected a response, got ${JSON.stringify(completion.result)}`);
  return fromValue(completion.result.value.output);
}

function error(completion: CompleteTaskRequest) {
  if (completion.result.case !== 'error')
    throw new Error(`expected an error, got ${completion.result.case}`);
  return completion.result.value;
}

async function connected(extraEnv: Record<string, string> = {}): Promise<StartedWorker> {
  // A killed worker's stream may still look open: wait for it to go, then for the new one.
  await until(() => orchestrator.openStreams === 0, 'earlier streams to close');
  const pulls = orchestrator.pulls.length;
  worker = startGrpcWorker(orchestrator.url, extraEnv);
  await until(
    () => orchestrator.pulls.length > pulls && orchestrator.openStreams > 0,
    'the worker to open PullTasks',
  );
  return worker;
}

describe('gRPC pull worker against a fixture orchestrator', () => {
  it('opens PullTasks for its queue with a stable worker id and never writes stdout', async () => {
    const w = await connected({ STEPFLOW_WORKER_ID: 'worker-a' });
    const { completed } = orchestrator.execute('echo', { payload: 1 });
    await completed;
    expect(orchestrator.pulls[0]).toMatchObject({ queueName: 'fixture', workerId: 'worker-a' });
    expect(orchestrator.heartbeats.every((h) => h.request.workerId === 'worker-a')).toBe(true);
    expect(w.stdout()).toBe('');
    expect(w.logs().some((l) => l.msg === 'connected to the orchestrator')).toBe(true);
  });

  it('answers discovery with component_id, a /-path and JSON-string schemas, even while every slot is busy', async () => {
    await connected({ STEPFLOW_MAX_CONCURRENT: '1' });
    orchestrator.execute('slow', { ms: 3000 });
    await until(() => orchestrator.heartbeats.length > 0, 'the slow task to be claimed');
    const started = Date.now();
    const answer = await orchestrator.discover();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(answer.result.case).toBe('listComponents');
    const components =
      answer.result.case === 'listComponents' ? answer.result.value.components : [];
    const echo = components.find((c) => c.componentId === 'echo');
    expect(echo).toMatchObject({
      componentId: 'echo',
      path: '/echo',
      description: expect.stringContaining('payload'),
    });
    expect(JSON.parse(echo!.inputSchema!)).toMatchObject({
      type: 'object',
      properties: { payload: {} },
    });
    expect(JSON.parse(echo!.outputSchema!)).toMatchObject({ type: 'object' });
    expect(
      components.every((c) => !c.componentId.startsWith('/') && c.path === `/${c.componentId}`),
    ).toBe(true);
    expect(components.map((c) => c.componentId)).toContain('health_check');
  });

  it('claims before running, passes attempt, path_params and step id, and completes with the output', async () => {
    await connected();
    const { taskId, completed } = orchestrator.execute(
      'echo',
      { payload: { a: [1, 'two', null, true] } },
      { attempt: 3, pathParams: { tenant: 'acme' }, stepId: 'sum' },
    );
    const completion = await completed;
    const firstBeat = orchestrator.heartbeats.find((h) => h.request.taskId === taskId)!;
    expect(firstBeat.request.runId).toBe('01a23b41-0000-7000-8000-000000000001');
    expect(completion.runId).toBe('01a23b41-0000-7000-8000-000000000001');
    expect(output(completion)).toMatchObject({
      payload: { a: [1, 'two', null, true] },
      attempt: 3,
      path_params: { tenant: 'acme' },
      dialect: 'v0.13',
      step: 'sum',
    });
  });

  it('accepts a null input and a component id with a leading slash', async () => {
    await connected();
    const completion = await orchestrator.execute('/health_check', null).completed;
    expect(output(completion)).toMatchObject({ status: 'healthy', pack: 'fixture' });
  });

  it('answers INVALID_INPUT naming the field, and COMPONENT_NOT_FOUND for an unknown id', async () => {
    await connected();
    const bad = error(
      await orchestrator.execute('echo', { payload: 1, delay_ms: 'soon' }).completed,
    );
    expect(bad.code).toBe(TaskErrorCode.INVALID_INPUT);
    expect(bad.message).toMatch(/^input\.delay_ms: /);
    expect(bad.data).toMatchObject({ issues: [{ path: 'input.delay_ms' }] });
    const missing = error(await orchestrator.execute('nope', {}).completed);
    expect(missing.code).toBe(TaskErrorCode.COMPONENT_NOT_FOUND);
    expect(missing.message).toContain('nope');
  });

  it.each([
    ['value', TaskErrorCode.COMPONENT_FAILED, 'division by zero', { divisor: 0 }],
    [
      'resource',
      TaskErrorCode.RESOURCE_UNAVAILABLE,
      'the database is down',
      { reason: 'db_down', retryable: true },
    ],
    [
      'bad_request',
      TaskErrorCode.INVALID_INPUT,
      'path outside the allowed roots',
      { reason: 'outside_roots' },
    ],
  ] as const)(
    'maps a %s error to its TaskErrorCode with Struct data',
    async (how, code, message, data) => {
      await connected();
      const failure = error(await orchestrator.execute('fail', { how }).completed);
      expect(failure).toMatchObject({ code, message });
      expect(failure.data).toEqual(data);
    },
  );

  it('sends one line without stack or secret for an unexpected throw', async () => {
    await connected();
    const plain = error(await orchestrator.execute('fail', { how: 'plain' }).completed);
    expect(plain.code).toBe(TaskErrorCode.COMPONENT_FAILED);
    expect(plain.message).not.toMatch(/\n|secret\/path/);
    const secret = error(await orchestrator.execute('fail', { how: 'secret' }).completed);
    expect(JSON.stringify(secret)).not.toContain('hunter2');
  });

  it.each([
    ['unsafe_int', 'output.rows[0].id', /beyond 2\^53/],
    ['nan', 'output.mean', /not a finite number/],
    ['bigint', 'output.n', /BigInt/],
    ['cycle', 'output.self', /circular/],
  ] as const)(
    'refuses an output with %s as COMPONENT_FAILED naming the path, and keeps serving',
    async (how, path, reason) => {
      await connected();
      const failure = error(await orchestrator.execute('fail', { how }).completed);
      expect(failure.code).toBe(TaskErrorCode.COMPONENT_FAILED);
      expect(failure.message).toContain(path);
      expect(failure.message).toMatch(reason);
      expect(
        output(await orchestrator.execute('echo', { payload: 'still here' }).completed),
      ).toMatchObject({ payload: 'still here' });
    },
  );

  it('replaces an output over the 4 MiB message limit with an error naming the limit and the blob alternative', async () => {
    await connected();
    const failure = error(await orchestrator.execute('big', { bytes: 5 * 1024 * 1024 }).completed);
    expect(failure.code).toBe(TaskErrorCode.COMPONENT_FAILED);
    expect(failure.message).toContain('4194304 bytes');
    expect(failure.message).toContain('as_blob: true');
    expect(failure.data).toMatchObject({ reason: 'message_too_large', limit_bytes: 4194304 });
    expect(
      output(await orchestrator.execute('big', { bytes: 3 * 1024 * 1024 }).completed),
    ).toMatchObject({ text: expect.any(String) });
  });

  it('receives assignments larger than 4 MiB', async () => {
    await connected();
    const padding = 'y'.repeat(6 * 1024 * 1024);
    // The strict schema refuses the extra field: proof that all 6 MiB arrived and were parsed.
    const refused = error(await orchestrator.execute('fail', { how: 'value', padding }).completed);
    expect(refused.code).toBe(TaskErrorCode.INVALID_INPUT);
    expect(refused.message).toContain('input.padding');
  });

  it('heartbeats every interval while a component runs, carrying its progress', async () => {
    await connected();
    const { taskId, completed } = orchestrator.execute('slow', { ms: 3500 });
    const completion = await completed;
    expect(output(completion)).toMatchObject({ waited_ms: expect.any(Number) });
    const beats = orchestrator.heartbeats.filter((h) => h.request.taskId === taskId);
    expect(beats.length).toBeGreaterThanOrEqual(4); // the claim + one per second
    const gaps = beats.slice(1).map((b, i) => b.at - beats[i]!.at);
    expect(Math.max(...gaps)).toBeLessThan(2500);
    expect(
      beats.some(
        (b) => b.request.progress !== undefined && b.request.statusMessage?.startsWith('step '),
      ),
    ).toBe(true);
  });

  it('drops a task already claimed by another worker without running or completing it', async () => {
    await connected();
    orchestrator.claim = (request) =>
      request.taskId === 'taken' ? 'already_claimed' : 'in_progress';
    orchestrator.execute('echo', { payload: 'never' }, { taskId: 'taken' });
    const after = await orchestrator.execute('echo', { payload: 'next' }).completed;
    expect(output(after)).toMatchObject({ payload: 'next' });
    expect(orchestrator.completions.map((c) => c.taskId)).not.toContain('taken');
  });

  it('never completes a task whose claim moved to another worker mid-run (a newer attempt keeps its result)', async () => {
    await connected();
    const { taskId } = orchestrator.execute('slow', { ms: 4000 }, { taskId: 'retried' });
    await until(() => orchestrator.ownerOf(taskId) !== undefined, 'the claim');
    orchestrator.reassign(taskId, 'worker-b'); // the retry's copy, claimed elsewhere
    await until(
      () =>
        w()
          .logs()
          .some((l) => l.msg === 'dropping the result of a task whose claim was lost'),
      'the worker to drop the task',
      8000,
    );
    const next = await orchestrator.execute('echo', { payload: 'after' }).completed;
    expect(output(next)).toMatchObject({ payload: 'after' });
    expect(orchestrator.completions.map((c) => c.taskId)).not.toContain('retried');
  });

  it('runs at most STEPFLOW_MAX_CONCURRENT components and leaves the rest unread in the queue', async () => {
    await connected({ STEPFLOW_MAX_CONCURRENT: '2' });
    const tasks = Array.from({ length: 6 }, (_, i) =>
      orchestrator.execute('echo', { payload: i, delay_ms: 600 }),
    );
    await until(() => orchestrator.heartbeats.length >= 2, 'two claims');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const claimed = new Set(orchestrator.heartbeats.map((h) => h.request.taskId));
    expect(claimed.size).toBe(2);
    const outputs = await Promise.all(
      tasks.map(async (t) => output(await t.completed) as { max_in_flight: number }),
    );
    expect(Math.max(...outputs.map((o) => o.max_in_flight))).toBe(2);
  });

  it('stores and reads JSON and binary blobs through BlobService', async () => {
    await connected();
    const completion = await orchestrator.execute('blobs', {
      value: { k: [1, 2.5, 'x'] },
      text: 'héllo bytes',
    }).completed;
    const result = output(completion) as {
      json_id: string;
      bytes_id: string;
      value: unknown;
      text: string;
    };
    expect(result.value).toEqual({ k: [1, 2.5, 'x'] });
    expect(result.text).toBe('héllo bytes');
    expect(result.json_id).toMatch(/^[0-9a-f]{64}$/);
    expect(orchestrator.blobs.get(result.bytes_id)?.type).toBe('binary');
  });

  it('turns an unreachable blob service into a retryable RESOURCE_UNAVAILABLE', async () => {
    await connected({ STEPFLOW_BLOB_URL: '127.0.0.1:9' });
    const failure = error(await orchestrator.execute('blobs', { value: 1, text: 't' }).completed);
    expect(failure.code).toBe(TaskErrorCode.RESOURCE_UNAVAILABLE);
    expect(failure.data).toMatchObject({ reason: 'blob_store_unreachable', retryable: true });
    orchestrator.blobsDown = true;
    await worker!.stop('SIGKILL');
    await connected();
    const down = error(await orchestrator.execute('blobs', { value: 1, text: 't' }).completed);
    expect(down.code).toBe(TaskErrorCode.RESOURCE_UNAVAILABLE);
  });

  it('turns a silent blob service (accepts, never answers) into a retryable blob_store_timeout after the setting', async () => {
    const silent = createServer(() => {}); // takes connections, never speaks HTTP/2
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const { port } = silent.address() as AddressInfo;
      await connected({ STEPFLOW_BLOB_URL: `127.0.0.1:${port}`, STEPFLOW_BLOB_TIMEOUT_MS: '500' });
      const failure = error(await orchestrator.execute('blobs', { value: 1, text: 't' }).completed);
      expect(failure.code).toBe(TaskErrorCode.RESOURCE_UNAVAILABLE);
      expect(failure.message).toContain('did not answer a put within 500 ms');
      expect(failure.data).toMatchObject({ reason: 'blob_store_timeout', retryable: true });
    } finally {
      await worker?.stop('SIGKILL');
      worker = undefined;
      silent.close();
    }
  });

  it('submits a sub-run: the flow is stored as a flow blob and SubmitRun names the root run', async () => {
    await connected();
    const flow = {
      schema: 'https://stepflow.org/schemas/v1/flow.json',
      name: 'inner',
      steps: [],
      output: { $input: 'x' },
    };
    const completion = await orchestrator.execute('sub_run', { flow, input: { x: 7 } }).completed;
    expect(output(completion)).toEqual({
      runId: 'sub-run-1',
      outcome: 'success',
      output: { x: 7 },
    });
    const submitted = orchestrator.submitted[0]!;
    expect(orchestrator.blobs.get(submitted.runRequest!.flowId)?.type).toBe('flow');
    expect(submitted.rootRunId).toBe('01a23b41-0000-7000-8000-000000000001');
  });

  it('treats NOT_FOUND on completion as done and retries UNAVAILABLE', async () => {
    await connected();
    let refusals = 2;
    orchestrator.completeAnswer = () => (refusals-- > 0 ? 'unavailable' : 'ok');
    const completion = await orchestrator.execute('echo', { payload: 'eventually' }).completed;
    expect(output(completion)).toMatchObject({ payload: 'eventually' });
  });

  it('reconnects after the orchestrator restarts and serves the next task', async () => {
    const w = await connected();
    await orchestrator.execute('echo', { payload: 1 }).completed;
    const port = orchestrator.port;
    await orchestrator.stop();
    await until(
      () =>
        w
          .logs()
          .some(
            (l) =>
              l.msg === 'lost the orchestrator; reconnecting' ||
              l.msg === 'task stream ended; reconnecting',
          ),
      'the worker to notice',
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const restartedAt = Date.now();
    await orchestrator.listen(port);
    const completion = await orchestrator.execute('echo', { payload: 2 }).completed;
    expect(Date.now() - restartedAt).toBeLessThan(10_000);
    expect(output(completion)).toMatchObject({ payload: 2 });
    const lines = w.logs().map((l) => l.msg);
    expect(lines.filter((m) => m === 'reconnected to the orchestrator')).toHaveLength(1);
    // one line per state change, not one per attempt
    expect(lines.filter((m) => typeof m === 'string' && /reconnecting/.test(m)).length).toBe(1);
  });

  it('shuts down when the process that started it dies (SIGKILL), like an orchestrator that never killed it', async () => {
    const starter = spawn(process.execPath, [STARTER, 'direct', grpcPack], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        PATH: process.env.PATH ?? '',
        STEPFLOW_TRANSPORT: 'grpc',
        STEPFLOW_TASKS_URL: orchestrator.url,
        STEPFLOW_QUEUE_NAME: 'fixture',
        STEPFLOW_LOG_LEVEL: 'warn',
      },
    });
    const [line] = (await once(starter.stdout!, 'data')) as [Buffer];
    const { worker: pid } = JSON.parse(line.toString().split('\n')[0]!) as { worker: number };
    try {
      await until(() => orchestrator.openStreams > 0, 'the worker to connect');
      starter.kill('SIGKILL');
      expect(await goneWithin(pid, 5000)).toBeDefined();
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('backs off instead of busy-looping when streams end as soon as they open', async () => {
    orchestrator.endStreamsAtOnce = true;
    worker = startGrpcWorker(orchestrator.url);
    await until(() => orchestrator.pulls.length > 0, 'the first PullTasks');
    await new Promise((resolve) => setTimeout(resolve, 3000)); // the window being measured
    expect(orchestrator.pulls.length).toBeLessThanOrEqual(8);
  });

  it('completes through STEPFLOW_TASKS_URL when the task’s orchestrator URL goes away after the claim', async () => {
    const owner = await FixtureOrchestrator.start();
    owner.claim = () => 'in_progress';
    await connected();
    const { completed } = orchestrator.execute(
      'echo',
      { payload: 'rerouted', delay_ms: 500 },
      { orchestratorUrl: owner.url },
    );
    await until(() => owner.heartbeats.length > 0, 'the claim at the task’s URL');
    await owner.stop();
    const completion = await completed;
    expect(output(completion)).toMatchObject({ payload: 'rerouted' });
  }, 30_000);

  it('exits 1 with a clear line when the orchestrator stays unreachable past the reconnect timeout', async () => {
    const port = orchestrator.port;
    await orchestrator.stop();
    worker = startGrpcWorker(`127.0.0.1:${port}`, { STEPFLOW_RECONNECT_TIMEOUT_SECS: '2' });
    const exit = await worker.exited;
    expect(exit.code).toBe(1);
    expect(
      worker.logs().some((l) => l.msg === 'giving up: no task stream from the orchestrator'),
    ).toBe(true);
  });

  it('on SIGTERM stops pulling, completes the in-flight task and exits 0', async () => {
    const w = await connected();
    const { completed } = orchestrator.execute('echo', { payload: 'finish me', delay_ms: 1500 });
    await until(() => orchestrator.heartbeats.length > 0, 'the claim');
    w.child.kill('SIGTERM');
    const completion = await completed;
    expect(output(completion)).toMatchObject({ payload: 'finish me' });
    expect((await w.exited).code).toBe(0);
    expect(orchestrator.openStreams).toBe(0);
  });

  it('reports a component still running when the grace period ends as WORKER_ERROR', async () => {
    const w = await connected({ STEPFLOW_SHUTDOWN_GRACE_MS: '500' });
    const { completed } = orchestrator.execute('slow', { ms: 20_000 });
    await until(() => orchestrator.heartbeats.length > 0, 'the claim');
    w.child.kill('SIGTERM');
    const failure = error(await completed);
    expect(failure.code).toBe(TaskErrorCode.WORKER_ERROR);
    expect(failure.data).toMatchObject({ reason: 'worker_shutdown' });
    expect((await w.exited).code).toBe(0);
  });
});

function w(): StartedWorker {
  return worker!;
}
