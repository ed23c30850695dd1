/**
 * `@stepflow-packs/core/grpc`: the Stepflow 0.13 wire, for code that plays either side of it
 * (the pull worker in this package, the runner's orchestrator emulation, tests). Generated
 * service and message descriptors of the project's protos, and the value and error codecs.
 */
export * from './transport/grpc/gen/stepflow/v1/blobs_pb.js';
export * from './transport/grpc/gen/stepflow/v1/common_pb.js';
export * from './transport/grpc/gen/stepflow/v1/orchestrator_pb.js';
export * from './transport/grpc/gen/stepflow/v1/tasks_pb.js';
export {
  fromValue,
  toStructJson,
  toValue,
  UnrepresentableValueError,
} from './transport/grpc/values.js';
export {
  fromRpcErrorObject,
  taskErrorCodeOf,
  taskErrorName,
  toTaskError,
  type WireTaskError,
} from './transport/grpc/task-errors.js';
export { normalizeGrpcUrl, ORCHESTRATOR_MAX_MESSAGE_BYTES } from './transport/grpc/channels.js';
export { serveGrpc, type GrpcWorker, type GrpcWorkerOptions } from './transport/grpc/worker.js';
export { describeComponents } from './transport/grpc/runner.js';
