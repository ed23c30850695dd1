/**
 * ctx.submitRun on the real stepflow-server 0.11.1: the flow goes to the Blob HTTP API as a
 * `flow` blob and runs through the `runs/submit` callback inside the execute's SSE stream.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { StepflowServer } from '@stepflow-packs/runner';

const binary = inject('stepflowBinaries')['0.11.1'];
const probe = fileURLToPath(new URL('./fixtures/probe-pack.mjs', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'sub-runs-v011-'));
let server: StepflowServer;

beforeAll(async () => {
  const config = join(scratch, 'stepflow-config.json');
  writeFileSync(
    config,
    JSON.stringify({
      plugins: {
        probe: {
          type: 'stepflow',
          transport: 'http',
          command: process.execPath,
          args: [probe, '--transport', 'auto'],
          env: { PATH: process.env.PATH ?? '' },
        },
      },
      routes: { '/probe/{component}': [{ plugin: 'probe' }] },
    }),
  );
  server = await StepflowServer.start({ binary, generation: '0.11.1', config, plugins: 1 });
});
afterAll(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('ctx.submitRun on stepflow-server 0.11.1', () => {
  it('runs the sub-flow through runs/submit and returns its output', async () => {
    const inner = {
      schema: 'https://stepflow.org/schemas/v1/flow.json',
      name: 'inner',
      steps: [{ id: 'echo', component: '/probe/echo', input: { payload: { $input: 'v' } } }],
      output: { $step: 'echo' },
    };
    const outer = {
      schema: 'https://stepflow.org/schemas/v1/flow.json',
      name: 'outer',
      steps: [
        {
          id: 'sub',
          component: '/probe/sub_run',
          input: { flow: { $literal: inner }, input: { v: 42 } },
        },
      ],
      output: { $step: 'sub' },
    };
    const flowId = await server.client.storeFlow(outer);
    const { result } = await server.client.runItem(flowId, {}, 60);
    expect(result).toMatchObject({
      outcome: 'success',
      result: { outcome: 'success', output: { payload: 42, attempt: 1 } },
    });
    const runId = (result.result as { runId: string }).runId;
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);
    const read = {
      schema: 'https://stepflow.org/schemas/v1/flow.json',
      name: 'read',
      steps: [{ id: 'get', component: '/probe/get_run', input: { run_id: runId } }],
      output: { $step: 'get' },
    };
    const again = await server.client.runItem(await server.client.storeFlow(read), {}, 60);
    expect(again.result).toMatchObject({
      outcome: 'success',
      result: { runId, outcome: 'success', output: { payload: 42 } },
    });
  });
});
