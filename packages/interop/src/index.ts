export { GENERATIONS, configFileName, type Generation } from './generation.js';
export { legacyToTaskError, taskErrorName, TASK_ERROR_CODES } from './codes.js';
export { EXCEPTIONS, exceptionFor, type Exception } from './exceptions.js';
export { expectedFor, compareCase } from './expect.js';
export { loadFolder, type FlowFile } from './folder.js';
export { StepflowServer, type ServerOptions } from './server.js';
export type { RestClient, ItemOutcome } from './rest/client.js';
export { RestClientV011 } from './rest/v011.js';
export { RestClientV013 } from './rest/v013.js';
export {
  runFolder,
  workflowsFolder,
  type CaseReport,
  type CaseStatus,
  type FolderReport,
  type RunFolderOptions,
} from './run-folder.js';
