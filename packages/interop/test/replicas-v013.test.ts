/**
 * Scale-out on the real stepflow-server 0.13.0: three replicas of the data pack as remote gRPC
 * pull workers on one queue (a `type: grpc` plugin without `command`). Every run succeeds
 * exactly once, every replica takes work, and a replica killed with SIGKILL half-way loses no
 * run (its tasks time out and are retried on the others).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { requestJson, StepflowServer } from '@stepflow-packs/runner';

const binary = inject('stepflowBinaries')['0.13.0'];
const dataBin = fileURLToPath(new URL('../../data/dist/bin.js', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'replicas-v013-'));
const replicas: ChildProcess[] = [];
afterAll(() => {
  for (const r of replicas) r.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function replica(port: number, index: number): ChildProcess {
  const child = spawn(process.execPath, [dataBin], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '',
      STEPFLOW_TRANSPORT: 'grpc',
      STEPFLOW_TASKS_URL: `127.0.0.1:${port}`,
      STEPFLOW_QUEUE_NAME: 'data',
      STEPFLOW_WORKER_ID: `replica-${index}`,
      STEPFLOW_MAX_CONCURRENT: '4',
      STEPFLOW_LOG_LEVEL: 'error',
    },
  });
  replicas.push(child);
  return child;
}

/** Two data-pack steps; `who` names the replica process that ran it (health_check's server_id). */
const flow = {
  schema: 'https://stepflow.org/schemas/v1/flow.json',
  name: 'replicated',
  steps: [
    {
      id: 'sort',
      component: '/data/sort_records',
      input: { records: { $input: 'records' }, by: [{ field: 'n', order: 'desc' }] },
    },
    { id: 'who', component: '/data/health_check', input: {} },
  ],
  output: {
    first: { $step: 'sort', path: 'records[0].n' },
    server: { $step: 'who', path: 'server_id' },
  },
};

interface RunReply {
  summary: { runId: string; status: number };
  results: { status: number; output?: { first: number; server: string } }[];
}

describe('three data-pack replicas on one queue of stepflow-server 0.13.0', () => {
  it('runs 500 runs exactly once each, spread over every replica, and loses none when one is killed half-way', async () => {
    const port = await freePort();
    const config = join(scratch, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        plugins: { data: { type: 'grpc', queueName: 'data' } },
        routes: { '/data': [{ plugin: 'data' }] },
        retry: { transportMaxRetries: 3, backoff: { type: 'constant', delayMs: 100 } },
      }),
    );
    const server = await StepflowServer.start({
      binary,
      generation: '0.13.0',
      config,
      plugins: 1,
      port,
      waitReady: false,
    });
    try {
      const workers = [1, 2, 3].map((i) => replica(port, i));
      await server.client.ready(30_000);
      const stored = (await requestJson(
        'POST',
        `${server.client.baseUrl}/api/v1/flows`,
        JSON.stringify({ flow }),
      )) as { flowId: string };

      const total = 500;
      const inFlight = 16;
      const results: RunReply[] = [];
      let next = 0;
      let killedAt: number | undefined;
      const lane = async () => {
        while (next < total) {
          const i = next++;
          if (i === total / 2 && killedAt === undefined) {
            killedAt = Date.now();
            workers[1]!.kill('SIGKILL'); // replica 2 dies with tasks in flight
          }
          const records = [{ n: i }, { n: i + 1 }, { n: i - 1 }];
          results[i] = (await requestJson(
            'POST',
            `${server.client.baseUrl}/api/v1/runs`,
            JSON.stringify({
              flowId: stored.flowId,
              input: [{ records }],
              wait: true,
              timeoutSecs: 120,
            }),
            150_000,
          )) as unknown as RunReply;
        }
      };
      await Promise.all(Array.from({ length: inFlight }, lane));

      // Every run succeeded, with its own result (nothing lost, nothing mixed up).
      expect(results).toHaveLength(total);
      const failed = results.filter((r) => r.summary.status !== 2 || r.results[0]?.status !== 2);
      expect(failed).toEqual([]);
      results.forEach((r, i) => expect(r.results[0]!.output!.first).toBe(i + 1));
      expect(new Set(results.map((r) => r.summary.runId)).size).toBe(total);

      // Every replica did work; report the distribution.
      const byServer = new Map<string, number>();
      for (const r of results)
        byServer.set(
          r.results[0]!.output!.server,
          (byServer.get(r.results[0]!.output!.server) ?? 0) + 1,
        );
      process.stderr.write(
        `[interop] replicas: health_check steps per replica ${JSON.stringify([...byServer.values()])}\n`,
      );
      expect(byServer.size).toBe(3);
      for (const count of byServer.values()) expect(count).toBeGreaterThan(10);

      // No step recorded twice: each sampled run has one entry per step, both completed.
      for (const r of results.filter((_, i) => i % 50 === 0)) {
        const steps = (await requestJson(
          'GET',
          `${server.client.baseUrl}/api/v1/runs/${r.summary.runId}/steps`,
        )) as {
          steps: { stepId: string; status: number }[];
        };
        expect(steps.steps.map((s) => s.stepId).sort()).toEqual(['sort', 'who']);
        expect(steps.steps.every((s) => s.status === 2)).toBe(true);
      }
    } finally {
      await server.stop();
    }
  }, 240_000);
});
