/**
 * `stepflow-packs test|run --engine stepflow-server` (the runner's real-server engine) through
 * the built CLI, and the emulation regressions found by comparing it with the real servers.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { GENERATIONS } from '../src/generation.js';
import { parityDifferences } from '../src/parity.js';
import { emulateFolder, runFolder } from '../src/run-folder.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '../../..');
const bin = join(repoRoot, 'packages/runner/dist/bin.js');
/** Flows whose results once differed between the emulation and the real servers. */
const regressions = join(repoRoot, 'packages/runner/test/fixtures/server-parity');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, STEPFLOW_SERVER_BINARY: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('--engine stepflow-server', () => {
  for (const release of GENERATIONS) {
    it(`test runs a folder on stepflow-server ${release} and names the engine`, () => {
      const binary = inject('stepflowBinaries')[release];
      const r = cli([
        'test',
        'workflows/math',
        '--engine',
        'stepflow-server',
        '--server-binary',
        binary,
      ]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`Engine: stepflow-server ${release}`);
      expect(r.stdout).toMatch(/7 passed, 0 failed/);
      // The v0.8-syntax file is not applicable to a real 0.11.1 or 0.13.0 server.
      expect(r.stdout).toMatch(/add-and-double\.yaml: not applicable/);
    });
  }

  it('run prints the FlowResult from the real server, and a failed run shows its steps', () => {
    const binary = inject('stepflowBinaries')['0.13.0'];
    const ok = cli([
      'run',
      '--flow',
      'workflows/math/power-errors.yaml',
      '--input-json',
      '{"operation": "power", "operands": [2, 10]}',
      '--engine',
      'stepflow-server',
      '--server-binary',
      binary,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ outcome: 'success', result: { result: 1024 } });
    expect(ok.stderr).toContain('running on stepflow-server 0.13.0');
    const bad = cli([
      'run',
      '--flow',
      'workflows/math/power-errors.yaml',
      '--input-json',
      '{"operation": "power", "operands": [1, 2, 3]}',
      '--engine',
      'stepflow-server',
      '--server-binary',
      binary,
    ]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      outcome: 'failed',
      error: { code: 'COMPONENT_FAILED' },
    });
    expect(bad.stderr).toMatch(/steps of run [0-9a-f-]+:\n.*COMPONENT_FAILED/);
  });

  it("refuses an --emulate that is not the binary's release, and explains a missing binary", () => {
    const binary = inject('stepflowBinaries')['0.11.1'];
    const mismatch = cli([
      'test',
      'workflows/math',
      '--engine',
      'stepflow-server',
      '--server-binary',
      binary,
      '--emulate',
      'v0.13',
    ]);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/is 0\.11\.1 \(v0\.11\)/);
    const missing = cli([
      'test',
      'workflows/math',
      '--engine',
      'stepflow-server',
      '--server-binary',
      '/nonexistent/stepflow-server',
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/does not exist or is not executable/);
    const unknown = cli(['test', 'workflows/math', '--engine', 'docker']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--engine: expected emulator or stepflow-server/);
  });
});

describe('emulation regressions: the runner reports what the real servers report', () => {
  for (const release of GENERATIONS) {
    it(`output-needs.yaml: a step behind an output $if on a step never runs (${release})`, async () => {
      const report = await runFolder({
        folder: regressions,
        generation: release,
        binary: inject('stepflowBinaries')[release],
        log: () => {},
      });
      expect(report.cases.map((c) => `${c.name}: ${c.status}`).sort()).toEqual([
        "a branch behind a step's result never runs its step: passed",
        'a branch behind the input adds its step when the run starts: passed',
      ]);
      const emulated = await emulateFolder(regressions, release);
      expect(emulated.every((c) => c.status === 'passed')).toBe(true);
      expect(parityDifferences(release, report.cases, emulated)).toEqual([]);
    });
  }
});
