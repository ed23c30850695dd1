export { GENERATIONS, configFileName, type Generation } from './generation.js';
export { EXCEPTIONS, exceptionFor, type Exception } from './exceptions.js';
export { parityDifferences, withoutVolatile } from './parity.js';
export {
  emulateFolder,
  runFolder,
  workflowsFolder,
  type CaseReport,
  type CaseStatus,
  type FolderReport,
  type RunFolderOptions,
} from './run-folder.js';
