import { afterEach, describe, expect, it } from 'vitest';
import { grpcPack } from '../helpers/grpc-worker.js';
import { spawnRaw, type RawWorker } from '../helpers/raw.js';

let worker: RawWorker | undefined;
afterEach(() => {
  worker?.child.kill('SIGKILL');
  worker = undefined;
});

const flow = {
  schema: 'https://stepflow.org/schemas/v1/flow.json',
  name: 'inner',
  steps: [],
  output: { $from: { workflow: 'input' } },
};

describe('ctx.submitRun on Stepflow v0.8 (stdio)', () => {
  it('stores the flow with blobs/put (flow) and evaluates it with flows/evaluate on the same pipe', async () => {
    worker = spawnRaw(['--transport', 'stdio'], {}, grpcPack);
    const w = worker;
    w.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { runtime_protocol_version: 1 },
    });
    await w.waitFor((l) => JSON.parse(l).id === 1);
    w.send({
      jsonrpc: '2.0',
      id: 2,
      method: 'components/execute',
      params: { component: '/sub_run', input: { flow, input: { x: 1 } } },
    });

    const put = JSON.parse(await w.waitFor((l) => JSON.parse(l).method === 'blobs/put')) as {
      id: string;
      params: { data: unknown; blob_type: string };
    };
    expect(put.params).toEqual({ data: flow, blob_type: 'flow' });
    const flowId = 'f'.repeat(64);
    w.send({ jsonrpc: '2.0', id: put.id, result: { blob_id: flowId } });

    const evaluate = JSON.parse(
      await w.waitFor((l) => JSON.parse(l).method === 'flows/evaluate'),
    ) as { id: string; params: unknown };
    expect(evaluate.params).toEqual({ flow_id: flowId, input: { x: 1 } });
    w.send({
      jsonrpc: '2.0',
      id: evaluate.id,
      result: { result: { outcome: 'failed', error: { code: -32101, message: 'inner failure' } } },
    });

    const answer = JSON.parse(await w.waitFor((l) => JSON.parse(l).id === 2)) as {
      result: { output: unknown };
    };
    expect(answer.result.output).toEqual({
      runId: '',
      outcome: 'failed',
      error: { code: 'COMPONENT_FAILED', message: 'inner failure' },
    });
  });
});
