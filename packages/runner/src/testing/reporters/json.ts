import type { CaseReport, FileReport, Reporter, Summary } from './types.js';

/** One JSON document at the end: `{summary, files, cases}`. */
export class JsonReporter implements Reporter {
  readonly #warnings: string[] = [];

  constructor(private readonly out: (text: string) => void) {}

  start(): void {}
  file(): void {}
  startFailed(): void {}
  caseDone(): void {}

  warning(message: string): void {
    this.#warnings.push(message);
  }

  end(summary: Summary, cases: CaseReport[], files: FileReport[]): void {
    this.out(JSON.stringify({ summary, files, cases, warnings: this.#warnings }, null, 2) + '\n');
  }
}
