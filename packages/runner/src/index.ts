export { main, EXIT, type Io } from './cli.js';
export { discoverConfig, resolveTestConfig } from './config/discovery.js';
export { ConfigError, parseConfig, readConfigFile, backoffDelay } from './config/load.js';
export { substitute, SubstitutionError } from './config/env-subst.js';
export { RouteTable, RouteError } from './config/routes.js';
export type { RunnerConfig, RetryConfig, Backoff } from './config/types.js';
export { Environment, type EnvironmentOptions } from './execute/environment.js';
export { FlowRun, type StepEvent } from './execute/run.js';
export { toFlowResult, type FlowError, type StepResult } from './execute/result.js';
export { parseFlow, inferVersion, FlowParseError } from './flow/parse.js';
export type { Flow, Step, Expr, Version } from './flow/model.js';
export { canonicalJson, formatFloat } from './json/canonical.js';
export { parseYaml } from './json/yaml.js';
export { parsePath, formatPath } from './json/path.js';
export type { Json, JsonObject } from './json/value.js';
export { RunnerBlobStore } from './blobs/store.js';
export {
  compareResults,
  normalize,
  type Difference,
  type CompareOptions,
} from './testing/compare.js';
export { runTests, type TestOptions } from './testing/run-tests.js';
export type { CaseReport, FileReport, Reporter, Summary } from './testing/reporters/types.js';
export {
  parseTestSection,
  type TestCase,
  type TestSection,
  type ServerSpec,
} from './testing/cases.js';
export {
  startServers,
  stopServers,
  substituteInJson,
  type RunningServer,
  type Placeholders,
} from './testing/servers.js';
export { collectFiles, engineLabel, type EngineChoice } from './testing/run-tests.js';
export { awaitAnnouncements } from './testing/announce.js';
export { FLOW_SCHEMA_URL } from './flow/parse.js';
export { legacyToTaskError, TASK_ERROR_NAMES, type TaskErrorName } from './execute/codes.js';
export type { EngineKind, EngineRun, FlowEngine, WorkerStats } from './engine/types.js';
export { EmulatorEngine } from './engine/emulator.js';
export {
  ServerEngine,
  findServerBinary,
  probeRelease,
  type ServerEngineOptions,
} from './engine/server-engine.js';
export { SERVER_RELEASES, versionOfRelease, type ServerRelease } from './engine/release.js';
export {
  StepflowServer,
  releaseOfHealth,
  stopProcessTree,
  type ServerOptions,
} from './engine/server.js';
export type { RestClient, ItemOutcome } from './engine/rest/client.js';
export { RestClientV011 } from './engine/rest/v011.js';
export { RestClientV013, taskErrorName } from './engine/rest/v013.js';
export { requestJson, RestError } from './engine/rest/http.js';
