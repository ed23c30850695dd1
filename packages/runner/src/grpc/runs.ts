import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  ExecutionStatus,
  OrchestratorRunStatusSchema,
  TaskErrorCode,
  type OrchestratorGetRunRequest,
  type OrchestratorRunStatus,
  type OrchestratorSubmitRunRequest,
} from '@stepflow-packs/core/grpc';
import type { RunnerBlobStore } from '../blobs/store.js';
import { uuidV7 } from '../execute/uuid.js';
import type { StepResult } from '../execute/result.js';
import type { Json } from '../json/value.js';
import { fromWire, toWire } from './values.js';

/** Runs a stored flow document in the environment (a nested run). */
export type FlowRunner = (flow: Json, input: Json) => Promise<StepResult>;

interface Run {
  runId: string;
  flowId: string;
  flowName: string | undefined;
  rootRunId: string;
  createdAt: Date;
  completedAt?: Date;
  results: (StepResult | undefined)[];
  done: Promise<void>;
}

const DEFAULT_WAIT_SECS = 300;

/**
 * `SubmitRun` / `GetRun` for workers (sub-runs): the flow is a `flow` blob; each input
 * item runs as a nested run of this environment. Sub-runs are independent of the caller.
 */
export class SubRuns {
  readonly #runs = new Map<string, Run>();

  constructor(
    private readonly blobs: RunnerBlobStore,
    private readonly runFlow: FlowRunner,
  ) {}

  async submit(request: OrchestratorSubmitRunRequest): Promise<OrchestratorRunStatus> {
    const create_ = request.runRequest;
    if (!create_) throw new ConnectError('run_request is required', Code.InvalidArgument);
    const flowId = create_.flowId;
    if (!/^[0-9a-f]{64}$/.test(flowId))
      throw new ConnectError(`invalid flow_id format: '${flowId}'`, Code.InvalidArgument);
    const blob = this.blobs.lookup(flowId);
    if (!blob || blob.type !== 'flow')
      throw new ConnectError(`flow '${flowId}' not found`, Code.NotFound);
    const flow = blob.data as Json;
    const runId = uuidV7();
    const inputs = create_.input.map((v) => fromWire(v));
    const run: Run = {
      runId,
      flowId,
      flowName:
        typeof flow === 'object' &&
        flow !== null &&
        !Array.isArray(flow) &&
        typeof flow.name === 'string'
          ? flow.name
          : undefined,
      rootRunId: request.rootRunId || runId,
      createdAt: new Date(),
      results: inputs.map(() => undefined),
      done: Promise.resolve(),
    };
    run.done = Promise.all(
      inputs.map(async (input, i) => {
        run.results[i] = await this.runFlow(flow, input).catch((err: unknown): StepResult => ({
          outcome: 'failed',
          error: { code: 'ORCHESTRATOR_ERROR', message: (err as Error).message },
        }));
      }),
    ).then(() => {
      run.completedAt = new Date();
    });
    this.#runs.set(runId, run);
    if (create_.wait) await this.#wait(run, create_.timeoutSecs);
    return this.#status(run, true);
  }

  async get(request: OrchestratorGetRunRequest): Promise<OrchestratorRunStatus> {
    const run = this.#runs.get(request.runId);
    if (!run) throw new ConnectError(`run '${request.runId}' not found`, Code.NotFound);
    if (request.wait) await this.#wait(run, request.timeoutSecs);
    return this.#status(run, request.includeResults);
  }

  async #wait(run: Run, timeoutSecs: bigint | undefined): Promise<void> {
    const ms = Number(timeoutSecs ?? BigInt(DEFAULT_WAIT_SECS)) * 1000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([run.done, new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  #status(run: Run, withResults: boolean): OrchestratorRunStatus {
    const finished = run.results.filter((r) => r !== undefined);
    const failed = finished.filter((r) => r.outcome === 'failed').length;
    const status =
      finished.length < run.results.length
        ? ExecutionStatus.RUNNING
        : failed > 0
          ? ExecutionStatus.FAILED
          : ExecutionStatus.COMPLETED;
    return create(OrchestratorRunStatusSchema, {
      runId: run.runId,
      flowId: run.flowId,
      ...(run.flowName !== undefined ? { flowName: run.flowName } : {}),
      status,
      items: {
        total: run.results.length,
        completed: finished.length - failed,
        running: run.results.length - finished.length,
        failed,
        cancelled: 0,
      },
      createdAt: timestampFromDate(run.createdAt),
      ...(run.completedAt ? { completedAt: timestampFromDate(run.completedAt) } : {}),
      rootRunId: run.rootRunId,
      createdAtSeqno: 0n,
      results: withResults
        ? run.results.flatMap((result, itemIndex) =>
            result === undefined
              ? []
              : [
                  result.outcome === 'failed'
                    ? {
                        itemIndex,
                        status: ExecutionStatus.FAILED,
                        errorMessage: result.error.message,
                        errorCode: codeNumber(result.error.code),
                      }
                    : {
                        itemIndex,
                        status: ExecutionStatus.COMPLETED,
                        output: toWire(result.outcome === 'success' ? result.value : null),
                      },
                ],
          )
        : [],
    });
  }
}

function codeNumber(code: number | string): TaskErrorCode {
  const value =
    typeof code === 'string'
      ? (TaskErrorCode as unknown as Record<string, number>)[code]
      : undefined;
  return value ?? TaskErrorCode.WORKER_ERROR;
}
