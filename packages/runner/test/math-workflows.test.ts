import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runRunner } from './helpers.js';

// The math pack's integration workflows (workflows/math, both syntaxes) against the built
// math worker, in both emulation modes and over both worker transports.
const repo = fileURLToPath(new URL('../../../', import.meta.url));

interface Report {
  summary: { passed: number; failed: number; skippedFiles: number };
  files: {
    file: string;
    status: string;
    version?: string;
    workers?: { name: string; transport: string; restarts: number }[];
  }[];
}

describe('workflows/math', () => {
  for (const [emulate, transport, expected] of [
    ['v0.8', 'auto', 'stdio'],
    ['v0.8', 'http', 'http-subprocess'],
    ['v0.11', 'auto', 'http-subprocess'],
    ['v0.11', 'stdio', 'stdio'],
  ] as const) {
    it(`passes with --emulate ${emulate} and the worker over ${expected}`, async () => {
      const result = await runRunner(
        [
          'test',
          'workflows/math',
          '--emulate',
          emulate,
          '--worker-transport',
          transport,
          '--reporter',
          'json',
        ],
        repo,
        60_000,
      );
      const report = JSON.parse(result.stdout) as Report;
      expect(report.summary.failed, result.stdout).toBe(0);
      expect(report.summary.passed).toBeGreaterThan(0);
      const ran = report.files.filter((f) => f.status === 'ran');
      expect(ran.length).toBeGreaterThan(0);
      for (const file of ran) {
        expect(file.version).toBe(emulate);
        expect(file.workers).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ name: 'math', transport: expected, restarts: 0 }),
          ]),
        );
      }
      expect(result.code).toBe(0);
    });
  }

  it('runs every flow file when the emulated release is inferred from each file', async () => {
    const result = await runRunner(
      ['test', 'workflows/', '--case', 'small integers', '--reporter', 'json'],
      repo,
      60_000,
    );
    const report = JSON.parse(result.stdout) as Report;
    expect(report.summary).toMatchObject({ failed: 0 });
    expect(report.summary.passed).toBeGreaterThanOrEqual(1);
  });
});
