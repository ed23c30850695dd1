import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
// The provisioning script is plain ESM at the repository root (also run by hand / CI).
import { provisionStepflow } from '../../../scripts/provision-stepflow.mjs';
import { GENERATIONS, type Generation } from '../src/generation.js';
import type { CaseStatus, FolderReport } from '../src/run-folder.js';

declare module 'vitest' {
  export interface ProvidedContext {
    stepflowBinaries: Record<Generation, string>;
    /** Folder where each pack suite leaves its FolderReport as JSON (for the totals). */
    interopReports: string;
  }
}

/**
 * Download (first run) or find (cached) the real stepflow-server binaries; at the end, print
 * the totals per generation over the pack folders that ran.
 */
export default function setup(project: TestProject): () => void {
  const binaries = {} as Record<Generation, string>;
  for (const generation of GENERATIONS) binaries[generation] = provisionStepflow(generation);
  project.provide('stepflowBinaries', binaries);
  const reports = mkdtempSync(join(tmpdir(), 'stepflow-interop-reports-'));
  project.provide('interopReports', reports);
  return () => {
    try {
      const all = readdirSync(reports).map(
        (f) => JSON.parse(readFileSync(join(reports, f), 'utf8')) as FolderReport,
      );
      for (const generation of GENERATIONS) {
        const mine = all.filter((r) => r.generation === generation);
        if (mine.length === 0) continue;
        const count = (status: CaseStatus) =>
          mine.reduce((n, r) => n + r.cases.filter((c) => c.status === status).length, 0);
        process.stderr.write(
          `[interop] TOTAL on stepflow-server ${generation} (${mine.map((r) => r.folder).join(', ')}): ` +
            `${count('passed')} passed, ${count('failed') + count('stale-exception')} failed, ` +
            `${count('excepted')} excepted, ${count('skipped')} skipped (v0.8 syntax)\n`,
        );
      }
    } finally {
      rmSync(reports, { recursive: true, force: true });
    }
  };
}
