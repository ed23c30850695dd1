import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { GENERATIONS, type Generation } from '../../src/generation.js';
import { parityDifferences } from '../../src/parity.js';
import {
  emulateFolder,
  runFolder,
  type CaseReport,
  type FolderReport,
} from '../../src/run-folder.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

function summary(report: FolderReport): string {
  const count = (status: CaseReport['status']) =>
    report.cases.filter((c) => c.status === status).length;
  return (
    `[interop] ${report.folder} on stepflow-server ${report.generation}: ` +
    `${count('passed')} passed, ${count('failed')} failed, ${count('excepted')} excepted, ` +
    `${count('skipped')} skipped (v0.8 syntax)` +
    (count('stale-exception') ? `, ${count('stale-exception')} stale exception(s)` : '') +
    ` in ${(report.durationMs / 1000).toFixed(1)} s`
  );
}

function details(report: FolderReport): string {
  return report.cases
    .filter((c) => c.status !== 'passed')
    .map((c) => `  ${c.status.padEnd(15)} ${c.file} › ${c.name}: ${c.reason ?? ''}`)
    .join('\n');
}

/** One suite per generation: every non-excepted case of workflows/<folder> passes. */
export function definePackSuite(folder: string): void {
  for (const generation of GENERATIONS) {
    describe(`workflows/${folder} on stepflow-server ${generation}`, () => {
      it('every case passes (or is a listed exception), and the emulation reports the same results', async () => {
        const binary = inject('stepflowBinaries')[generation as Generation];
        const report = await runFolder({
          folder: join(repoRoot, 'workflows', folder),
          generation,
          binary,
        });
        process.stderr.write(`${summary(report)}\n${details(report)}\n`);
        writeFileSync(
          join(inject('interopReports'), `${folder}-${generation}.json`),
          JSON.stringify(report),
        );
        expect(report.cases.length).toBeGreaterThan(0);
        const bad = report.cases.filter(
          (c) => c.status === 'failed' || c.status === 'stale-exception',
        );
        expect(bad.map((c) => `${c.file} › ${c.name}: ${c.reason ?? ''}`)).toEqual([]);
        // The runner's emulation of this release must report the same FlowResults: a
        // difference is a bug in the emulation (the server is the judge).
        const emulated = await emulateFolder(join(repoRoot, 'workflows', folder), generation);
        expect(parityDifferences(generation, report.cases, emulated)).toEqual([]);
      });
    });
  }
}
