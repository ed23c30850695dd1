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
  /**
   * A failed actual result for people: the step it comes from, code and message, and a "did you
   * mean" for a mistyped component path.
   */
  failure?: string;
}

/** A `--case` name that matched no case of any file. */
export interface UnmatchedCase {
  name: string;
  /** The nearest case names (typo candidates), best first. */
  nearest: string[];
  /** Every case name of the files searched, sorted. */
  available: string[];
}

export interface FileReport {
  file: string;
  /** `not-applicable`: the flow's syntax cannot be read by the emulated release. */
  status: 'ran' | 'no-tests' | 'skipped' | 'not-applicable' | 'error';
  version?: Version;
  message?: string;
  warnings: string[];
  /**
   * Why the file's runtime environment (its workers) could not start: the full account, reported
   * once; each case of the file is an execution error referring to it.
   */
  startError?: string;
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
  /** `--case` names that matched no case (each makes `test` fail). */
  unmatchedCases: UnmatchedCase[];
  /** What ran the cases: `emulator`, or the real server (`stepflow-server 0.13.0`). */
  engine: string;
  durationMs: number;
}

/** Receives events while `test` runs; writes its output where it likes. */
export interface Reporter {
  start(totalCases: number): void;
  file(report: FileReport): void;
  /** A file's runtime environment failed to start (`report.startError`), before its cases. */
  startFailed(report: FileReport): void;
  caseDone(report: CaseReport, progress: { done: number; total: number }): void;
  warning(message: string): void;
  end(summary: Summary, cases: CaseReport[], files: FileReport[]): void;
}
