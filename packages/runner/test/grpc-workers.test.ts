import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  alive,
  groupAlive,
  readTracker,
  runRunner,
  startRunner,
  tempDir,
  TRACKER,
  waitFor,
} from './helpers.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** A 0.13 config with the tracker fixture as a gRPC pull worker spawned by the runner. */
function trackerV013(extra: { env?: string; retry?: string; plugin?: string } = {}): string {
  return `plugins:
  tracker:
    type: grpc
    queueName: tracker
    command: node
    args: [${JSON.stringify(TRACKER)}]
${extra.plugin ?? ''}${extra.env ?? ''}routes:
  "/tracker":
    - plugin: tracker
${extra.retry ?? 'retry:\n  transportMaxRetries: 2\n  backoff: {type: constant, delayMs: 10}\n'}`;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function workspace(name: string) {
  const w = tempDir(name);
  cleanups.push(w.cleanup);
  return w;
}

describe('0.13: a test worker written with @stepflow-packs/core, over the real gRPC wire', () => {
  it('passes flows with success, string error codes, blob round trips and multi-step data passing (11 cases)', async () => {
    const result = await runRunner(['test', 'grpc', '--reporter', 'json'], FIXTURES, 60_000);
    const report = JSON.parse(result.stdout) as {
      summary: { passed: number; failed: number };
      cases: { name: string; version: string; actual: { error?: { code: unknown } } }[];
      files: { workers?: { transport: string; restarts: number }[] }[];
    };
    expect(report.summary).toMatchObject({ passed: 11, failed: 0 });
    expect(report.cases.every((c) => c.version === 'v0.13')).toBe(true);
    const schema = report.cases.find((c) => c.name.startsWith('a schema failure'));
    expect(schema?.actual.error?.code).toBe('INVALID_INPUT');
    expect(report.files.flatMap((f) => f.workers ?? [])).toContainEqual({
      name: 'tw',
      transport: 'grpc',
      restarts: 0,
      junkLines: 0,
    });
    expect(result.code).toBe(0);
  });

  it('gives the worker the 0.13 launch environment: inherited variables, the four STEPFLOW_* and a literal env', async () => {
    const w = workspace('grpc-env');
    w.write(
      'stepflow-config.yml',
      trackerV013({
        env: '    env:\n      LITERAL: "${HOME}"\n      STEPFLOW_QUEUE_NAME: tracker\n',
      }),
    );
    const names = [
      'STEPFLOW_TASKS_URL',
      'STEPFLOW_BLOB_URL',
      'STEPFLOW_TRANSPORT',
      'STEPFLOW_QUEUE_NAME',
      'LITERAL',
    ];
    w.write(
      'flow.yaml',
      `steps:
${names.map((n) => `  - id: ${n}\n    component: /tracker/environment\n    input: {name: ${n}}`).join('\n')}
output:
${names.map((n) => `  ${n}: {$step: ${n}}`).join('\n')}
`,
    );
    const r = await runRunner(['run', '--flow', 'flow.yaml'], w.dir);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout).result as Record<
      string,
      { names: string[]; value: string | null }
    >;
    expect(out.STEPFLOW_TASKS_URL!.value).toMatch(/^127\.0\.0\.1:\d+$/); // no scheme
    expect(out.STEPFLOW_BLOB_URL!.value).toBe(out.STEPFLOW_TASKS_URL!.value);
    expect(out.STEPFLOW_TRANSPORT!.value).toBe('grpc');
    expect(out.STEPFLOW_QUEUE_NAME!.value).toBe('tracker');
    expect(out.LITERAL!.value).toBe('${HOME}'); // no substitution in 0.13
    expect(out.LITERAL!.names).toContain('PATH'); // the runner's environment is inherited
  });

  it('a worker killed mid-task: heartbeat loss (5 s scan) gives TIMEOUT, the worker is restarted once for both interrupted steps, which retry with attempt 2', async () => {
    const w = workspace('grpc-restart');
    const tracker = `${w.dir}/track.jsonl`;
    w.write('stepflow-config.yml', trackerV013());
    w.write(
      'flow.yaml',
      `steps:
  - id: s1
    component: /tracker/record
    input: {file: ${JSON.stringify(tracker)}, step: s1, dieOnAttempts: [1], sleepMs: 200, value: 7}
  - id: s2
    component: /tracker/record
    input: {file: ${JSON.stringify(tracker)}, step: s2, sleepMs: 1000, value: 8}
output: {a: {$step: s1}, b: {$step: s2}}
`,
    );
    const r = await runRunner(['run', '--flow', 'flow.yaml'], w.dir, 40_000);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as {
      result: {
        a: { attempt: number; pid: number; value: number };
        b: { attempt: number; pid: number; value: number };
      };
    };
    expect(result.result.a).toMatchObject({ attempt: 2, value: 7 });
    expect(result.result.b).toMatchObject({ attempt: 2, value: 8 }); // killed with the worker
    expect(result.result.a.pid).toBe(result.result.b.pid); // one new worker
    const records = readTracker(tracker);
    expect(records.filter((x) => x.step === 's1').map((x) => x.attempt)).toEqual([1, 2]);
    expect(records.filter((x) => x.step === 's2').map((x) => x.attempt)).toEqual([1, 2]);
    expect(records[0]!.pid).not.toBe(result.result.a.pid);
    expect(alive(records[0]!.pid)).toBe(false);
    expect(r.stderr).toMatch(/worker "tracker" was restarted 1 time\(s\)/);
    // The 5 s heartbeat scan decides: no sooner than one window, no later than two (+ start-up).
    expect(r.elapsedMs).toBeGreaterThan(4_000);
    expect(r.elapsedMs).toBeLessThan(20_000);
  }, 45_000);

  it('a worker busy in a task is gone within 5 s after the runner is SIGKILLed (it loses its orchestrator)', async () => {
    const w = workspace('grpc-sigkill');
    const tracker = `${w.dir}/track.jsonl`;
    w.write('stepflow-config.yml', trackerV013());
    w.write(
      'flow.yaml',
      `steps:
  - id: s
    component: /tracker/record
    input: {file: ${JSON.stringify(tracker)}, step: s, holdUntil: ${JSON.stringify(`${w.dir}/never`)}}
output: {$step: s}
`,
    );
    const runner = startRunner(['run', '--flow', 'flow.yaml'], w.dir);
    const [record] = await waitFor('the worker busy', () => {
      const r = readTracker(tracker);
      return r.length === 1 ? r : undefined;
    });
    runner.child.kill('SIGKILL');
    await runner.done;
    const killedAt = Date.now();
    while ((alive(record!.pid) || groupAlive(record!.pgid)) && Date.now() - killedAt < 5000)
      await new Promise((r) => setTimeout(r, 50));
    expect(alive(record!.pid)).toBe(false);
    expect(groupAlive(record!.pgid)).toBe(false);
  });

  it('a worker that exits before connecting fails start-up at once, naming the exit and its stderr', async () => {
    const w = workspace('grpc-noconnect');
    w.write(
      'stepflow-config.yml',
      `plugins:
  broken:
    type: grpc
    queueName: broken
    command: node
    args: ["-e", "console.error('cannot start: missing setting'); process.exit(3)"]
routes:
  "/broken":
    - plugin: broken
`,
    );
    w.write('flow.yaml', 'steps: []\noutput: {$input: a}\n');
    const r = await runRunner(['run', '--flow', 'flow.yaml'], w.dir, 40_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /plugin "broken" failed to start: gRPC worker did not connect within 30 seconds \(the worker exited with code 3 before connecting\)/,
    );
    expect(r.stderr).toMatch(/stderr: cannot start: missing setting/);
    expect(r.elapsedMs).toBeLessThan(10_000);
  });
});

describe('0.13 builtins', () => {
  it('/noop returns its input and /sleep its duration and passthrough; neither exists before 0.13', async () => {
    const w = workspace('grpc-builtins');
    w.write(
      'stepflow-config.yml',
      'plugins:\n  builtin:\n    type: builtin\nroutes:\n  "/builtin":\n    - plugin: builtin\n',
    );
    w.write(
      'flow.yaml',
      `steps:
  - id: n
    component: /builtin/noop
    input: {keep: {$input: v}}
  - id: s
    component: /builtin/sleep
    input: {duration_ms: 50, passthrough: {$step: n}}
output: {$step: s}
`,
    );
    const r = await runRunner(
      ['run', '--flow', 'flow.yaml', '--input-json', '{"v":[1,"a"]}'],
      w.dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      outcome: 'success',
      result: { duration_ms: 50, passthrough: { keep: [1, 'a'] } },
    });
    w.write(
      'legacy.yml',
      'plugins:\n  builtin:\n    type: builtin\nroutes:\n  "/builtin/{*component}":\n    - plugin: builtin\n',
    );
    const list = await runRunner(
      ['list-components', '--emulate', 'v0.11', '--format', 'json', '--config', 'legacy.yml'],
      w.dir,
    );
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('/builtin/eval');
    expect(list.stdout).not.toContain('noop');
  });
});

describe('0.13 list-components', () => {
  it('lists the discovered components of a gRPC worker under their route prefix', async () => {
    const r = await runRunner(
      ['list-components', '--config', 'grpc/stepflow-config.yml', '--format', 'json'],
      FIXTURES,
    );
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { path: string; plugin: string; component: string }[];
    expect(rows).toContainEqual(
      expect.objectContaining({ path: '/tw/echo', plugin: 'tw', component: 'echo' }),
    );
    expect(rows).toContainEqual(
      expect.objectContaining({
        path: '/builtin/put_blob',
        plugin: 'builtin',
        component: '/put_blob',
      }),
    );
  });
});

describe('0.13 configs', () => {
  const flow = 'steps: []\noutput: {$input: a}\n';
  const cases: [string, string, RegExp][] = [
    [
      'type: stepflow is rejected with upstream message',
      'plugins:\n  math:\n    type: stepflow\n    command: node\nroutes:\n  "/math":\n    - plugin: math\n',
      /plugins\.math: unknown variant `stepflow`, expected one of `builtin`, `mock`, `mcp`, `grpc`, `nats`/,
    ],
    [
      'a multi-segment route key fails as upstream',
      'plugins:\n  builtin:\n    type: builtin\nroutes:\n  "/math/{component}":\n    - plugin: builtin\n',
      /Invalid prefix '\/math\/\{component\}': must be "\/" or a single-segment prefix like "\/python" \(no nested segments\)/,
    ],
    [
      'a nats plugin without consumer fails as upstream',
      'plugins:\n  q:\n    type: nats\n    url: nats://127.0.0.1:4222\nroutes:\n  "/q":\n    - plugin: q\n',
      /plugins\.q: consumer is required for NATS plugins/,
    ],
    [
      'mcp is not supported yet, naming the plugin',
      'plugins:\n  tools:\n    type: mcp\n    command: x\n    args: []\nroutes:\n  "/tools":\n    - plugin: tools\n',
      /plugin "tools": type mcp is not supported by this runner yet/,
    ],
    [
      'queueName is required',
      'plugins:\n  w:\n    type: grpc\n    command: node\nroutes:\n  "/w":\n    - plugin: w\n',
      /plugins\.w: queueName is required for gRPC plugins/,
    ],
    [
      'an integer mock code is refused in 0.13',
      'plugins:\n  m:\n    type: mock\n    components:\n      /x:\n        input_schema: {}\n        output_schema: {}\n        behaviors:\n          {a: 1}: {outcome: failed, error: {code: -32100, message: x}}\nroutes:\n  "/m":\n    - plugin: m\n',
      /expected a TaskErrorCode name such as COMPONENT_FAILED, got -32100/,
    ],
  ];
  for (const [name, config, message] of cases) {
    it(`${name} (--emulate v0.13)`, async () => {
      const w = workspace('grpc-config');
      w.write('stepflow-config.yml', config);
      w.write('flow.yaml', flow);
      const r = await runRunner(
        ['run', '--flow', 'flow.yaml', '--emulate', 'v0.13', '--input-json', '{"a":1}'],
        w.dir,
      );
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(2);
    });
  }

  it('prefers stepflow-config.v0.13.yml with --emulate v0.13 and stepflow-config.yml otherwise', async () => {
    const w = workspace('grpc-names');
    w.write(
      'stepflow-config.yml',
      'plugins:\n  builtin:\n    type: builtin\nroutes:\n  "/builtin/{*component}":\n    - plugin: builtin\n',
    );
    w.write(
      'stepflow-config.v0.13.yml',
      'plugins:\n  builtin:\n    type: builtin\nroutes:\n  "/b":\n    - plugin: builtin\n',
    );
    const body = (component: string) =>
      `steps:\n  - id: m\n    component: ${component}\n    input: {user_prompt: hi}\noutput: {$step: m}\n`;
    w.write('new.yaml', body('/b/create_messages'));
    w.write('old.yaml', body('/builtin/create_messages'));
    const v013 = await runRunner(['run', '--flow', 'new.yaml', '--emulate', 'v0.13'], w.dir);
    expect(v013.code, v013.stderr).toBe(0);
    expect(v013.stderr).toMatch(
      /emulating Stepflow v0\.13 \(config: .*stepflow-config\.v0\.13\.yml\)/,
    );
    const v011 = await runRunner(['run', '--flow', 'old.yaml'], w.dir);
    expect(v011.code, v011.stderr).toBe(0);
    expect(v011.stderr).toMatch(/emulating Stepflow v0\.11 \(config: .*stepflow-config\.yml\)/);
  });
});

describe('test --emulate with several releases', () => {
  it('runs each flow on the releases that read its syntax and prints a summary per generation', async () => {
    const w = workspace('grpc-multi');
    w.write(
      'stepflow-config.yml',
      'plugins:\n  builtin:\n    type: builtin\nroutes:\n  "/builtin/{*component}":\n    - plugin: builtin\n',
    );
    w.write(
      'stepflow-config.v0.13.yml',
      'plugins:\n  builtin:\n    type: builtin\nroutes:\n  "/builtin":\n    - plugin: builtin\n',
    );
    w.write(
      'modern.yaml',
      `schema: https://stepflow.org/schemas/v1/flow.json
steps:
  - id: m
    component: /builtin/create_messages
    input: {user_prompt: {$input: p}}
output: {$step: m, path: messages}
test:
  cases:
    - name: one message
      input: {p: hi}
      output: {outcome: success, result: [{role: user, content: hi}]}
`,
    );
    w.write(
      'legacy.yaml',
      `schema: https://stepflow.org/schemas/v1/flow.json
inputSchema: {type: object}
steps:
  - id: m
    component: /builtin/create_messages
    input: {user_prompt: {$from: {workflow: input}, path: p}}
output: {$from: {step: m}, path: messages}
test:
  cases:
    - name: legacy message
      input: {p: yo}
      output: {outcome: success, result: [{role: user, content: yo}]}
`,
    );
    const r = await runRunner(['test', '.', '--emulate', 'all'], w.dir, 60_000);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/=== Stepflow v0\.13 ===/);
    expect(r.stdout).toMatch(/- legacy\.yaml: not applicable to v0\.13/);
    expect(r.stdout).toMatch(/- modern\.yaml: not applicable to v0\.8/);
    expect(r.stdout).toMatch(
      /Summary per generation:\n {2}v0\.13 {2}1 passed, 0 failed, 1 not applicable \(1 file in another syntax\)[^\n]*\n {2}v0\.11 {2}1 passed, 0 failed, 1 not applicable[^\n]*\n {2}v0\.8 {3}1 passed, 0 failed, 1 not applicable/,
    );
  });
});
