/**
 * Stepflow 0.13 `type: nats` plugins against a real nats-server with JetStream: tasks published
 * as protobuf `TaskAssignment`s to `<stream>.tasks` of a WorkQueue stream, claimed, heartbeated
 * and completed over the runner's gRPC port by data-pack workers built on @stepflow-packs/core.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { Environment } from '../src/execute/environment.js';
import { toFlowResult } from '../src/execute/result.js';
import { parseFlow } from '../src/flow/parse.js';
import type { Json } from '../src/json/value.js';
import { parseYaml } from '../src/json/yaml.js';
import { NatsServer } from '@stepflow-packs/core/testing';

const DATA_BIN = fileURLToPath(new URL('../../data/dist/bin.js', import.meta.url));

let nats: NatsServer;
const children: ChildProcess[] = [];
const envs: Environment[] = [];
beforeAll(async () => {
  nats = await NatsServer.start();
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.allSettled(envs.map((e) => e.close()));
  await nats?.dispose();
});

function config(yaml: string) {
  return parseConfig(parseYaml(yaml, 'config.yml'), {
    source: 'config.yml',
    file: undefined,
    baseDir: process.cwd(),
  });
}

/** Two data-pack steps; `server` names the worker process that ran the second. */
const FLOW = parseFlow(
  parseYaml(
    `schema: https://stepflow.org/schemas/v1/flow.json
name: replicated
steps:
  - id: sort
    component: /data/sort_records
    input:
      records: {$input: records}
      by: [{field: n, order: desc}]
  - id: who
    component: /data/health_check
    input: {}
output:
  first: {$step: sort, path: "$.records[0].n"}
  server: {$step: who, path: server_id}
`,
    'flow.yaml',
  ),
  { version: 'v0.13', file: 'flow.yaml' },
).flow;

/**
 * As FLOW, but the replica is named by `distributed_processing`, which holds its task ~100 ms
 * (priority 10): every replica has tasks in flight when one is killed.
 */
const SLOW_FLOW = parseFlow(
  parseYaml(
    `schema: https://stepflow.org/schemas/v1/flow.json
name: replicated-slow
steps:
  - id: sort
    component: /data/sort_records
    input:
      records: {$input: records}
      by: [{field: n, order: desc}]
  - id: who
    component: /data/distributed_processing
    input: {task_id: {$input: task}, data: {}, priority: 10}
output:
  first: {$step: sort, path: "$.records[0].n"}
  server: {$step: who, path: server_id}
`,
    'slow.yaml',
  ),
  { version: 'v0.13', file: 'slow.yaml' },
).flow;

function records(i: number): Json {
  return { records: [{ n: i }, { n: i + 7 }, { n: i + 3 }] };
}

describe('0.13 type: nats plugins', () => {
  it('runs a data-pack flow through a spawned NATS worker and creates the WorkQueue stream on first publish', async () => {
    const env = await Environment.start({
      version: 'v0.13',
      config: config(`plugins:
  data:
    type: nats
    url: ${nats.url}
    consumer: data
    stream: DATA_ONE
    command: ${process.execPath}
    args: [${JSON.stringify(DATA_BIN)}]
    env: {STEPFLOW_LOG_LEVEL: error}
routes:
  "/data":
    - plugin: data
`),
    });
    envs.push(env);
    const { result } = await env.run(FLOW, records(5));
    const flowResult = toFlowResult(result) as { outcome: string; result: { first: number } };
    expect(flowResult).toMatchObject({ outcome: 'success', result: { first: 12 } });
    expect(env.workerStats()).toEqual([
      { name: 'data', transport: 'nats', restarts: 0, junkLines: 0, pids: [expect.any(Number)] },
    ]);

    const nc = await connect({ servers: nats.url });
    try {
      const info = await (await jetstreamManager(nc)).streams.info('DATA_ONE');
      expect(info.config.subjects).toEqual(['DATA_ONE.tasks']);
      expect(info.config.retention).toBe(RetentionPolicy.Workqueue);
      expect(info.state.messages).toBe(0); // every task consumed and acknowledged
    } finally {
      await nc.close();
    }
    await env.close();
  });

  it("sends a route rule's `stream` tasks to that stream, and warns that a plugin without `stream` cannot be discovered", async () => {
    const env = await Environment.start({
      version: 'v0.13',
      config: config(`plugins:
  data:
    type: nats
    url: ${nats.url}
    consumer: data
    stream: DATA_MAIN
    command: ${process.execPath}
    args: [${JSON.stringify(DATA_BIN)}]
    env: {STEPFLOW_LOG_LEVEL: error}
routes:
  "/data":
    - plugin: data
  "/alt":
    - plugin: data
      stream: DATA_ALT
`),
    });
    envs.push(env);
    // A second worker, started by hand, reads only DATA_ALT.
    const alt = spawn(process.execPath, [DATA_BIN], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        PATH: process.env.PATH ?? '',
        STEPFLOW_TRANSPORT: 'nats',
        STEPFLOW_NATS_URL: nats.url,
        STEPFLOW_NATS_STREAM: 'DATA_ALT',
        STEPFLOW_NATS_CONSUMER: 'data',
        STEPFLOW_BLOB_URL: env.grpcAddress!,
        STEPFLOW_LOG_LEVEL: 'error',
      },
    });
    children.push(alt);
    const who = (prefix: string) =>
      parseFlow(
        parseYaml(
          `steps:\n  - id: who\n    component: ${prefix}/health_check\n    input: {}\noutput: {$step: who, path: server_id}\n`,
          'who.yaml',
        ),
        { version: 'v0.13', file: 'who.yaml' },
      ).flow;
    const main = toFlowResult((await env.run(who('/data'), {})).result) as { result: string };
    const viaAlt = toFlowResult((await env.run(who('/alt'), {})).result) as { result: string };
    expect(typeof main.result).toBe('string');
    expect(typeof viaAlt.result).toBe('string');
    expect(viaAlt.result).not.toBe(main.result); // different worker processes served them
    await env.close();
    alt.kill('SIGKILL');

    const warned: string[] = [];
    const streamless = await Environment.start({
      version: 'v0.13',
      config: config(`plugins:
  data: {type: nats, url: "${nats.url}", consumer: data}
  builtin: {type: builtin}
routes:
  "/builtin": [{plugin: builtin}]
  "/data": [{plugin: data}]
`),
      warn: (m) => warned.push(m),
    });
    envs.push(streamless);
    expect(warned).toEqual([
      'plugin "data": no `stream` set, so its components cannot be discovered (only route-level streams are published to)',
    ]);
    await streamless.close();
  });

  it('fails to start, naming the URL, when NATS is unreachable', async () => {
    await expect(
      Environment.start({
        version: 'v0.13',
        config: config(`plugins:
  data: {type: nats, url: "nats://127.0.0.1:1", consumer: data, stream: X}
routes:
  "/data": [{plugin: data}]
`),
      }),
    ).rejects.toThrow(
      /plugin "data" failed to start: cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/,
    );
  });

  it('three external replicas on one consumer: 500 runs succeed once each, all replicas work, and a SIGKILLed replica and a nats-server restart lose no run; the redelivered stale messages are acknowledged and the stream drains', async () => {
    const stream = 'DATA_REPLICAS';
    const replicas: ChildProcess[] = [];
    const startReplica = (address: string, index: number) => {
      const child = spawn(process.execPath, [DATA_BIN], {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: {
          PATH: process.env.PATH ?? '',
          STEPFLOW_TRANSPORT: 'nats',
          STEPFLOW_NATS_URL: nats.url,
          STEPFLOW_NATS_STREAM: stream,
          STEPFLOW_NATS_CONSUMER: 'data',
          STEPFLOW_BLOB_URL: address,
          STEPFLOW_WORKER_ID: `replica-${index}`,
          STEPFLOW_MAX_CONCURRENT: '4',
          STEPFLOW_LOG_LEVEL: 'error',
        },
      });
      children.push(child);
      replicas.push(child);
    };
    const warnings: string[] = [];
    const retried = new Set<string>();
    const env = await Environment.start({
      version: 'v0.13',
      config: config(`plugins:
  data:
    type: nats
    url: ${nats.url}
    consumer: data
    stream: ${stream}
    queueTimeoutSecs: 10
routes:
  "/data":
    - plugin: data
retry:
  transportMaxRetries: 3
  backoff: {type: constant, delayMs: 10}
`),
      // The replicas can only start once the runner's gRPC address is known.
      onGrpcListening: (address) => {
        for (let i = 0; i < 3; i++) startReplica(address, i);
      },
      warn: (m: string) => warnings.push(m),
      onStepEvent: (e) => {
        if (e.type === 'attempt' && e.attempt > 1) retried.add(`${e.runId}/${e.stepId}`);
      },
    });
    envs.push(env);

    const TOTAL = 500;
    const CONCURRENCY = 16;
    const outcomes = new Map<number, { first?: number; server?: string; error?: unknown }>();
    const perServer = new Map<string, number>();
    let done = 0;
    let killed: string | undefined;
    let restarted = false;
    const afterRestart = new Set<string>();
    const started = Date.now();
    const timings: Record<string, number> = {};
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < TOTAL; i = next++) {
        const { result } = await env.run(SLOW_FLOW, {
          ...(records(i) as object),
          task: `run-${i}`,
        });
        const r = toFlowResult(result) as {
          outcome: string;
          result?: { first: number; server: string };
          error?: unknown;
        };
        expect(outcomes.has(i)).toBe(false);
        outcomes.set(
          i,
          r.outcome === 'success' ? { ...r.result! } : { error: r.error ?? r.outcome },
        );
        if (r.result?.server) {
          perServer.set(r.result.server, (perServer.get(r.result.server) ?? 0) + 1);
          if (restarted) afterRestart.add(r.result.server);
        }
        done++;
        if (done === 150 && !killed) {
          // Every replica has taken work before one of them dies.
          expect(perServer.size).toBe(3);
          killed = 'replica-0';
          replicas[0]!.kill('SIGKILL');
          timings.killAt = Date.now() - started;
        }
        if (done === 320 && !restarted) {
          restarted = true;
          timings.restartAt = Date.now() - started;
          await nats.stop();
          await new Promise((resolve) => setTimeout(resolve, 500));
          await nats.resume();
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    timings.total = Date.now() - started;
    console.log(
      `500 runs over NATS: ${JSON.stringify(Object.fromEntries(perServer))} (per server_id); replica-0 SIGKILLed after 150 runs at ${timings.killAt} ms, nats-server restarted after 320 at ${timings.restartAt} ms, all done in ${timings.total} ms; ${retried.size} steps retried; runner warnings: ${JSON.stringify(warnings)}`,
    );

    const failures = [...outcomes].filter(([, o]) => o.error !== undefined);
    expect(failures).toEqual([]);
    expect(outcomes.size).toBe(TOTAL);
    for (const [i, o] of outcomes) expect(o.first).toBe(i + 7);
    expect([...perServer.values()].reduce((a, b) => a + b, 0)).toBe(TOTAL);
    expect(perServer.size).toBe(3);
    for (const n of perServer.values()) expect(n).toBeGreaterThan(0);
    expect(replicas[0]!.exitCode === null && replicas[0]!.signalCode === 'SIGKILL').toBe(true);
    // The killed replica's claimed tasks lost their heartbeats and were retried elsewhere.
    expect(retried.size).toBeGreaterThan(0);
    // The survivors recovered from the restart on their own and both did runs after it.
    expect(afterRestart.size).toBe(2);

    // The killed replica's messages were never acknowledged: JetStream redelivers them after the
    // consumer's 30 s ack wait, the survivors find their tasks finished and acknowledge them, and
    // the WorkQueue stream drains.
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const leftAtEnd = (await jsm.streams.info(stream)).state.messages;
      const drainStarted = Date.now();
      let left = leftAtEnd;
      while (left > 0 && Date.now() - drainStarted < 45_000) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        left = (await jsm.streams.info(stream)).state.messages;
      }
      const consumer = await jsm.consumers.info(stream, 'data');
      console.log(
        `stream ${stream}: ${leftAtEnd} unacknowledged message(s) after the last run, ${left} after ${Date.now() - drainStarted} ms; consumer: ${consumer.num_redelivered} redelivered, ${consumer.num_ack_pending} ack pending`,
      );
      expect(left).toBe(0);
      expect(consumer.num_ack_pending).toBe(0);
    } finally {
      await nc.close();
    }
    expect(replicas[1]!.exitCode).toBe(null);
    expect(replicas[2]!.exitCode).toBe(null);
  }, 90_000);
});
