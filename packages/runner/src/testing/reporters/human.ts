import { canonicalJson } from '../../json/canonical.js';
import type { Json } from '../../json/value.js';
import type { CaseReport, FileReport, Reporter, Summary } from './types.js';

const show = (value: Json | undefined): string =>
  value === undefined ? '(absent)' : canonicalJson(value);
const clip = (text: string, max = 400) =>
  text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;

/** One line per case as it finishes with a progress count, JSON-path diffs, a summary line. */
export class HumanReporter implements Reporter {
  constructor(
    private readonly out: (text: string) => void,
    private readonly err: (text: string) => void,
  ) {}

  start(totalCases: number): void {
    this.out(`Running ${totalCases} test case${totalCases === 1 ? '' : 's'}\n`);
  }

  file(report: FileReport): void {
    for (const warning of report.warnings) this.err(`warning: ${warning}\n`);
    if (report.status === 'no-tests') this.out(`- ${report.file}: no tests\n`);
    else if (report.status === 'not-applicable')
      this.out(`- ${report.file}: not applicable to ${report.version} (${report.message})\n`);
    else if (report.status === 'ran' && report.version === 'v0.13')
      this.out(`▸ ${report.file}: Stepflow 0.13 (gRPC orchestrator emulation)\n`);
    else if (report.status === 'skipped')
      this.out(`- ${report.file}: skipped (${report.message ?? 'invalid or non-flow file'})\n`);
    else if (report.status === 'error')
      this.out(
        `! ${report.message?.startsWith(report.file) ? report.message : `${report.file}: ${report.message}`}\n`,
      );
  }

  startFailed(report: FileReport): void {
    const [first, ...rest] = (report.startError ?? '').split('\n');
    this.out(
      `! ${report.file}: the runtime environment failed to start: ${first}\n${rest.map((l) => `  ${l}\n`).join('')}`,
    );
  }

  caseDone(report: CaseReport, { done, total }: { done: number; total: number }): void {
    const mark = report.status === 'passed' ? '✓' : report.status === 'failed' ? '✗' : '!';
    const lines = [
      `${mark} [${done}/${total}] ${report.file} › ${report.name} (${Math.round(report.durationMs)} ms)${report.status === 'error' ? ' — execution error' : ''}`,
    ];
    if (report.message) lines.push(`    ${report.message}`);
    if (report.failure && report.status !== 'passed')
      lines.push(`    actual error: ${report.failure}`);
    for (const d of report.differences ?? []) {
      lines.push(`    ${d.path}: ${d.problem}`);
      if (d.expected !== undefined || d.actual !== undefined) {
        lines.push(
          `      expected: ${clip(show(d.expected))}`,
          `      actual:   ${clip(show(d.actual))}`,
        );
      }
    }
    if (report.status !== 'passed' && report.expected !== undefined)
      lines.push(`    expected: ${clip(show(report.expected), 1000)}`);
    if (report.status !== 'passed' && report.actual !== undefined)
      lines.push(
        `    ${report.expected !== undefined ? 'actual:  ' : 'actual result:'} ${clip(show(report.actual), report.expected !== undefined ? 1000 : 2000)}`,
      );
    this.out(lines.join('\n') + '\n');
  }

  warning(message: string): void {
    this.err(`warning: ${message}\n`);
  }

  end(summary: Summary): void {
    const extras = [
      summary.errors ? `${summary.errors} of them execution errors` : '',
      summary.fileErrors
        ? `${summary.fileErrors} unreadable flow file${summary.fileErrors === 1 ? '' : 's'}`
        : '',
      summary.noTestFiles
        ? `${summary.noTestFiles} file${summary.noTestFiles === 1 ? '' : 's'} without tests`
        : '',
      summary.skippedFiles
        ? `${summary.skippedFiles} skipped file${summary.skippedFiles === 1 ? '' : 's'}`
        : '',
      summary.notApplicableFiles
        ? `${summary.notApplicableCases} case${summary.notApplicableCases === 1 ? '' : 's'} in ${summary.notApplicableFiles} file${summary.notApplicableFiles === 1 ? '' : 's'} not applicable`
        : '',
    ].filter(Boolean);
    if (summary.engine !== 'emulator') this.out(`\nEngine: ${summary.engine}`);
    else if (summary.versions.length > 0)
      this.out(`\nEmulated: Stepflow ${summary.versions.join(', ')}`);
    this.out(
      `\n${summary.passed} passed, ${summary.failed} failed${extras.length ? ` (${extras.join(', ')})` : ''} in ${(summary.durationMs / 1000).toFixed(1)} s\n`,
    );
  }
}

export type { FileReport };
