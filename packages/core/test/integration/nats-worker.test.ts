import { toBinary } from '@bufbuild/protobuf';
import {
  AckPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  TaskAssignmentSchema,
  type TaskAssignment,
} from '../../src/transport/grpc/gen/stepflow/v1/tasks_pb.js';
import type { CompleteTaskRequest } from '../../src/transport/grpc/gen/stepflow/v1/orchestrator_pb.js';
import { fromValue } from '../../src/transport/grpc/values.js';
import { FixtureOrchestrator } from '../helpers/grpc-orchestrator.js';
import { startGrpcWorker, until, type StartedWorker } from '../helpers/grpc-worker.js';
import { NatsServer } from '../../src/testing/nats-server.js';

let nats: NatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
let orchestrator: FixtureOrchestrator;
let worker: StartedWorker | undefined;
let stream = '';
let streams = 0;

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await nc.close();
  await nats.dispose();
});
beforeEach(async () => {
  orchestrator = await FixtureOrchestrator.start();
  stream = `TASKS_${++streams}`;
});
afterEach(async () => {
  await worker?.stop('SIGKILL');
  worker = undefined;
  await orchestrator.stop();
});

/** As stepflow's NATS plugin does on first publish: a WorkQueue stream on <stream>.tasks. */
async function createStream(): Promise<void> {
  await jsm.streams.add({
    name: stream,
    subjects: [`${stream}.tasks`],
    retention: RetentionPolicy.Workqueue,
  });
}

async function publish(assignment: TaskAssignment): Promise<void> {
  await jetstream(nc).publish(`${stream}.tasks`, toBinary(TaskAssignmentSchema, assignment));
}

function startNatsWorker(env: Record<string, string> = {}): StartedWorker {
  worker = startGrpcWorker(orchestrator.url, {
    STEPFLOW_TRANSPORT: 'nats',
    STEPFLOW_TASKS_URL: '',
    STEPFLOW_QUEUE_NAME: '',
    STEPFLOW_NATS_URL: nats.url,
    STEPFLOW_NATS_STREAM: stream,
    STEPFLOW_NATS_CONSUMER: 'fixture',
    ...env,
  });
  return worker;
}

function output(completion: CompleteTaskRequest): unknown {
  if (completion.result.case !== 'response')
    throw new Error(`expected a response, got ${completion.result.case}`);
  return fromValue(completion.result.value.output);
}

async function pendingMessages(): Promise<number> {
  return (await jsm.streams.info(stream)).state.messages;
}

describe('NATS JetStream worker (a real nats-server)', () => {
  it('waits for the stream, creates the durable consumer, runs a task and acknowledges it after completion', async () => {
    const w = startNatsWorker();
    await until(
      () => w.logs().some((l) => l.msg === 'waiting for the task stream to exist'),
      'the worker to wait for the stream',
    );
    await createStream();
    const { assignment, completed } = orchestrator.track('echo', { payload: 'via nats' });
    await publish(assignment);
    expect(output(await completed)).toMatchObject({ payload: 'via nats', dialect: 'v0.13' });
    await until(() => orchestrator.completions.length === 1, 'the completion');
    const consumer = await jsm.consumers.info(stream, 'fixture');
    expect(consumer.config.durable_name).toBe('fixture');
    await expect.poll(pendingMessages, { timeout: 5000 }).toBe(0); // acked: gone from the work queue
  });

  it('answers discovery tasks from the stream', async () => {
    await createStream();
    startNatsWorker();
    const discovery = orchestrator.discover('unused-grpc-queue');
    // The same assignment the gRPC queue holds, delivered through NATS instead.
    const pending = orchestrator.takeQueued('unused-grpc-queue');
    await publish(pending!);
    const answer = await discovery;
    expect(answer.result.case).toBe('listComponents');
  });

  it('reads a task only when a slot is free: at most STEPFLOW_MAX_CONCURRENT run at once', async () => {
    await createStream();
    startNatsWorker({ STEPFLOW_MAX_CONCURRENT: '2' });
    const tasks = Array.from({ length: 5 }, (_, i) =>
      orchestrator.track('echo', { payload: i, delay_ms: 500 }),
    );
    for (const t of tasks) await publish(t.assignment);
    const outputs = await Promise.all(
      tasks.map(async (t) => output(await t.completed) as { max_in_flight: number }),
    );
    expect(Math.max(...outputs.map((o) => o.max_in_flight))).toBe(2);
    await expect.poll(pendingMessages, { timeout: 5000 }).toBe(0);
  });

  it('never runs a redelivered copy of a task that is still running here', async () => {
    await createStream();
    // A consumer with a 1 s ack wait: JetStream redelivers while the 3 s task runs.
    await jsm.consumers.add(stream, {
      durable_name: 'fixture',
      ack_policy: AckPolicy.Explicit,
      ack_wait: 1_000_000_000,
      filter_subject: `${stream}.tasks`,
    });
    startNatsWorker();
    const { assignment, completed } = orchestrator.track('echo', {
      payload: 'once',
      delay_ms: 3000,
    });
    await publish(assignment);
    expect(output(await completed)).toMatchObject({ payload: 'once', max_in_flight: 1 });
    expect(orchestrator.completions.filter((c) => c.taskId === assignment.taskId)).toHaveLength(1);
  });

  it('acknowledges only once the completion is accepted: an undelivered completion is redelivered and completed', async () => {
    await createStream();
    let refusals = 6; // more than one delivery's retries
    orchestrator.completeAnswer = () => (refusals-- > 0 ? 'unavailable' : 'ok');
    startNatsWorker();
    const { assignment, completed } = orchestrator.track('echo', { payload: 'persistent' });
    await publish(assignment);
    expect(output(await completed)).toMatchObject({ payload: 'persistent' });
    await expect.poll(pendingMessages, { timeout: 5000 }).toBe(0);
  }, 40_000);

  it('drops a task another worker claimed, and acknowledges it', async () => {
    await createStream();
    orchestrator.claim = () => 'already_claimed';
    startNatsWorker();
    const { assignment } = orchestrator.track('echo', { payload: 'theirs' });
    await publish(assignment);
    await expect.poll(pendingMessages, { timeout: 5000 }).toBe(0);
    expect(orchestrator.completions).toHaveLength(0);
  });

  it('recovers by itself when nats-server restarts', async () => {
    await createStream();
    const w = startNatsWorker();
    const first = orchestrator.track('echo', { payload: 1 });
    await publish(first.assignment);
    await first.completed;
    await nats.stop();
    await until(
      () => w.logs().some((l) => l.msg === 'lost NATS; reconnecting'),
      'the worker to notice',
    );
    await nats.resume();
    await until(() => !nc.isClosed() && nc.info !== undefined, 'the test connection');
    const second = orchestrator.track('echo', { payload: 2 });
    await publish(second.assignment);
    expect(output(await second.completed)).toMatchObject({ payload: 2 });
  }, 40_000);
});
