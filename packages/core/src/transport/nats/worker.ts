import { fromBinary } from '@bufbuild/protobuf';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type Consumer,
  type JsMsg,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Dispatcher } from '../../dispatcher.js';
import type { Logger } from '../../logger.js';
import { TaskAssignmentSchema, type TaskAssignment } from '../grpc/gen/stepflow/v1/tasks_pb.js';
import { backoff, sleepUnlessStopped, TaskRunner } from '../grpc/runner.js';
import type { GrpcWorker } from '../grpc/worker.js';

export interface NatsWorkerOptions {
  /** `STEPFLOW_NATS_URL`, e.g. `nats://127.0.0.1:4222`. */
  natsUrl: string;
  /** `STEPFLOW_NATS_STREAM`: tasks arrive on subject `<stream>.tasks`. */
  stream: string;
  /** `STEPFLOW_NATS_CONSUMER`: the durable pull consumer every replica shares. */
  consumer: string;
  /** gRPC address of the orchestrator for blobs (and completions a task does not route). */
  blobUrl: string;
  workerId?: string;
  maxConcurrent: number;
  blobTimeoutMs: number;
  maxMessageBytes?: number;
  shutdownGraceMs: number;
  /** Give up (exit 1) after this long without NATS; 0 = never. */
  reconnectTimeoutMs: number;
  log: Logger;
}

/** How often a running task's message is marked in progress (JetStream's ack wait is 30 s). */
const WORKING_INTERVAL_MS = 10_000;
/** A fetch waits this long for a message before asking again. */
const FETCH_EXPIRES_MS = 5000;

/**
 * A Stepflow 0.13 worker fed by NATS JetStream (`type: nats` plugins): it reads protobuf
 * `TaskAssignment`s from a durable pull consumer on `<stream>.tasks`, one per free slot, and
 * claims, heartbeats and completes them over gRPC like the pull worker. A message is
 * acknowledged only once its completion is accepted (or the task turns out to be someone
 * else's), so a worker that dies mid-task leaves it for JetStream to redeliver; a redelivered
 * copy of a task already running here is left alone.
 */
export function serveNats(dispatcher: Dispatcher, options: NatsWorkerOptions): GrpcWorker {
  const log = options.log;
  const runner = new TaskRunner(dispatcher, {
    homeUrl: options.blobUrl,
    blobUrl: options.blobUrl,
    ...(options.workerId ? { workerId: options.workerId } : {}),
    maxConcurrent: options.maxConcurrent,
    blobTimeoutMs: options.blobTimeoutMs,
    ...(options.maxMessageBytes ? { maxMessageBytes: options.maxMessageBytes } : {}),
    log,
  });
  const stop = new AbortController();
  const subject = `${options.stream}.tasks`;
  let nc: NatsConnection | undefined;

  const connectWithRetry = async (): Promise<NatsConnection | undefined> => {
    const since = Date.now();
    for (let failures = 1; !stop.signal.aborted; failures++) {
      try {
        return await connect({
          servers: options.natsUrl,
          name: `stepflow-pack-${dispatcher.pack.name}`,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1000,
        });
      } catch (err) {
        if (failures === 1) {
          log.warn('cannot reach NATS yet; retrying', {
            url: options.natsUrl,
            error: err instanceof Error ? err.message : String(err),
          });
        }
        if (options.reconnectTimeoutMs > 0 && Date.now() - since > options.reconnectTimeoutMs) {
          return undefined;
        }
        await sleepUnlessStopped(backoff(failures), stop.signal);
      }
    }
    return undefined;
  };

  /** The durable consumer (created like the Python worker's pull_subscribe, if missing). */
  const ensureConsumer = async (connection: NatsConnection): Promise<Consumer | undefined> => {
    const jsm = await jetstreamManager(connection);
    let waiting = false;
    while (!stop.signal.aborted) {
      try {
        try {
          await jsm.consumers.info(options.stream, options.consumer);
        } catch (err) {
          if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
          await jsm.consumers.add(options.stream, {
            durable_name: options.consumer,
            ack_policy: AckPolicy.Explicit,
            deliver_policy: DeliverPolicy.All,
            filter_subject: subject,
          });
        }
        return await jetstream(connection).consumers.get(options.stream, options.consumer);
      } catch (err) {
        if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) throw err;
        if (!waiting) log.info('waiting for the task stream to exist', { stream: options.stream });
        waiting = true;
        await sleepUnlessStopped(2000, stop.signal);
      }
    }
    return undefined;
  };

  const handle = async (msg: JsMsg): Promise<void> => {
    let assignment: TaskAssignment;
    try {
      assignment = fromBinary(TaskAssignmentSchema, msg.data);
    } catch (err) {
      runner.slots.release();
      log.error('dropping a message that is not a TaskAssignment', {
        subject: msg.subject,
        seq: msg.seq,
        error: err instanceof Error ? err.message : String(err),
      });
      msg.term('not a protobuf TaskAssignment');
      return;
    }
    if (assignment.task.case === 'listComponents') {
      runner.slots.release();
      await runner.answerDiscovery(assignment);
      msg.ack();
      return;
    }
    if (assignment.task.case !== 'execute' || runner.isRunning(assignment.taskId)) {
      // A redelivered copy of a task running here: the original's ack settles the message.
      runner.slots.release();
      if (assignment.task.case !== 'execute') msg.term('unknown task kind');
      return;
    }
    const working = setInterval(() => msg.working(), WORKING_INTERVAL_MS);
    working.unref();
    let outcome;
    try {
      outcome = await runner.execute(assignment);
    } finally {
      clearInterval(working);
    }
    if (outcome === 'undelivered') {
      msg.nak(1000); // another delivery, once the orchestrator can take a completion again
    } else {
      await msg.ackAck().catch((err: unknown) =>
        log.warn('the acknowledgement was not confirmed; NATS may redeliver the task', {
          task: assignment.taskId,
          error: err instanceof Error ? err.message : String(err),
        }),
      );
    }
  };

  const loop = async (): Promise<number> => {
    nc = await connectWithRetry();
    if (!nc) {
      if (stop.signal.aborted) return 0;
      log.error('giving up: NATS stayed unreachable', { url: options.natsUrl });
      return 1;
    }
    const connection = nc;
    void (async () => {
      for await (const status of connection.status()) {
        if (status.type === 'disconnect')
          log.warn('lost NATS; reconnecting', { url: options.natsUrl });
        else if (status.type === 'reconnect')
          log.info('reconnected to NATS', { url: options.natsUrl });
      }
    })();
    log.info('consuming tasks from NATS JetStream', {
      url: options.natsUrl,
      stream: options.stream,
      consumer: options.consumer,
      worker_id: runner.workerId,
      max_concurrent: options.maxConcurrent,
    });
    let consumer: Consumer | undefined;
    let failures = 0;
    while (!stop.signal.aborted) {
      try {
        consumer ??= await ensureConsumer(connection);
        if (!consumer) break;
        await runner.slots.acquire(); // read a task only when a slot is free
        if (stop.signal.aborted) {
          runner.slots.release();
          break;
        }
        let msg: JsMsg | null;
        try {
          msg = await consumer.next({ expires: FETCH_EXPIRES_MS });
        } catch (err) {
          runner.slots.release();
          throw err;
        }
        failures = 0;
        if (!msg) {
          runner.slots.release();
          continue;
        }
        void handle(msg);
      } catch (err) {
        failures++;
        if (failures === 1) {
          log.warn('cannot read tasks from NATS; retrying', {
            error: err instanceof Error ? err.message : String(err),
          });
        }
        consumer = undefined; // the server may have lost it (a restart without storage)
        await sleepUnlessStopped(backoff(failures), stop.signal);
      }
    }
    return 0;
  };

  let resolveShutdown: (() => void) | undefined;
  const shutdownRequested = new Promise<void>((resolve) => (resolveShutdown = resolve));
  const done = (async () => {
    const code = await Promise.race([loop(), shutdownRequested.then(() => 0)]);
    stop.abort();
    await runner.drain(options.shutdownGraceMs);
    await nc?.drain().catch(() => {});
    return code;
  })();

  return {
    workerId: runner.workerId,
    done,
    shutdown() {
      if (stop.signal.aborted) return;
      log.info('stopping: no new tasks will be read');
      stop.abort();
      resolveShutdown?.();
    },
  };
}

function isApiError(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}
