import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  alive,
  groupAlive,
  readTracker,
  runRunner,
  startRunner,
  tempDir,
  TRACKER,
  trackerConfig,
  waitFor,
} from './helpers.js';

// Fault tests (worker crash, retry exhaustion, hung worker, stdout pollution, orphans)
// against the built runner and real worker subprocesses (test/fixtures/tracker). Build first: npx tsc -p tsconfig.build.json.

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function workspace(prefix: string, config: string, flow: string) {
  const t = tempDir(prefix);
  cleanups.push(t.cleanup);
  const tracker = join(t.dir, 'track.jsonl');
  const release = join(t.dir, 'release');
  t.write('stepflow-config.yml', config);
  const schema = 'schema: https://stepflow.org/schemas/v1/flow.json\n';
  t.write(
    'flow.yaml',
    schema +
      flow
        .replaceAll('TRACK', JSON.stringify(tracker))
        .replaceAll('RELEASE', JSON.stringify(release)),
  );
  return { ...t, tracker, release };
}

const attemptsOf = (records: { step: string; attempt: number }[], step: string) =>
  records.filter((r) => r.step === step).map((r) => r.attempt);

const THREE_STEPS = `steps:
  - id: step1
    component: /tracker/record
    input: {file: TRACK, step: step1}
  - id: step2
    component: /tracker/record
    input: {file: TRACK, step: step2, holdUntil: RELEASE, value: {$step: step1, path: step}}
  - id: step3
    component: /tracker/record
    input: {file: TRACK, step: step3, value: {$step: step2, path: step}}
output:
  step2_attempt: {$step: step2, path: attempt}
  step3_value: {$step: step3, path: value}
`;

describe('a worker SIGKILLed mid-execute is restarted and only the interrupted step re-runs', () => {
  for (const [transport, emulate] of [
    ['stdio', 'v0.8'],
    ['HTTP subprocess', 'v0.11'],
  ] as const) {
    it(`succeeds over ${transport} (${emulate}): step1 ×1, step2 attempts [1, 2] on a new pid, step3 ×1, overhead ≤ backoff (100 ms) + 3 s`, async () => {
      const w = workspace('f1', trackerConfig(), THREE_STEPS);
      const runner = startRunner(['run', '--flow', 'flow.yaml', '--emulate', emulate], w.dir);
      const held = await waitFor('step2 attempt 1', () =>
        readTracker(w.tracker).find((r) => r.step === 'step2'),
      );
      process.kill(held.pid, 'SIGKILL');
      const killedAt = performance.now();
      await waitFor('the restarted step2', () =>
        attemptsOf(readTracker(w.tracker), 'step2').length === 2 ? true : undefined,
      );
      w.write('release', '');
      const result = await runner.done;
      const overheadMs = performance.now() - killedAt;

      expect(JSON.parse(result.stdout)).toEqual({
        outcome: 'success',
        result: { step2_attempt: 2, step3_value: 'step2' },
      });
      expect(result.code).toBe(0);
      const records = readTracker(w.tracker);
      expect(attemptsOf(records, 'step1')).toEqual([1]);
      expect(attemptsOf(records, 'step2')).toEqual([1, 2]);
      expect(attemptsOf(records, 'step3')).toEqual([1]);
      const [first, second] = records.filter((r) => r.step === 'step2');
      expect(second!.pid).not.toBe(first!.pid);
      expect(overheadMs).toBeLessThanOrEqual(100 + 3000);
      expect(result.stderr).toMatch(/worker "tracker" was restarted 1 time/);
    });
  }
});

describe('retry exhaustion', () => {
  it('fails with a -323xx code after exactly transportMaxRetries + 1 = 4 attempts within 10 s, reporting the signal and the worker stderr', async () => {
    const w = workspace(
      'f2',
      trackerConfig({
        retry:
          'retry:\n  transportMaxRetries: 3\n  backoff: {type: fibonacci, minDelayMs: 50, maxDelayMs: 1000}\n',
      }),
      'steps:\n  - id: doomed\n    component: /tracker/die\n    input: {file: TRACK, step: doomed}\noutput: {$step: doomed}\n',
    );
    const result = await runRunner(
      ['run', '--flow', 'flow.yaml', '--emulate', 'v0.11', '--worker-transport', 'stdio'],
      w.dir,
    );
    const flowResult = JSON.parse(result.stdout) as {
      outcome: string;
      error: { code: number; message: string; data: { signal?: string; stderr?: string[] } };
    };

    expect(flowResult.outcome).toBe('failed');
    expect(flowResult.error.code).toBeGreaterThanOrEqual(-32399);
    expect(flowResult.error.code).toBeLessThanOrEqual(-32300);
    expect(flowResult.error.message).toBe('step "doomed" failed');
    expect(attemptsOf(readTracker(w.tracker), 'doomed')).toEqual([1, 2, 3, 4]);
    expect(result.elapsedMs).toBeLessThanOrEqual(10_000);
    expect(flowResult.error.data.signal).toBe('SIGKILL');
    expect(result.stdout).toMatch(/killed by SIGKILL/);
    expect(
      flowResult.error.data.stderr!.some((line) =>
        line.includes('is about to be killed on attempt 4'),
      ),
    ).toBe(true);
    expect(result.code).toBe(1);
  });
});

describe('a hung worker is killed at the request timeout and the step retried', () => {
  for (const [transport, args] of [
    ['stdio', ['--emulate', 'v0.8']],
    ['HTTP subprocess', ['--emulate', 'v0.11']],
  ] as const) {
    it(`succeeds over ${transport} with attempts [1, 2] within 6 s (timeout 1 s) and the old process group gone`, async () => {
      const w = workspace(
        'f3',
        trackerConfig(),
        'steps:\n  - id: sleepy\n    component: /tracker/record\n    input: {file: TRACK, step: sleepy, hangOnAttempt: 1}\noutput: {$step: sleepy, path: attempt}\n',
      );
      const result = await runRunner(
        ['run', '--flow', 'flow.yaml', ...args, '--request-timeout-ms', '1000'],
        w.dir,
      );

      expect(JSON.parse(result.stdout)).toEqual({ outcome: 'success', result: 2 });
      const records = readTracker(w.tracker);
      expect(attemptsOf(records, 'sleepy')).toEqual([1, 2]);
      expect(result.elapsedMs).toBeLessThanOrEqual(6000);
      expect(alive(records[0]!.pid)).toBe(false);
      expect(groupAlive(records[0]!.pgid)).toBe(false);
    });
  }
});

describe('retry budgets', () => {
  it('shares one monotonic attempt counter between onError: retry and transport retries, with separate budgets', async () => {
    const w = workspace(
      'budgets',
      trackerConfig({
        retry: 'retry:\n  transportMaxRetries: 1\n  backoff: {type: constant, delayMs: 20}\n',
      }),
      'steps:\n  - id: s\n    component: /tracker/record\n    onError: {action: retry, maxRetries: 2}\n    input: {file: TRACK, step: s, failOnAttempts: [1, 3], dieOnAttempts: [2]}\noutput: {$step: s, path: attempt}\n',
    );
    const result = await runRunner(['run', '--flow', 'flow.yaml', '--emulate', 'v0.11'], w.dir);
    expect(JSON.parse(result.stdout)).toEqual({ outcome: 'success', result: 4 });
    expect(attemptsOf(readTracker(w.tracker), 's')).toEqual([1, 2, 3, 4]);
  });
});

describe('stdout pollution', () => {
  it('skips 1,000 junk lines interleaved with answers: success, 0 restarts, 0 lost responses, a warning count', async () => {
    const steps = Array.from(
      { length: 10 },
      (_, i) =>
        `  - id: s${i}\n    component: /tracker/record\n    input: {file: TRACK, step: s${i}, junkLines: 100, value: ${i}}\n`,
    ).join('');
    const output = Array.from({ length: 10 }, (_, i) => `  - {$step: s${i}, path: value}\n`).join(
      '',
    );
    const w = workspace('f4', trackerConfig(), `steps:\n${steps}output:\n${output}`);
    const result = await runRunner(['run', '--flow', 'flow.yaml', '--emulate', 'v0.8'], w.dir);

    expect(JSON.parse(result.stdout)).toEqual({
      outcome: 'success',
      result: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    });
    const records = readTracker(w.tracker);
    expect(records).toHaveLength(10);
    expect(records.every((r) => r.attempt === 1)).toBe(true);
    expect(new Set(records.map((r) => r.pid)).size).toBe(1);
    expect(result.stderr).toMatch(/wrote 1000 non-protocol stdout line\(s\); they were skipped/);
    expect(result.stderr).not.toMatch(/restarted/);
  });
});

describe('a SIGKILLed runner leaves no orphans', () => {
  it('has 0 worker processes alive 5 s after SIGKILL, with one stdio and one HTTP-subprocess worker busy', async () => {
    const extraPlugins = `  tracker_http:
    type: stepflow
    transport: http
    command: node
    args: [${JSON.stringify(TRACKER)}, "--transport", "http", "--port", "0"]
`;
    const extraRoutes = '  "/tracker_http/{component}":\n    - plugin: tracker_http\n';
    const flow = `steps:
  - id: on_stdio
    component: /tracker/record
    input: {file: TRACK, step: on_stdio, holdUntil: RELEASE}
  - id: on_http
    component: /tracker_http/record
    input: {file: TRACK, step: on_http, holdUntil: RELEASE}
output: [{$step: on_stdio}, {$step: on_http}]
`;
    const w = workspace('f12', trackerConfig({ extraPlugins, extraRoutes }), flow);
    const runner = startRunner(['run', '--flow', 'flow.yaml', '--emulate', 'v0.8'], w.dir);
    const records = await waitFor('both workers busy', () => {
      const r = readTracker(w.tracker);
      return r.length === 2 ? r : undefined;
    });
    runner.child.kill('SIGKILL');
    await runner.done;
    const killedAt = Date.now();
    const survivors = () => records.filter((r) => alive(r.pid) || groupAlive(r.pgid));
    while (survivors().length > 0 && Date.now() - killedAt < 5000)
      await new Promise((r) => setTimeout(r, 50));
    expect(survivors()).toEqual([]);
    expect(existsSync(w.release)).toBe(false);
  });
});
