import { canonicalJson } from '../../json/canonical.js';
import type { CaseReport, FileReport, Reporter, Summary } from './types.js';

// XML 1.0 cannot carry most control characters.
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;

const escape = (text: string) =>
  text
    .replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
    )
    .replace(INVALID_XML, '');

/** JUnit XML: one <testsuite> per flow file, one <testcase> per case. */
export class JunitReporter implements Reporter {
  constructor(private readonly out: (text: string) => void) {}

  start(): void {}
  file(): void {}
  startFailed(): void {}
  caseDone(): void {}
  warning(): void {}

  end(summary: Summary, cases: CaseReport[], files: FileReport[]): void {
    const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
    lines.push(
      `<testsuites name="stepflow-packs" tests="${cases.length}" failures="${summary.failed - summary.errors}" errors="${summary.errors}" time="${(summary.durationMs / 1000).toFixed(3)}">`,
    );
    for (const file of files) {
      const own = cases.filter((c) => c.file === file.file);
      if (own.length === 0 && file.status !== 'error') continue;
      const failures = own.filter((c) => c.status === 'failed').length;
      const errors = own.filter((c) => c.status === 'error').length;
      const time = own.reduce((t, c) => t + c.durationMs, 0) / 1000;
      lines.push(
        `  <testsuite name="${escape(file.file)}" tests="${own.length}" failures="${failures}" errors="${errors}" time="${time.toFixed(3)}">`,
        `    <properties><property name="engine" value="${escape(summary.engine)}"/>${file.version ? `<property name="stepflow" value="${escape(file.version)}"/>` : ''}</properties>`,
      );
      for (const c of own) {
        const open = `    <testcase classname="${escape(file.file)}" name="${escape(c.name)}" time="${(c.durationMs / 1000).toFixed(3)}"`;
        if (c.status === 'passed') {
          lines.push(`${open}/>`);
          continue;
        }
        const detail = [
          c.message ?? '',
          ...(c.differences ?? []).map(
            (d) =>
              `${d.path}: ${d.problem}; expected ${d.expected === undefined ? '(absent)' : canonicalJson(d.expected)}, actual ${d.actual === undefined ? '(absent)' : canonicalJson(d.actual)}`,
          ),
          c.actual !== undefined ? `actual result: ${canonicalJson(c.actual)}` : '',
        ].filter(Boolean);
        const tag = c.status === 'error' ? 'error' : 'failure';
        const summaryText = c.message ?? c.differences?.[0]?.path ?? 'mismatch';
        lines.push(
          `${open}>`,
          `      <${tag} message="${escape(summaryText)}">${escape(detail.join('\n'))}</${tag}>`,
          '    </testcase>',
        );
      }
      if (file.startError) lines.push(`    <system-err>${escape(file.startError)}</system-err>`);
      lines.push('  </testsuite>');
    }
    lines.push('</testsuites>');
    this.out(lines.join('\n') + '\n');
  }
}
