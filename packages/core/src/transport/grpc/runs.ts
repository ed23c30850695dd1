import { Code, ConnectError, type Client } from '@connectrpc/connect';
import type { BlobAccess } from '../../blobs.js';
import { ResourceUnavailableError, RpcError } from '../../errors.js';
import { ErrorCodes } from '../../protocol.js';
import type { RunAccess, SubRunRequest, SubRunResult } from '../../runs.js';
import { ExecutionStatus } from './gen/stepflow/v1/common_pb.js';
import type {
  OrchestratorRunStatus,
  OrchestratorService,
} from './gen/stepflow/v1/orchestrator_pb.js';
import { taskErrorName } from './task-errors.js';
import { fromValue, toValue } from './values.js';

/**
 * Sub-runs over v0.13: store the flow as a "flow" blob (its id is the flow id), then
 * SubmitRun with wait, naming the calling task's root run.
 */
export function grpcRuns(
  orchestrator: Pick<Client<typeof OrchestratorService>, 'submitRun' | 'getRun'>,
  blobs: BlobAccess,
  rootRunId: string | undefined,
): RunAccess {
  const root = rootRunId ? { rootRunId } : {};
  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      const error = ConnectError.from(err);
      if (error.code === Code.Unavailable || error.code === Code.DeadlineExceeded) {
        throw new ResourceUnavailableError(
          `The orchestrator did not answer ${what}: ${error.rawMessage}`,
          { reason: 'orchestrator_unavailable' },
        );
      }
      throw new RpcError(
        ErrorCodes.COMPONENT_EXECUTION_FAILED,
        `The orchestrator refused ${what}: ${error.rawMessage}`,
        { grpc_code: Code[error.code] },
      );
    }
  };
  return {
    async submit(request: SubRunRequest, signal?: AbortSignal): Promise<SubRunResult> {
      const flowId = await blobs.put(request.flow, 'flow', signal);
      const timeoutSecs = request.timeoutSecs ?? 300;
      const status = await call('the sub-run', () =>
        orchestrator.submitRun(
          {
            runRequest: {
              flowId,
              input: [toValue(request.input, 'input')],
              wait: true,
              timeoutSecs: BigInt(timeoutSecs),
            },
            ...root,
          },
          { timeoutMs: (timeoutSecs + 30) * 1000, ...(signal ? { signal } : {}) },
        ),
      );
      return fromRunStatus(status);
    },
    async get(
      runId: string,
      options: { wait?: boolean; timeoutSecs?: number } = {},
      signal?: AbortSignal,
    ) {
      const timeoutSecs = options.timeoutSecs ?? 300;
      const status = await call(`GetRun for ${runId}`, () =>
        orchestrator.getRun(
          {
            runId,
            wait: options.wait ?? true,
            includeResults: true,
            timeoutSecs: BigInt(timeoutSecs),
            ...root,
          },
          { timeoutMs: (timeoutSecs + 30) * 1000, ...(signal ? { signal } : {}) },
        ),
      );
      return fromRunStatus(status);
    },
  };
}

function fromRunStatus(status: OrchestratorRunStatus): SubRunResult {
  const item = status.results[0];
  if (status.status === ExecutionStatus.RUNNING || !item)
    return { runId: status.runId, outcome: 'running' };
  if (item.status === ExecutionStatus.COMPLETED) {
    return { runId: status.runId, outcome: 'success', output: fromValue(item.output) };
  }
  return {
    runId: status.runId,
    outcome: 'failed',
    error: {
      code: taskErrorName(item.errorCode ?? 0),
      message: item.errorMessage ?? 'the sub-run failed',
    },
  };
}
