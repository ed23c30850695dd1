export { z } from 'zod';
export {
  defineComponent,
  definePack,
  healthCheck,
  toJsonSchema,
  type BlobType,
  type Component,
  type ComponentContext,
  type ComponentDefinition,
  type Pack,
  type PackDefinition,
} from './component.js';
export {
  BadRequestError,
  ComponentError,
  ComponentValueError,
  InvalidInputError,
  PackError,
  ResourceUnavailableError,
  RpcError,
  TransportError,
  oneSentence,
  redactCredentials,
  toRpcErrorObject,
} from './errors.js';
export {
  BlobNotFoundError,
  MemoryBlobStore,
  blobIdOf,
  type BlobAccess,
  type StoredBlob,
} from './blobs.js';
export { BlobCache, cachedBlobs, DEFAULT_BLOB_CACHE_BYTES } from './blob-cache.js';
export {
  Dispatcher,
  type ConnectionState,
  type DispatcherOptions,
  type Session,
} from './dispatcher.js';
export { JsonRpcPeer, type PeerOptions } from './peer.js';
export { LineFramer, DEFAULT_MAX_MESSAGE_BYTES } from './framing.js';
export { encodeError, encodeResult, toAsciiJson } from './json.js';
export { createLogger, rateLimited, silentLogger, type Logger, type LogLevel } from './logger.js';
export {
  DIALECT_METHODS,
  ErrorCodeRanges,
  ErrorCodes,
  PROTOCOL_VERSION,
  classifyMessage,
  inErrorRange,
  isRequestId,
  recoverId,
  type Dialect,
  type JsonRpcDialect,
  type JsonValue,
  type Message,
  type Observability,
  type RequestId,
  type RequestMessage,
  type ResponseMessage,
  type RpcErrorObject,
} from './protocol.js';
export {
  defineSettings,
  fromEnv,
  resolveSettings,
  settingsFromValues,
  SettingsError,
  type SettingDefinition,
  type SettingsDefinition,
  type SettingsOf,
} from './settings.js';
export { jsonObject, jsonValue } from './schemas.js';
export type { GetRunOptions, RunAccess, SubRunRequest, SubRunResult } from './runs.js';
export { LazyArray, lazyArray, type LazyArrayOptions } from './lazy-array.js';
export {
  DeferredJsonArray,
  isLazyArraySchema,
  LAZY_ARRAY_MIN_CHARS,
  LAZY_FRAME_MIN_CHARS,
} from './lazy-json.js';
export { describeIssues, formatPath, invalidInput, type InputIssue } from './validation.js';
export {
  serveStdio,
  reserveStdout,
  type StdioServer,
  type StdioServerOptions,
} from './transport/stdio.js';
export {
  serveHttp,
  isLoopback,
  type HttpServer,
  type HttpServerOptions,
} from './transport/http.js';
export { runCli, detectTransport, type CliOptions, type TransportMode } from './cli.js';
