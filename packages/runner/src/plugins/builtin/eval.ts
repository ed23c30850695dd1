import { success, toFlowResult } from '../../execute/result.js';
import { isFloatMember } from '../../json/value.js';
import { BLOB_ID, builtinError, requireString, type Builtin } from './types.js';

export const evalFlow: Builtin = {
  name: 'eval',
  description:
    'Run a flow stored as a blob; its failure is returned as data, not as a step failure',
  async execute(input, host) {
    const flowId = requireString('eval', input, 'flow_id');
    if (!BLOB_ID.test(flowId))
      throw builtinError('eval', 'input.flow_id: expected a 64-hex blob id');
    const blob = host.blobStore.lookup(flowId);
    if (!blob) throw builtinError('eval', `flow blob ${flowId} not found`);
    const { result, runId } = await host.runFlow(
      blob.data as never,
      input.input ?? null,
      isFloatMember(input, 'input'),
    );
    return success({ result: toFlowResult(result), run_id: runId });
  },
};
