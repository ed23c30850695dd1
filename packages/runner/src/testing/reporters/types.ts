import type { Version } from '../../flow/model.js';
import type { Json } from '../../json/value.js';
import type { Difference } from '../compare.js';

export type CaseStatus = 'passed' | 'failed' | 'error';

export interface CaseReport {
  file: string;
  name: string;
  status: CaseStatus;
  durationMs: number;
  version: Version;
  expected?: Json;
  actual?: Json;
  differences?: Difference[];
  /** Why the case failed without a comparison (no expected output, execution error). */
  message?: string;
}

export interface FileReport {
  file: string;
  /** `not-applicable`: the flow's syntax cannot be read by the emulated release. */
  status: 'ran' | 'no-tests' | 'skipped' | 'not-applicable' | 'error';
  version?: Version;
  message?: string;
  warnings: string[];
  /** Workers used by the file's environment. */
  workers?: { name: string; transport: string; restarts: number; junkLines: number }[];
}

export interface Summary {
  passed: number;
  failed: number;
  errors: number;
  files: number;
  skippedFiles: number;
  /** Flow files that could not be read (YAML syntax, invalid test section); each counts as failed. */
  fileErrors: number;
  noTestFiles: number;
  /** Flow files (and their cases) whose syntax the emulated release cannot read. */
  notApplicableFiles: number;
  notApplicableCases: number;
  /** Releases the cases ran under. */
  versions: Version[];
  /** What ran the cases: `emulator`, or the real server (`stepflow-server 0.13.0`). */
  engine: string;
  durationMs: number;
}

/** Receives events while `test` runs; writes its output where it likes. */
export interface Reporter {
  start(totalCases: number): void;
  file(report: FileReport): void;
  caseDone(report: CaseReport, progress: { done: number; total: number }): void;
  warning(message: string): void;
  end(summary: Summary, cases: CaseReport[], files: FileReport[]): void;
}
