import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  alive,
  readTracker,
  runRunner,
  startRunner,
  workspace,
  TRACKER,
  trackerConfig,
  waitFor,
} from './helpers.js';

// The built CLI end to end: test servers, reporters, worker environment, signals, validate.
const HELLO = fileURLToPath(new URL('./fixtures/servers/hello-server.mjs', import.meta.url));
const SCHEMA = 'schema: https://stepflow.org/schemas/v1/flow.json\n';

const serversFlow = (emulate: string) => `${SCHEMA}steps:
  - id: greet
    component: /tracker/fetch_json
    input: {envVar: HELLO_URL}
output:
  body: {$step: greet, path: body}
  url: {$input: url}
test:
  servers:
    hello:
      command: node
      args: [${JSON.stringify(HELLO)}, --port, "{port}"]
      env: {GREETING: "from {hello.url}", PID_FILE: PIDFILE}
      healthCheck: {path: /health, timeoutMs: 1000, retryDelayMs: 50}
  config:
    plugins:
      tracker:
        type: stepflow
        transport: stdio
        command: node
        args: [${JSON.stringify(TRACKER)}, --transport, auto]
        env: {HELLO_URL: "{hello.url}/hello"}
    routes:
      "/tracker/{component}": [{plugin: tracker}]
  cases:
    - name: reaches the fixture server (${emulate})
      input: {url: "{hello.url}"}
      output:
        outcome: success
        result:
          body: {hello: "from {hello.url}", port: "{hello.port}"}
          url: "{hello.url}"
`;

describe('test.servers', () => {
  for (const emulate of ['v0.8', 'v0.11']) {
    it(`starts a health-checked server with {port}/{name.url}/{name.port} substituted in args, env, config, input and output, and stops it after the file (${emulate})`, async () => {
      const w = workspace('servers');
      const pidFile = join(w.dir, 'server.pid');
      w.write('flow.yaml', serversFlow(emulate).replace('PIDFILE', JSON.stringify(pidFile)));
      const result = await runRunner(['test', 'flow.yaml', '--emulate', emulate], w.dir);
      expect(result.stdout).toMatch(
        new RegExp(
          `✓ \\[1/1\\] flow\\.yaml › reaches the fixture server \\(${emulate.replace('.', '\\.')}\\)`,
        ),
      );
      expect(result.stdout).toMatch(/1 passed, 0 failed/);
      expect(result.code).toBe(0);
      expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
    });
  }

  it('reports every case as an execution error when a server never becomes ready', async () => {
    const w = workspace('servers-bad');
    w.write(
      'flow.yaml',
      `${SCHEMA}output: 1\ntest:\n  servers:\n    dead:\n      command: node\n      args: [-e, "process.exit(3)"]\n  cases:\n    - {name: one, input: 1, output: {outcome: success, result: 1}}\n    - {name: two, input: 2, output: {outcome: success, result: 1}}\n`,
    );
    const result = await runRunner(['test', '.'], w.dir);
    expect(result.stdout).toMatch(
      /! \[1\/2\] flow\.yaml › one .*execution error\n {4}test servers failed to start: test server "dead" exited before it was ready/,
    );
    expect(result.stdout).toMatch(/! \[2\/2\] flow\.yaml › two/);
    expect(result.stdout).toMatch(/0 passed, 2 failed \(2 of them execution errors\)/);
    expect(result.code).toBe(1); // any failure: 1, whatever the count
  });
});

describe('test outcome accounting', () => {
  it('counts an unreadable flow file as a failure, naming file, line and field, while non-flow files are only skipped', async () => {
    const w = workspace('accounting');
    w.write('broken.yaml', 'steps: [\noutput: 1\n');
    w.write('badtest.yaml', 'output: 1\ntest:\n  cases:\n    - {input: 1}\n');
    w.write('data.yaml', 'just: data\n');
    w.write('notests.yaml', 'output: 1\n');
    const { stdout, code } = await runRunner(['test', '.'], w.dir);
    expect(stdout).toMatch(/! broken\.yaml:2:1: Flow sequence/);
    expect(stdout).toMatch(/! badtest\.yaml: test\.cases\[0\]\.name: a non-empty name is required/);
    expect(stdout).toMatch(/- data\.yaml: skipped \(not a flow file\)/);
    expect(stdout).toMatch(/- notests\.yaml: no tests/);
    expect(stdout).toMatch(
      /0 passed, 2 failed \(2 unreadable flow files, 1 file without tests, 1 skipped file\)/,
    );
    expect(code).toBe(1); // any failure: 1, whatever the count
  });
});

describe('crashing workers', () => {
  it('still reports every case, with its failure, when the worker dies on every call', async () => {
    const w = workspace('crash');
    w.write('stepflow-config.yml', trackerConfig());
    const tracker = JSON.stringify(join(w.dir, 't.jsonl'));
    w.write(
      'flow.yaml',
      `steps:\n  - {id: d, component: /tracker/die, input: {file: ${tracker}, step: d}}\noutput: {$step: d}\ntest:\n  cases:\n    - {name: first, input: 1, output: {outcome: success, result: {}}}\n    - {name: second, input: 2, output: {outcome: failed, error: {code: -32300, message: 'step "d" failed'}}}\n`,
    );
    const { stdout, code } = await runRunner(
      ['test', '.', '--backoff-ms', '10', '--transport-max-retries', '1'],
      w.dir,
    );
    expect(stdout).toMatch(/✗ \[\d\/2\] flow\.yaml › first/);
    expect(stdout).toMatch(/✓ \[\d\/2\] flow\.yaml › second/);
    expect(stdout).toMatch(/1 passed, 1 failed/);
    expect(code).toBe(1);
  });
});

describe('reporters', () => {
  const flow = `output: {$input: $}\ntest:\n  config:\n    plugins: {builtin: {type: builtin}}\n    routes: {}\n  cases:\n    - {name: same, input: {a: 1}, output: {outcome: success, result: {a: 1}}}\n    - {name: differs, input: {a: [1, {b: 2}]}, output: {outcome: success, result: {a: [1, {b: 3}]}}}\n    - {name: unexpected <&>, input: 1}\n`;

  it('human: a line per case with a progress count, JSON-path diffs, and the summary line', async () => {
    const w = workspace('human');
    w.write('flow.yaml', flow);
    const { stdout, code } = await runRunner(['test', '.', '--max-concurrency', '1'], w.dir);
    expect(stdout).toContain('Running 3 test cases');
    expect(stdout).toMatch(/✓ \[1\/3\] flow\.yaml › same \(\d+ ms\)/);
    expect(stdout).toMatch(
      /✗ \[2\/3\] flow\.yaml › differs \(\d+ ms\)\n {4}\$\.result\.a\[1\]\.b: values differ\n {6}expected: 3\n {6}actual: {3}2/,
    );
    expect(stdout).toMatch(
      /✗ \[3\/3\] flow\.yaml › unexpected <&> \(\d+ ms\)\n {4}the case has no expected output\n {4}actual result: \{"outcome":"success","result":1\}/,
    );
    expect(stdout).toMatch(/\n1 passed, 2 failed in \d+\.\d s\n$/);
    expect(code).toBe(1); // any failure: 1, whatever the count
  });

  it('json: one document with summary, files and cases', async () => {
    const w = workspace('json');
    w.write('flow.yaml', flow);
    const { stdout } = await runRunner(['test', '.', '--reporter', 'json'], w.dir);
    const report = JSON.parse(stdout) as {
      summary: object;
      cases: { name: string; status: string; differences?: { path: string }[] }[];
    };
    expect(report.summary).toMatchObject({ passed: 1, failed: 2, errors: 0 });
    expect(report.cases.find((c) => c.name === 'differs')?.differences?.[0]?.path).toBe(
      '$.result.a[1].b',
    );
  });

  it('junit: one testsuite per file, failures with escaped messages', async () => {
    const w = workspace('junit');
    w.write('flow.yaml', flow);
    const { stdout } = await runRunner(['test', '.', '--reporter', 'junit'], w.dir);
    expect(stdout).toMatch(
      /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="stepflow-packs" tests="3" failures="2" errors="0"/,
    );
    expect(stdout).toContain('<testsuite name="flow.yaml" tests="3" failures="2" errors="0"');
    expect(stdout).toMatch(/<testcase classname="flow\.yaml" name="same" time="[\d.]+"\/>/);
    expect(stdout).toContain('name="unexpected &lt;&amp;&gt;"');
    expect(stdout).toMatch(/<failure message="\$\.result\.a\[1\]\.b">/);
  });
});

describe('worker environment', () => {
  it("gives workers only their configured env (substituted), never the runner's secrets", async () => {
    const w = workspace('env');
    w.write(
      'stepflow-config.yml',
      trackerConfig({
        pluginExtra: '    env:\n      VISIBLE: "${RUNNER_VISIBLE:fallback}-${HOME_DIR:x}"\n',
      }),
    );
    w.write(
      'flow.yaml',
      `${SCHEMA}steps:\n  - {id: e, component: /tracker/environment, input: {name: VISIBLE}}\noutput: {$step: e}\n`,
    );
    const result = await runRunner(['run', '--flow', 'flow.yaml'], w.dir);
    const output = JSON.parse(result.stdout) as { result: { names: string[]; value: string } };
    expect(output.result.value).toBe('fallback-x');
    expect(output.result.names.filter((n) => !['VISIBLE'].includes(n))).toEqual([]);
  });

  it('fails the plugin launch, naming the variable, when ${VAR} is unset without default', async () => {
    const w = workspace('env-missing');
    w.write(
      'stepflow-config.yml',
      trackerConfig({ pluginExtra: '    env:\n      TOKEN: "${SURELY_UNSET_TOKEN}"\n' }),
    );
    w.write(
      'flow.yaml',
      `${SCHEMA}steps:\n  - {id: e, component: /tracker/environment, input: {name: TOKEN}}\noutput: {$step: e}\n`,
    );
    const result = await runRunner(['run', '--flow', 'flow.yaml'], w.dir);
    expect(result.stderr).toMatch(
      /plugin "tracker" failed to start: .*env\.TOKEN: environment variable SURELY_UNSET_TOKEN is not set/,
    );
    expect(result.code).toBe(2);
  });
});

describe('signals', () => {
  it('stops every worker within 5 s of SIGTERM and exits 143', async () => {
    const w = workspace('sigterm');
    w.write('stepflow-config.yml', trackerConfig());
    w.write(
      'flow.yaml',
      `${SCHEMA}steps:\n  - {id: held, component: /tracker/record, input: {file: ${JSON.stringify(join(w.dir, 't.jsonl'))}, step: held, holdUntil: /nonexistent}}\noutput: {$step: held}\n`,
    );
    const runner = startRunner(
      ['run', '--flow', 'flow.yaml', '--emulate', 'v0.11', '--worker-transport', 'stdio'],
      w.dir,
    );
    const record = await waitFor('the held step', () => readTracker(join(w.dir, 't.jsonl'))[0]);
    const t0 = performance.now();
    runner.child.kill('SIGTERM');
    const result = await runner.done;
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(result.code).toBe(143);
    await waitFor('the worker to be gone', () => (alive(record.pid) ? undefined : true), 1000);
  });
});

describe('validate and list-components', () => {
  it('validate names file, step and field of every problem and exits 1', async () => {
    const w = workspace('validate');
    w.write('stepflow-config.yml', trackerConfig());
    w.write(
      'bad.yaml',
      'steps:\n  - {id: a, component: /tracker/record, input: {$step: b}}\n  - {id: b, component: /nowhere/x}\noutput: {$step: zz}\n',
    );
    w.write(
      'good.yaml',
      'steps:\n  - {id: a, component: /tracker/record, input: {}}\noutput: {$step: a}\n',
    );
    const bad = await runRunner(['validate', 'bad.yaml'], w.dir);
    expect(bad.stderr).toMatch(
      /bad\.yaml:2:\d+: step "a" references step "b", which is defined later/,
    );
    expect(bad.stderr).toMatch(/bad\.yaml:4:\d+: output references unknown step "zz"/);
    expect(bad.code).toBe(1);
    const good = await runRunner(['validate', 'good.yaml'], w.dir);
    expect(good.stdout).toMatch(/good\.yaml: valid \(v0\.11, 1 step/);
    expect(good.code).toBe(0);
  });

  it('list-components maps worker components to flow paths', async () => {
    const w = workspace('list');
    w.write('stepflow-config.yml', trackerConfig());
    const result = await runRunner(['list-components', '--format', 'json'], w.dir);
    const rows = JSON.parse(result.stdout) as { path: string }[];
    expect(rows.map((r) => r.path)).toEqual(
      expect.arrayContaining(['/tracker/record', '/tracker/die', '/tracker/health_check']),
    );
  });

  it('prints usage on --help and the version on --version', async () => {
    const help = await runRunner(['--help'], process.cwd());
    expect(help.stdout).toMatch(/Usage:\n {2}stepflow-packs run --flow/);
    expect(help.code).toBe(0);
    const version = await runRunner(['--version'], process.cwd());
    expect(version.stdout).toMatch(/^stepflow-packs \d+\.\d+\.\d+\n$/);
  });
});
