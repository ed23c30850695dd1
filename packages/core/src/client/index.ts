/**
 * Runtime side of the protocol: start or connect to workers over stdio, HTTP subprocess
 * (port announcement + health check) or a URL, in either dialect, serving blob callbacks and
 * the v0.11 Blob HTTP API from a memory store. Used by the runner and integration tests.
 */
export {
  startWorker,
  WorkerClient,
  type ComponentInfo,
  type ExecuteOptions,
  type HealthCheckOptions,
  type WorkerOptions,
  type WorkerSpec,
} from './worker.js';
export { serveBlobApi, type BlobApiServer } from './blob-api.js';
export { WorkerProcess, type ExitInfo, type ProcessSpec } from './process.js';
export type { FrameTap } from './channel.js';
export { lifelineArgs, type LifelineMode } from './lifeline.js';
export { MemoryBlobStore, BlobNotFoundError, blobIdOf, type StoredBlob } from '../blobs.js';
export { RpcError, TransportError } from '../errors.js';
