export { GENERATIONS, configFileName, type Generation } from './generation.js';
export { EXCEPTIONS, exceptionFor, type Exception } from './exceptions.js';
export { expectedFor, compareCase } from './expect.js';
export { loadFolder, type FlowFile } from './folder.js';
export {
  runFolder,
  workflowsFolder,
  type CaseReport,
  type CaseStatus,
  type FolderReport,
  type RunFolderOptions,
} from './run-folder.js';
