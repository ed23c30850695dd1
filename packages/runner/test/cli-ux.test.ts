import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  alive,
  readTracker,
  RUNNER_BIN,
  runRunner,
  workspace,
  TRACKER,
  trackerConfig,
  waitFor,
} from './helpers.js';

// The CLI as a new user meets it: worker start failures, failure reports, names and
// suggestions, flag checks, exit codes, stdin input, closed pipes, start-up timeouts.
const FIXTURES = fileURLToPath(new URL('./fixtures/cli-ux/', import.meta.url));
const LAUNCHER = join(FIXTURES, 'failing-launcher.mjs');
const SILENT = join(FIXTURES, 'silent-worker.mjs');
const SCHEMA = 'schema: https://stepflow.org/schemas/v1/flow.json\n';

/** The built CLI with stdin from `input` (a pipe), or /dev/null when undefined. */
function runWithStdin(args: string[], cwd: string, input: string | Buffer | undefined) {
  const child = spawn(process.execPath, [RUNNER_BIN, ...args], {
    cwd,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  if (input !== undefined) {
    child.stdin!.on('error', () => {}); // the runner may stop reading (size cap)
    child.stdin!.end(input);
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** A shell pipeline (`runner … | head …`); the runner's stderr is the shell's. */
function runPipeline(command: string, cwd: string) {
  const child = spawn('/bin/sh', ['-c', command], { cwd, env: { PATH: process.env.PATH ?? '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

const twoCases = `steps:
  - {id: add, component: /math/add, input: {a: {$input: a}}}
output: {$step: add}
test:
  cases:
    - {name: one, input: {a: 1}, output: {outcome: success, result: 1}}
    - {name: two, input: {a: 2}, output: {outcome: success, result: 2}}
`;

function launcherConfig(mode: '--npm-404' | '--not-found', transport = 'stdio'): string {
  return `plugins:
  math:
    type: stepflow
    transport: ${transport}
    command: node
    args: [${JSON.stringify(LAUNCHER)}, "${mode}"]
routes:
  "/math/{component}": [{plugin: math}]
`;
}

describe('a worker that fails to start', () => {
  it('test (v0.11 HTTP subprocess): the command, working folder, stderr and the npm 404 hint appear once per file; each case is an error with a short reference', async () => {
    const w = workspace('ux-start-test');
    w.write('stepflow-config.yml', launcherConfig('--npm-404'));
    w.write('flow.yaml', twoCases);
    const r = await runRunner(['test', '.', '--emulate', 'v0.11'], w.dir);
    expect(r.stdout).toMatch(
      /! flow\.yaml: the runtime environment failed to start: plugin "math" failed to start: the worker exited before announcing its port: the worker exited with code 1\n/,
    );
    expect(count(r.stdout, `command: `)).toBe(1);
    expect(r.stdout).toContain(`failing-launcher.mjs --npm-404`);
    expect(count(r.stdout, `working folder: ${w.dir}`)).toBe(1);
    expect(count(r.stdout, 'stderr: npm error 404 Not Found')).toBe(1);
    expect(count(r.stdout, 'hint: the package is not on the registry')).toBe(1);
    expect(r.stdout).toMatch(
      /! \[1\/2\] flow\.yaml › one .*execution error\n {4}the runtime environment failed to start: plugin "math" failed to start \(reported once for flow\.yaml\)\n/,
    );
    expect(r.stdout).toMatch(/! \[2\/2\] flow\.yaml › two/);
    expect(r.stdout).toMatch(/0 passed, 2 failed \(2 of them execution errors\)/);
    expect(r.code).toBe(1);
  });

  it('test --reporter json: the start error is in the file report once', async () => {
    const w = workspace('ux-start-json');
    w.write('stepflow-config.yml', launcherConfig('--npm-404'));
    w.write('flow.yaml', twoCases);
    const r = await runRunner(['test', '.', '--reporter', 'json'], w.dir);
    const report = JSON.parse(r.stdout) as {
      files: { startError?: string }[];
      cases: { status: string; message: string }[];
    };
    expect(report.files[0]!.startError).toMatch(/hint: the package is not on the registry/);
    expect(report.cases.map((c) => c.status)).toEqual(['error', 'error']);
    expect(report.cases[0]!.message).not.toMatch(/npm error/);
    expect(r.code).toBe(1);
  });

  it('run (v0.8 stdio): exit code 127 names the command, folder, stderr and a command-not-found hint', async () => {
    const w = workspace('ux-start-run');
    w.write('stepflow-config.yml', launcherConfig('--not-found'));
    w.write('flow.yaml', SCHEMA + twoCases);
    const r = await runRunner(['run', '--flow', 'flow.yaml', '--input-json', '{"a":1}'], w.dir);
    expect(r.stderr).toMatch(/plugin "math" failed to start: .*the worker exited with code 127/);
    expect(r.stderr).toMatch(/ {2}command: \S*node \S*failing-launcher\.mjs --not-found\n/);
    expect(r.stderr).toContain(`  working folder: ${w.dir}\n`);
    expect(r.stderr).toContain('  stderr: sh: 1: mathpack: not found\n');
    expect(r.stderr).toMatch(/ {2}hint: command not found: is the pack installed\?/);
    expect(r.code).toBe(2);
  });

  it('run: a command missing from PATH gets the command-not-found hint', async () => {
    const w = workspace('ux-start-path');
    w.write(
      'stepflow-config.yml',
      launcherConfig('--not-found').replace('command: node', 'command: surely-not-a-command-xyz'),
    );
    w.write('flow.yaml', twoCases);
    const r = await runRunner(['run', '--flow', 'flow.yaml', '--input-json', '{"a":1}'], w.dir);
    expect(r.stderr).toMatch(
      /plugin "math" failed to start: cannot launch the worker: command "surely-not-a-command-xyz" was not found on PATH\n {2}command: surely-not-a-command-xyz /,
    );
    expect(r.stderr).toMatch(/hint: command not found/);
    expect(r.code).toBe(2);
  });

  it('run (0.13 gRPC worker): the npm 404 hint, command and folder', async () => {
    const w = workspace('ux-start-grpc');
    w.write(
      'stepflow-config.yml',
      `plugins:\n  math:\n    type: grpc\n    queueName: math\n    command: node\n    args: [${JSON.stringify(LAUNCHER)}, "--npm-404"]\nroutes:\n  "/math": [{plugin: math}]\n`,
    );
    w.write('flow.yaml', twoCases);
    const r = await runRunner(['run', '--flow', 'flow.yaml', '--input-json', '{"a":1}'], w.dir);
    expect(r.stderr).toMatch(
      /plugin "math" failed to start: gRPC worker did not connect within 30 seconds \(the worker exited with code 1 before connecting\)\n {2}command: /,
    );
    expect(r.stderr).toContain(`  working folder: ${w.dir}\n`);
    expect(r.stderr).toMatch(/hint: the package is not on the registry/);
    expect(r.code).toBe(2);
  });
});

describe('failure reports', () => {
  it('a failed case shows expected and actual FlowResults and the failing step with a "did you mean" (v0.11)', async () => {
    const w = workspace('ux-report');
    w.write(
      'flow.yaml',
      `steps:
  - {id: store, component: /builtin/put_blb, input: {data: 1}}
output: {$step: store}
test:
  config:
    plugins: {builtin: {type: builtin}}
    routes: {"/builtin/{component}": [{plugin: builtin}]}
  cases:
    - {name: stores, input: 1, output: {outcome: success, result: {blob_id: x}}}
`,
    );
    const r = await runRunner(['test', '.', '--backoff-ms', '10'], w.dir);
    expect(r.stdout).toMatch(
      /✗ \[1\/1\] flow\.yaml › stores .*\n {4}actual error: step "store" \(component \/builtin\/put_blb\) failed: -32\d+: step "store" failed \(did you mean "\/builtin\/put_blob"\?\)\n/,
    );
    expect(r.stdout).toMatch(
      /\n {4}expected: \{"outcome":"success","result":\{"blob_id":"x"\}\}\n/,
    );
    expect(r.stdout).toMatch(/\n {4}actual: {3}\{"outcome":"failed","error":\{"code":-32\d+,/);
    expect(r.code).toBe(1);
  });

  it('a mismatching success shows the path differences and both whole results', async () => {
    const w = workspace('ux-report-diff');
    w.write(
      'flow.yaml',
      `output: {$input: $}\ntest:\n  config:\n    plugins: {builtin: {type: builtin}}\n    routes: {}\n  cases:\n    - {name: differs, input: {a: 1}, output: {outcome: success, result: {a: 2}}}\n`,
    );
    const r = await runRunner(['test', '.'], w.dir);
    expect(r.stdout).toMatch(
      /\$\.result\.a: values differ\n {6}expected: 2\n {6}actual: {3}1\n {4}expected: \{"outcome":"success","result":\{"a":2\}\}\n {4}actual: {3}\{"outcome":"success","result":\{"a":1\}\}\n/,
    );
  });
});

describe('step names and suggestions', () => {
  for (const emulate of ['v0.8', 'v0.11', 'v0.13'] as const) {
    it(`run names the failing step and suggests the worker's component for a typo (${emulate})`, async () => {
      const w = workspace('ux-step');
      const config =
        emulate === 'v0.13'
          ? `plugins:\n  tracker:\n    type: grpc\n    queueName: tracker\n    command: node\n    args: [${JSON.stringify(TRACKER)}]\nroutes:\n  "/tracker": [{plugin: tracker}]\n`
          : trackerConfig();
      w.write('stepflow-config.yml', config);
      w.write(
        'flow.yaml',
        `${SCHEMA}steps:\n  - {id: rec, component: /tracker/recrd, input: {file: t, step: rec}}\noutput: {$step: rec}\n`,
      );
      const r = await runRunner(
        ['run', '--flow', 'flow.yaml', '--emulate', emulate, '--input-json', '1'],
        w.dir,
        40_000,
      );
      expect(r.stderr).toMatch(
        /step "rec" \(component \/tracker\/recrd\) failed: .*\(did you mean "\/tracker\/record"\?\)/,
      );
      expect(r.code).toBe(1);
    });
  }

  it('run names the step of a worker error (v0.11)', async () => {
    const w = workspace('ux-step-error');
    w.write('stepflow-config.yml', trackerConfig());
    w.write(
      'flow.yaml',
      `steps:\n  - {id: rec, component: /tracker/record, input: {file: ${JSON.stringify(join(w.dir, 't.jsonl'))}, step: rec, failOnAttempts: [1]}}\noutput: {$step: rec}\n`,
    );
    const r = await runRunner(['run', '--flow', 'flow.yaml', '--input-json', '1'], w.dir);
    expect(r.stderr).toMatch(
      /step "rec" \(component \/tracker\/record\) failed: -?\d+: failing on attempt 1 as asked\n/,
    );
    expect(r.code).toBe(1);
  });

  it('validate: a mistyped step reference names file:line:column and the nearest step', async () => {
    const w = workspace('ux-validate-ref');
    w.write(
      'flow.yaml',
      'steps:\n  - id: add\n    component: /builtin/noop\n    input: {}\n  - id: twice\n    component: /builtin/noop\n    input:\n      x: {$step: ad}\noutput: {$step: twice}\n',
    );
    const r = await runRunner(['validate', 'flow.yaml', '--emulate', 'v0.13'], w.dir);
    expect(r.stderr).toMatch(
      /^flow\.yaml:8:\d+: step "twice" references unknown step "ad" \(did you mean "add"\?\)$/m,
    );
    expect(r.code).toBe(1);
    const run = await runRunner(['run', '--flow', 'flow.yaml', '--emulate', 'v0.13'], w.dir);
    expect(run.stderr).toMatch(
      /error: flow\.yaml:8:\d+: step "twice" references unknown step "ad"/,
    );
    expect(run.code).toBe(2);
  });

  it('validate: components are checked against the routes and static plugins with file:line:column (v0.11, 0.13)', async () => {
    const w = workspace('ux-validate-components');
    w.write(
      'stepflow-config.yml',
      'plugins:\n  builtin: {type: builtin}\nroutes:\n  "/builtin/{component}": [{plugin: builtin}]\n',
    );
    w.write(
      'flow.yaml',
      'steps:\n  - id: store\n    component: /builtin/put_blb\n    input: {data: 1}\n  - id: other\n    component: /bultin/put_blob\n    input: {data: 1}\noutput: {$step: store}\n',
    );
    const legacy = await runRunner(['validate', 'flow.yaml'], w.dir);
    expect(legacy.stderr).toMatch(
      /^flow\.yaml:3:16: step "store": component \/builtin\/put_blb: plugin "builtin" has no component \/put_blb \(did you mean "\/builtin\/put_blob"\?\)$/m,
    );
    expect(legacy.stderr).toMatch(
      /^flow\.yaml:6:16: step "other": component \/bultin\/put_blob: no route matches component "\/bultin\/put_blob" \(did you mean "\/builtin\/put_blob"\?\)$/m,
    );
    expect(legacy.code).toBe(1);

    const v013 = workspace('ux-validate-013');
    v013.write(
      'stepflow-config.yml',
      'plugins:\n  builtin: {type: builtin}\n  math: {type: grpc, queueName: math, command: node}\nroutes:\n  "/builtin": [{plugin: builtin}]\n  "/math": [{plugin: math}]\n',
    );
    v013.write(
      'flow.yaml',
      'steps:\n  - {id: a, component: /builtin/nop, input: {}}\n  - {id: b, component: /mth/add, input: {}}\n  - {id: c, component: /math/anything, input: {}}\noutput: {$step: a}\n',
    );
    const r = await runRunner(['validate', 'flow.yaml'], v013.dir);
    expect(r.stderr).toMatch(
      /^flow\.yaml:2:\d+: step "a": component \/builtin\/nop: No matching component for path: \/builtin\/nop \(prefix: \/builtin\) \(did you mean "\/builtin\/noop"\?\)$/m,
    );
    expect(r.stderr).toMatch(
      /^flow\.yaml:3:\d+: step "b": component \/mth\/add: No matching prefix for path: \/mth\/add \(did you mean "\/math\/add"\?\)$/m,
    );
    expect(r.stderr).not.toMatch(/step "c"/); // a worker's components are known only once started
    expect(r.code).toBe(1);
  });
});

describe('flags and exit codes', () => {
  it('test --case that matches nothing fails with the nearest and available names', async () => {
    const w = workspace('ux-case');
    w.write(
      'flow.yaml',
      `output: {$input: $}\ntest:\n  config:\n    plugins: {builtin: {type: builtin}}\n    routes: {}\n  cases:\n    - {name: one, input: 1, output: {outcome: success, result: 1}}\n    - {name: two, input: 2, output: {outcome: success, result: 2}}\n`,
    );
    const r = await runRunner(['test', '.', '--case', 'onw'], w.dir);
    expect(r.stderr).toContain(
      'error: --case "onw" matches no test case; nearest: "one"; available: "one", "two"',
    );
    expect(r.code).toBe(1);
    const ok = await runRunner(['test', '.', '--case', 'one'], w.dir);
    expect(ok.code).toBe(0);
  });

  it('rejects a bad enum flag with exit 2 before any worker starts', async () => {
    const w = workspace('ux-flags');
    const pidFile = join(w.dir, 'worker.pid');
    w.write(
      'stepflow-config.yml',
      `plugins:\n  silent:\n    type: stepflow\n    transport: stdio\n    command: node\n    args: [${JSON.stringify(SILENT)}]\n    env: {PID_FILE: ${JSON.stringify(pidFile)}}\nroutes:\n  "/silent/{component}": [{plugin: silent}]\n`,
    );
    w.write(
      'flow.yaml',
      'steps:\n  - {id: s, component: /silent/x, input: {}}\noutput: {$step: s}\n',
    );
    const attempts: [string[], RegExp][] = [
      [['list-components', '--format', 'xml'], /--format: expected pretty or json, got "xml"/],
      [['test', '.', '--reporter', 'tap'], /--reporter: expected human, json or junit, got "tap"/],
      [
        ['run', '--flow', 'flow.yaml', '--emulate', 'v9'],
        /--emulate: expected v0\.8, v0\.11 or v0\.13/,
      ],
      [
        ['list-components', '--worker-transport', 'tcp'],
        /--worker-transport: expected auto, stdio or http/,
      ],
      [
        ['run', '--flow', 'flow.yaml', '--startup-timeout-ms', '0'],
        /--startup-timeout-ms: expected an integer >= 1/,
      ],
      [['run', '--flow', 'flow.yaml', '--format', 'xml'], /--format: expected pretty or json/],
    ];
    for (const [args, message] of attempts) {
      const r = await runRunner(args, w.dir);
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(2);
    }
    expect(existsSync(pidFile)).toBe(false);
  });

  it('test exits 1 (not the number of failures) when cases fail, and --help documents the exit codes', async () => {
    const w = workspace('ux-exit');
    w.write(
      'flow.yaml',
      `output: {$input: $}\ntest:\n  config:\n    plugins: {builtin: {type: builtin}}\n    routes: {}\n  cases:\n${[1, 2, 3].map((i) => `    - {name: c${i}, input: ${i}, output: {outcome: success, result: 0}}\n`).join('')}`,
    );
    const r = await runRunner(['test', '.'], w.dir);
    expect(r.stdout).toMatch(/0 passed, 3 failed/);
    expect(r.code).toBe(1);
    const help = await runRunner(['--help'], w.dir);
    expect(help.stdout).toMatch(/Exit codes:\n {2}0 .*\n {2}1 .*test: a case failed/);
    expect(help.stdout).toMatch(/--startup-timeout-ms <N>/);
  });
});

describe('run reads the input from stdin', () => {
  const flow = 'output: {$input: $}\n';
  it('JSON and YAML from a pipe, null from an empty pipe and from /dev/null', async () => {
    const w = workspace('ux-stdin');
    w.write('flow.yaml', flow);
    const json = await runWithStdin(['run', '--flow', 'flow.yaml'], w.dir, '{"a": [1, 2]}');
    expect(JSON.parse(json.stdout)).toEqual({ outcome: 'success', result: { a: [1, 2] } });
    expect(json.code).toBe(0);
    const yaml = await runWithStdin(['run', '--flow', 'flow.yaml'], w.dir, 'a: 1\nb: [x]\n');
    expect(JSON.parse(yaml.stdout)).toEqual({ outcome: 'success', result: { a: 1, b: ['x'] } });
    const empty = await runWithStdin(['run', '--flow', 'flow.yaml'], w.dir, '');
    expect(JSON.parse(empty.stdout)).toEqual({ outcome: 'success', result: null });
    const none = await runWithStdin(['run', '--flow', 'flow.yaml'], w.dir, undefined);
    expect(JSON.parse(none.stdout)).toEqual({ outcome: 'success', result: null });
    const flag = await runWithStdin(
      ['run', '--flow', 'flow.yaml', '--input-json', '2'],
      w.dir,
      '{"ignored": true}',
    );
    expect(JSON.parse(flag.stdout)).toEqual({ outcome: 'success', result: 2 });
  });

  it('refuses more than 64 MiB with a clear error', async () => {
    const w = workspace('ux-stdin-big');
    w.write('flow.yaml', flow);
    const r = await runWithStdin(
      ['run', '--flow', 'flow.yaml'],
      w.dir,
      Buffer.alloc(64 * 1024 * 1024 + 10, 0x20),
    );
    expect(r.stderr).toMatch(/stdin: the input is larger than 64 MiB; pass it with --input <FILE>/);
    expect(r.code).toBe(2);
  });
});

describe('a closed stdout', () => {
  it('test … | head -1 exits quietly and leaves no worker behind', async () => {
    const w = workspace('ux-pipe-test');
    w.write('stepflow-config.yml', trackerConfig());
    const tracker = join(w.dir, 't.jsonl');
    w.write(
      'flow.yaml',
      `steps:\n  - {id: r, component: /tracker/record, input: {file: ${JSON.stringify(tracker)}, step: r, sleepMs: 50, value: {$input: $}}}\noutput: {$step: r, path: value}\ntest:\n  cases:\n${Array.from({ length: 40 }, (_, i) => `    - {name: case-${i}, input: ${i}, output: {outcome: success, result: ${i}}}\n`).join('')}`,
    );
    const r = await runPipeline(
      `node ${JSON.stringify(RUNNER_BIN)} test . --max-concurrency 1 | head -1`,
      w.dir,
    );
    expect(r.stdout).toBe('Running 40 test cases\n');
    expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
    const pids = [...new Set(readTracker(tracker).map((t) => t.pid))];
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids)
      await waitFor(`worker ${pid} to be gone`, () => (alive(pid) ? undefined : true), 5000);
  });

  it('run … | head -c1 exits quietly and leaves no worker behind', async () => {
    const w = workspace('ux-pipe-run');
    w.write('stepflow-config.yml', trackerConfig());
    const tracker = join(w.dir, 't.jsonl');
    w.write(
      'flow.yaml',
      `steps:\n  - {id: r, component: /tracker/record, input: {file: ${JSON.stringify(tracker)}, step: r, value: {$input: big}}}\noutput: {$step: r}\n`,
    );
    w.write('input.json', JSON.stringify({ big: 'x'.repeat(512 * 1024) }));
    const r = await runPipeline(
      `node ${JSON.stringify(RUNNER_BIN)} run --flow flow.yaml --input input.json | head -c1`,
      w.dir,
    );
    expect(r.stdout).toBe('{');
    expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
    const [record] = readTracker(tracker);
    expect(record).toBeDefined();
    await waitFor('the worker to be gone', () => (alive(record!.pid) ? undefined : true), 5000);
  });
});

describe('start-up timeout', () => {
  it('a v0.8 stdio worker that never answers initialize fails after --startup-timeout-ms, and is stopped', async () => {
    const w = workspace('ux-startup');
    const pidFile = join(w.dir, 'worker.pid');
    w.write(
      'stepflow-config.yml',
      `plugins:\n  silent:\n    type: stepflow\n    transport: stdio\n    command: node\n    args: [${JSON.stringify(SILENT)}]\n    env: {PID_FILE: ${JSON.stringify(pidFile)}}\nroutes:\n  "/silent/{component}": [{plugin: silent}]\n`,
    );
    w.write(
      'flow.yaml',
      `${SCHEMA}steps:\n  - {id: s, component: /silent/x, input: {}}\noutput: {$step: s}\ntest:\n  cases:\n    - {name: one, input: 1, output: {outcome: success, result: 1}}\n`,
    );
    const started = performance.now();
    const r = await runRunner(
      [
        'run',
        '--flow',
        'flow.yaml',
        '--emulate',
        'v0.8',
        '--startup-timeout-ms',
        '1500',
        '--input-json',
        '1',
      ],
      w.dir,
    );
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(r.stderr).toMatch(
      /plugin "silent" failed to start: the worker did not answer initialize within 1500 ms \(start-up timeout: --startup-timeout-ms/,
    );
    expect(r.stderr).toContain(`  working folder: ${w.dir}`);
    expect(r.code).toBe(2);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await waitFor('the silent worker to be gone', () => (alive(pid) ? undefined : true), 5000);

    const t = await runRunner(
      ['test', '.', '--emulate', 'v0.8', '--startup-timeout-ms', '1500'],
      w.dir,
    );
    expect(t.stdout).toMatch(/did not answer initialize within 1500 ms/);
    expect(t.stdout).toMatch(/0 passed, 1 failed/);
    expect(t.code).toBe(1);
  });
});
