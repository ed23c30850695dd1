import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';

const root = fileURLToPath(new URL('./fixtures/upstream/', import.meta.url));

async function runCli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    cwd: root,
  });
  return { code, stdout, stderr };
}

describe('upstream Stepflow fixtures (vendored, unmodified)', () => {
  it('pass under v0.8 semantics: 17 cases, exact comparison, stack-insensitive', async () => {
    const { code, stdout } = await runCli(['test', 'v0.8', '--reporter', 'json']);
    const report = JSON.parse(stdout) as {
      summary: { passed: number; failed: number; noTestFiles: number };
      cases: { version: string }[];
    };
    expect(report.summary).toMatchObject({ passed: 17, failed: 0, noTestFiles: 1 });
    expect(report.cases.every((c) => c.version === 'v0.8')).toBe(true);
    expect(code).toBe(0);
  });

  it('pass under v0.11 semantics: 15 cases, subset comparison', async () => {
    const { code, stdout } = await runCli(['test', 'v0.11', '--reporter', 'json']);
    const report = JSON.parse(stdout) as {
      summary: { passed: number; failed: number; noTestFiles: number };
      cases: { version: string }[];
    };
    expect(report.summary).toMatchObject({ passed: 15, failed: 0, noTestFiles: 1 });
    expect(report.cases.every((c) => c.version === 'v0.11')).toBe(true);
    expect(code).toBe(0);
  });

  it('pass under 0.13 semantics, detected from the configs: 18 cases, string codes, one-segment routes', async () => {
    const { code, stdout } = await runCli(['test', 'v0.13', '--reporter', 'json']);
    const report = JSON.parse(stdout) as {
      summary: { passed: number; failed: number; noTestFiles: number };
      cases: { version: string; name: string; actual: { error?: { code: unknown } } }[];
    };
    expect(report.summary).toMatchObject({ passed: 18, failed: 0, noTestFiles: 1 });
    expect(report.cases.every((c) => c.version === 'v0.13')).toBe(true);
    const failed = report.cases.find((c) => c.name === 'test error case that should fail');
    expect(failed?.actual.error?.code).toBe('COMPONENT_FAILED');
    expect(code).toBe(0);
  });

  it('0.13: onError retry retries COMPONENT_FAILED maxRetries times with one attempt counter', async () => {
    const { code, stdout } = await runCli([
      'test',
      'v0.13/mock/error_retry.yaml',
      '--backoff-ms',
      '1',
      '--reporter',
      'json',
    ]);
    expect(JSON.parse(stdout).summary).toMatchObject({ passed: 2, failed: 0 });
    expect(code).toBe(0);
  });

  it('0.13: a routing failure is ORCHESTRATOR_ERROR "error routing component", without retry', async () => {
    const { code, stdout } = await runCli([
      'run',
      '--flow',
      'v0.13/mock/basic.yaml',
      '--config',
      'v0.13/builtins/stepflow-config.yml',
      '--input-json',
      '{"name":"a"}',
    ]);
    const result = JSON.parse(stdout) as {
      outcome: string;
      error: { code: string; message: string; data: { stack: { error: string }[] } };
    };
    expect(result.error).toMatchObject({
      code: 'ORCHESTRATOR_ERROR',
      message: 'error routing component',
    });
    expect(result.error.data.stack.map((f) => f.error)).toContain(
      'No matching prefix for path: /mock/one_output',
    );
    expect(code).toBe(1);
  });

  it('even match the pinned Rust error stacks when comparing stacks (all three generations)', async () => {
    const { code, stdout } = await runCli(['test', '.', '--stack-sensitive']);
    expect(stdout).toMatch(/50 passed, 0 failed/);
    expect(stdout).toMatch(/Emulated: Stepflow v0\.11, v0\.13, v0\.8/);
    expect(code).toBe(0);
  });

  it('reports the file without a test section as "no tests", not as a failure', async () => {
    const { stdout } = await runCli(['test', 'v0.8/no_tests.yaml']);
    expect(stdout).toMatch(/no_tests\.yaml: no tests/);
    expect(stdout).toMatch(/0 passed, 0 failed/);
  });

  it('runs the mock flow with run and prints the v0.8 run-level error for an unknown input', async () => {
    const { code, stdout } = await runCli([
      'run',
      '--flow',
      'v0.8/mock/basic.yaml',
      '--input-json',
      '{"name":"world"}',
    ]);
    expect(JSON.parse(stdout)).toMatchObject({
      outcome: 'failed',
      error: { code: 500, message: 'step "step1" failed' },
    });
    expect(code).toBe(1);
  });

  it('reads the mock input file with --input', async () => {
    const { code, stdout } = await runCli([
      'run',
      '--flow',
      'v0.11/mock/basic.yaml',
      '--input',
      'v0.11/mock/input.json',
    ]);
    expect(JSON.parse(stdout)).toEqual({ outcome: 'success', result: { name: 'b', x: 1, y: 2 } });
    expect(code).toBe(0);
  });
});
