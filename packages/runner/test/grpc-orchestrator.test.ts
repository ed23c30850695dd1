import { createHash } from 'node:crypto';
import { connect as connectHttp2 } from 'node:http2';
import { create, toBinary } from '@bufbuild/protobuf';
import { GetBlobRequestSchema, TaskStatus } from '@stepflow-packs/core/grpc';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { Environment } from '../src/execute/environment.js';
import { toFlowResult } from '../src/execute/result.js';
import type { StepEvent } from '../src/execute/run.js';
import { parseFlow } from '../src/flow/parse.js';
import { fromWire, toWire } from '../src/grpc/values.js';
import { parseYaml } from '../src/json/yaml.js';
import type { Json } from '../src/json/value.js';
import { grpcCode, HandWorker, type Reported } from './grpc-helpers.js';

/**
 * The runner's orchestrator side against a hand-driven worker (a real gRPC client on HTTP/2 in
 * this process): every claim, heartbeat and completion is chosen by the test.
 */
const open: { env: Environment; workers: HandWorker[] }[] = [];
afterEach(async () => {
  for (const { env, workers } of open.splice(0)) {
    for (const w of workers) w.stop();
    await env.close();
  }
});

async function start(
  configYaml: string,
  components: Reported[],
  options: { events?: StepEvent[]; workerId?: string } = {},
) {
  const config = parseConfig(parseYaml(configYaml, 'config.yml'), {
    source: 'config.yml',
    file: undefined,
    baseDir: process.cwd(),
  });
  const workers: HandWorker[] = [];
  const env = await Environment.start({
    version: 'v0.13',
    config,
    onGrpcListening: (address) =>
      workers.push(new HandWorker(address, 'hand', options.workerId ?? 'worker-1', components)),
    ...(options.events ? { onStepEvent: (e: StepEvent) => options.events!.push(e) } : {}),
  });
  open.push({ env, workers });
  return { env, worker: workers[0]!, address: env.grpcAddress! };
}

const CONFIG = (extra = '') => `plugins:
  hand:
    type: grpc
    queueName: hand
${extra}routes:
  "/hand":
    - plugin: hand
  "/":
    - plugin: hand
retry:
  transportMaxRetries: 1
  backoff: {type: constant, delayMs: 10}
`;

function flowOf(yaml: string) {
  return parseFlow(parseYaml(yaml, 'flow.yaml'), { version: 'v0.13', file: 'flow.yaml' }).flow;
}

const oneStep = (component: string, extra = '') =>
  flowOf(`steps:
  - id: s
    component: ${component}
    input: {n: {$input: n}}
${extra}output: {$step: s}
`);

describe('0.13 orchestrator emulation: routing and execution', () => {
  it('routes by the paths the worker reported: captures become path_params, "/" takes the full path', async () => {
    const { env, worker } = await start(CONFIG(), [
      { id: 'item', path: '/items/{id}' },
      { id: 'file', path: '/files/{*rest}' },
      { id: 'add', path: '/add' },
    ]);
    const run = env.run(oneStep('/hand/items/42'), { n: 1 });
    const task = await worker.next();
    expect(task.execute.componentId).toBe('item');
    expect(task.execute.pathParams).toEqual({ id: '42' });
    expect(task.execute.attempt).toBe(1);
    expect(fromWire(task.execute.input)).toEqual({ n: 1 });
    expect(task.execute.observability?.stepId).toBe('s');
    expect(task.heartbeatIntervalSecs).toBe(1);
    expect(task.context?.orchestratorServiceUrl).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await worker.heartbeat(task.taskId)).status).toBe(TaskStatus.IN_PROGRESS);
    await worker.succeed(task.taskId, { got: 42 });
    expect(toFlowResult((await run).result)).toEqual({ outcome: 'success', result: { got: 42 } });

    // "/" fallback: /files/a/b has no "/files" prefix, so "/" gets the full path.
    const viaRoot = env.run(oneStep('/files/a/b'), { n: 2 });
    const t2 = await worker.next();
    expect(t2.execute.componentId).toBe('file');
    expect(t2.execute.pathParams).toEqual({ rest: 'a/b' });
    await worker.heartbeat(t2.taskId);
    await worker.succeed(t2.taskId, null);
    expect(toFlowResult((await viaRoot).result)).toEqual({ outcome: 'success', result: null });

    const missing = await env.run(oneStep('/hand/nope'), { n: 3 });
    expect(toFlowResult(missing.result)).toMatchObject({
      outcome: 'failed',
      error: { code: 'ORCHESTRATOR_ERROR', message: 'error routing component' },
    });
  });

  it('claims by first heartbeat (another worker id gets ALREADY_CLAIMED); the first CompleteTask wins, later ones get NOT_FOUND', async () => {
    const { env, worker } = await start(CONFIG(), [{ id: 'add', path: '/add' }]);
    const run = env.run(oneStep('/hand/add'), { n: 1 });
    const task = await worker.next();
    expect(await grpcCode(worker.heartbeat(task.taskId, ''))).toBe('InvalidArgument');
    expect((await worker.heartbeat(task.taskId)).status).toBe(TaskStatus.IN_PROGRESS);
    const other = await worker.heartbeat(task.taskId, 'worker-2');
    expect(other).toMatchObject({ shouldAbort: true, status: TaskStatus.ALREADY_CLAIMED });
    await worker.orchestrator.completeTask({
      taskId: task.taskId,
      result: {
        case: 'error',
        value: { code: 3, message: 'boom', data: { b: 2, a: 1, whole: 3.0 } },
      },
    });
    expect(await grpcCode(worker.succeed(task.taskId, 1))).toBe('NotFound');
    expect(await grpcCode(worker.heartbeat(task.taskId))).toBe('NotFound');
    const result = toFlowResult((await run).result) as { error: { data: Json } };
    expect(result).toMatchObject({
      outcome: 'failed',
      error: { code: 'COMPONENT_FAILED', message: 'boom' },
    });
    expect(JSON.stringify(result.error.data)).toBe('{"a":1,"b":2,"whole":3}'); // keys sorted
    expect(
      await grpcCode(
        worker.orchestrator.completeTask({ taskId: 'never-queued', result: { case: undefined } }),
      ),
    ).toBe('NotFound');
  });

  it('queue timeout: an unclaimed task times out after queueTimeoutSecs, is retried with the same task id and attempt 2, and a late claim of the retry succeeds', async () => {
    const events: StepEvent[] = [];
    const { env, worker } = await start(
      CONFIG('    queueTimeoutSecs: 1\n'),
      [{ id: 'add', path: '/add' }],
      {
        events,
      },
    );
    const t0 = Date.now();
    const run = env.run(oneStep('/hand/add'), { n: 1 });
    const first = await worker.next();
    // Not claimed: after 1 s the orchestrator gives up on it and retries (same id, attempt 2).
    const second = await worker.next(5_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(second.taskId).toBe(first.taskId);
    expect(second.execute.attempt).toBe(2);
    await worker.heartbeat(second.taskId);
    await worker.succeed(second.taskId, 'late but fine');
    expect(toFlowResult((await run).result)).toEqual({
      outcome: 'success',
      result: 'late but fine',
    });
    expect(events.filter((e) => e.type === 'retry')).toMatchObject([
      { reason: 'transport', code: 'TIMEOUT', attempt: 1 },
    ]);
  });

  it('queue timeout exhausts transportMaxRetries with TIMEOUT and upstream message; useDefault turns it into success at once', async () => {
    const { env, worker } = await start(CONFIG('    queueTimeoutSecs: 1\n'), [
      { id: 'add', path: '/add' },
    ]);
    const run = env.run(oneStep('/hand/add'), { n: 1 });
    const failed = toFlowResult((await run).result) as { error: { code: string; message: string } };
    expect(failed.error.code).toBe('TIMEOUT');
    expect(failed.error.message).toMatch(
      /^task '[0-9a-f-]{36}' timed out waiting for worker to start$/,
    );
    expect(worker.tasks.length).toBe(2); // the first try and one retry, never claimed
    const t0 = Date.now();
    const fallback = await env.run(
      oneStep('/hand/add', '    onError: {action: useDefault, defaultValue: 0}\n'),
      { n: 1 },
    );
    expect(toFlowResult(fallback.result)).toEqual({ outcome: 'success', result: 0 });
    expect(Date.now() - t0).toBeLessThan(1_900); // one queue timeout, no retry
  });

  it('heartbeat loss: a claimed task without heartbeats times out at a 5 s scan and is retried', async () => {
    const { env, worker } = await start(CONFIG(), [{ id: 'add', path: '/add' }]);
    const t0 = Date.now();
    const run = env.run(oneStep('/hand/add'), { n: 1 });
    const first = await worker.next();
    await worker.heartbeat(first.taskId); // claimed, then silence
    const retry = await worker.next(15_000);
    const waited = Date.now() - t0;
    expect(retry.taskId).toBe(first.taskId);
    expect(retry.execute.attempt).toBe(2);
    expect(waited).toBeGreaterThanOrEqual(4_900);
    expect(waited).toBeLessThan(11_000);
    await worker.heartbeat(retry.taskId);
    await worker.succeed(retry.taskId, 5);
    expect(toFlowResult((await run).result)).toEqual({ outcome: 'success', result: 5 });
  }, 20_000);
});

describe('0.13 orchestrator emulation: remote workers', () => {
  it('a remote worker connecting late: initial discovery gives up after 5 s, a step waits for readiness, then routes and runs', async () => {
    const config = parseConfig(parseYaml(CONFIG(), 'config.yml'), {
      source: 'config.yml',
      file: undefined,
      baseDir: process.cwd(),
    });
    const t0 = Date.now();
    const env = await Environment.start({ version: 'v0.13', config });
    const workers: HandWorker[] = [];
    open.push({ env, workers });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4_900); // the 5 s discovery deadline
    expect(await env.plugin('hand')!.list()).toEqual([]);
    const run = env.run(oneStep('/hand/add'), { n: 1 });
    await new Promise((r) => setTimeout(r, 300));
    const late = new HandWorker(env.grpcAddress!, 'hand', 'late', [{ id: 'add', path: '/add' }]);
    workers.push(late);
    const task = await late.next();
    await late.heartbeat(task.taskId);
    await late.succeed(task.taskId, 'late worker');
    expect(toFlowResult((await run).result)).toEqual({ outcome: 'success', result: 'late worker' });
  }, 20_000);
});

describe('0.13 orchestrator emulation: execution timeout', () => {
  it('executionTimeoutSecs: a task heartbeating past its limit fails TIMEOUT at the next scan and is retried', async () => {
    const events: StepEvent[] = [];
    const { env, worker } = await start(
      CONFIG('    executionTimeoutSecs: 1\n'),
      [{ id: 'add', path: '/add' }],
      { events },
    );
    const run = env.run(oneStep('/hand/add'), { n: 1 });
    const first = await worker.next();
    const beats = setInterval(
      () => void worker.heartbeat(first.taskId).catch(() => undefined),
      300,
    );
    try {
      const retry = await worker.next(12_000);
      expect(retry.execute.attempt).toBe(2);
      await worker.heartbeat(retry.taskId);
      await worker.succeed(retry.taskId, 'second try');
    } finally {
      clearInterval(beats);
    }
    expect(toFlowResult((await run).result)).toEqual({ outcome: 'success', result: 'second try' });
    expect(events.find((e) => e.type === 'retry')).toMatchObject({ code: 'TIMEOUT' });
  }, 20_000);
});

describe('0.13 orchestrator emulation: route params', () => {
  it('a route-level queueName sends the tasks to that queue, created on demand', async () => {
    const { env, worker, address } = await start(
      `plugins:
  hand: {type: grpc, queueName: hand}
routes:
  "/hand": [{plugin: hand}]
  "/slow": [{plugin: hand, queueName: slow}]
`,
      [{ id: 'add', path: '/add' }],
    );
    const run = env.run(oneStep('/slow/add'), { n: 1 });
    await new Promise((r) => setTimeout(r, 200));
    const slow = new HandWorker(address, 'slow', 'slow-worker', []);
    open[open.length - 1]!.workers.push(slow);
    const task = await slow.next();
    expect(task.execute.componentId).toBe('add');
    await slow.heartbeat(task.taskId);
    await slow.succeed(task.taskId, 'via slow');
    expect(toFlowResult((await run).result)).toEqual({ outcome: 'success', result: 'via slow' });
    expect(worker.tasks).toHaveLength(0);
  });
});

describe('0.13 orchestrator emulation: BlobService', () => {
  it('content-addressed ids: SHA-256 of the compact JSON with sorted keys and recovered integers', async () => {
    const { worker } = await start(CONFIG(), [{ id: 'add', path: '/add' }]);
    const put = await worker.blobs.putBlob({
      content: { case: 'jsonData', value: toWire({ a: 1 }) },
    });
    expect(put.blobId).toBe('015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862');
    const unordered = await worker.blobs.putBlob({
      content: { case: 'jsonData', value: toWire({ z: [1.5, 2], a: 'x' }) },
    });
    const expected = createHash('sha256').update('{"a":"x","z":[1.5,2]}').digest('hex');
    expect(unordered.blobId).toBe(expected);
    const got = await worker.blobs.getBlob({ blobId: unordered.blobId });
    expect(got.content.case).toBe('jsonData');
    expect(fromWire(got.content.value as never)).toEqual({ a: 'x', z: [1.5, 2] });
    const raw = await worker.blobs.putBlob({
      content: { case: 'rawData', value: new Uint8Array([1, 2, 3]) },
    });
    expect(raw.blobId).toBe(
      createHash('sha256')
        .update(Buffer.from([1, 2, 3]))
        .digest('hex'),
    );
    const bytes = await worker.blobs.getBlob({ blobId: raw.blobId });
    expect(bytes).toMatchObject({ blobType: 'binary', content: { case: 'rawData' } });
    expect(await grpcCode(worker.blobs.getBlob({ blobId: 'nope' }))).toBe('InvalidArgument');
    expect(await grpcCode(worker.blobs.getBlob({ blobId: '0'.repeat(64) }))).toBe('NotFound');
    expect(
      await grpcCode(
        worker.blobs.putBlob({
          blobType: 'weird',
          content: { case: 'jsonData', value: toWire(1) },
        }),
      ),
    ).toBe('InvalidArgument');
  });

  it('a worker that has not read its earlier GetBlob replies still gets the next blobs (no ENHANCE_YOUR_CALM)', async () => {
    const { env, address } = await start(CONFIG(), [{ id: 'add', path: '/add' }]);
    // ~2.4 MB of records: ten unread replies hold far more than Node's default 10 MB per session
    const records = Array.from({ length: 40_000 }, (_, i) => ({ id: i, g: i % 10, s: `k${i}` }));
    const id = await env.blobStore.put(records);
    const body = toBinary(GetBlobRequestSchema, create(GetBlobRequestSchema, { blobId: id }));
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    frame.set(body, 5);
    const session = connectHttp2(`http://${address}`);
    try {
      const calls = [];
      const streams = [];
      for (let i = 0; i < 10; i++) {
        const stream = session.request({
          ':method': 'POST',
          ':path': '/stepflow.v1.BlobService/GetBlob',
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        stream.pause(); // busy: nothing is read until all ten are under way
        streams.push(stream);
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', () => {});
        let grpcStatus: unknown;
        stream.on('trailers', (trailers) => (grpcStatus = trailers['grpc-status']));
        calls.push(
          new Promise<{ rst: number; status: unknown; bytes: number }>((resolve) =>
            stream.on('close', () =>
              resolve({
                rst: stream.rstCode ?? 0,
                status: grpcStatus,
                bytes: Buffer.concat(chunks).length,
              }),
            ),
          ),
        );
        stream.end(frame);
        await new Promise((resolve) => setTimeout(resolve, 100)); // the replies pile up
      }
      for (const stream of streams) stream.resume();
      const sizes = new Set<number>();
      for (const call of calls) {
        const outcome = await call;
        expect(outcome).toMatchObject({ rst: 0, status: '0' });
        sizes.add(outcome.bytes);
      }
      expect(sizes.size).toBe(1);
      expect([...sizes][0]).toBeGreaterThan(2_000_000);
    } finally {
      session.destroy();
    }
  });

  it('SubmitRun runs a flow blob in the environment and returns its item results', async () => {
    const { worker } = await start(
      `plugins:
  builtin: {type: builtin}
  hand: {type: grpc, queueName: hand}
routes:
  "/builtin": [{plugin: builtin}]
  "/hand": [{plugin: hand}]
`,
      [{ id: 'add', path: '/add' }],
    );
    const flow = {
      schema: 'https://stepflow.org/schemas/v1/flow.json',
      name: 'sub',
      steps: [
        { id: 'm', component: '/builtin/create_messages', input: { user_prompt: { $input: 'p' } } },
      ],
      output: { $step: 'm', path: 'messages' },
    };
    const { blobId } = await worker.blobs.putBlob({
      blobType: 'flow',
      content: { case: 'jsonData', value: toWire(flow as never) },
    });
    const status = await worker.orchestrator.submitRun({
      runRequest: { flowId: blobId, input: [toWire({ p: 'hi' }), toWire({})], wait: true },
    });
    expect(status.flowName).toBe('sub');
    expect(status.items).toMatchObject({ total: 2, completed: 1, failed: 1 });
    expect(fromWire(status.results[0]!.output)).toEqual([{ role: 'user', content: 'hi' }]);
    expect(status.results[1]!.errorCode).toBe(8); // EXPRESSION_FAILURE: input path p missing
    const again = await worker.orchestrator.getRun({ runId: status.runId, includeResults: true });
    expect(again.results).toHaveLength(2);
    expect(
      await grpcCode(
        worker.orchestrator.submitRun({ runRequest: { flowId: '0'.repeat(64), input: [] } }),
      ),
    ).toBe('NotFound');
  });
});
