import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { Environment } from '../src/execute/environment.js';
import { toFlowResult } from '../src/execute/result.js';
import type { StepEvent } from '../src/execute/run.js';
import type { Version } from '../src/flow/model.js';
import { parseFlow } from '../src/flow/parse.js';
import { parseYaml } from '../src/json/yaml.js';
import type { Json } from '../src/json/value.js';

// Execution semantics (expressions, skipping, onError, builtins), in-process with the
// builtin and mock plugins.
const CONFIG = `
plugins:
  builtin: {type: builtin}
  mock:
    type: mock
    components:
      /echo:
        input_schema: {}
        output_schema: {}
        behaviors:
          { v: 1 }: {outcome: success, result: {out: one}}
          { v: 2 }: {outcome: success, result: {out: two}}
          { v: null }: {outcome: success, result: null}
      /broken:
        input_schema: {}
        output_schema: {}
        behaviors:
          { mode: value }: {outcome: failed, error: {code: -32101, message: bad value}}
          { mode: other }: {outcome: failed, error: {code: 7, message: not retryable}}
routes:
  "/builtin/{component}": [{plugin: builtin}]
  "/mock/{component}": [{plugin: mock}]
retry:
  transportMaxRetries: 2
  backoff: {type: constant, delayMs: 1}
`;

const envs: Environment[] = [];
afterEach(async () => {
  await Promise.all(envs.splice(0).map((e) => e.close()));
});

async function run(
  version: Version,
  flowYaml: string,
  input: Json = null,
  workingDirectory?: string,
) {
  const events: StepEvent[] = [];
  const config = parseConfig(parseYaml(CONFIG), {
    source: 'test',
    file: undefined,
    baseDir: workingDirectory ?? process.cwd(),
  });
  const env = await Environment.start({ version, config, onStepEvent: (e) => events.push(e) });
  envs.push(env);
  const schema = version === 'v0.8' ? 'schema: https://stepflow.org/schemas/v1/flow.json\n' : '';
  const { flow } = parseFlow(parseYaml(schema + flowYaml), { version });
  const { result } = await env.run(flow, input);
  const attempts = (step: string) =>
    events
      .filter((e) => e.type === 'attempt' && e.stepId === step)
      .map((e) => (e as { attempt: number }).attempt);
  return { result: toFlowResult(result), attempts, events, env };
}

describe('lazy execution (v0.11)', () => {
  it('runs only steps the output needs: untaken $if branches and later $coalesce items are never executed', async () => {
    const { result, attempts } = await run(
      'v0.11',
      `steps:
  - {id: a, component: /mock/echo, input: {v: 1}}
  - {id: b, component: /mock/echo, input: {v: 2}}
  - {id: unused, component: /mock/echo, input: {v: 2}}
  - {id: n, component: /mock/echo, input: {v: null}}
  - {id: c, component: /mock/echo, input: {v: 1}}
output:
  picked: {$if: {$input: flag}, then: {$step: a}, else: {$step: b}}
  first: {$coalesce: [{$step: n}, {$step: b, path: out}, {$step: c}]}
`,
      { flag: false },
    );
    // Needed from the start: b (the branch an input-only condition takes) and n (the first
    // $coalesce value that reads a step); b is also what the second value reads.
    expect(result).toEqual({
      outcome: 'success',
      result: { picked: { out: 'two' }, first: 'two' },
    });
    expect(attempts('unused')).toEqual([]);
    expect(attempts('a')).toEqual([]);
    expect(attempts('c')).toEqual([]);
  });

  it('propagates a referenced failure to the output and reports missing paths as -32200', async () => {
    const failedRef = await run(
      'v0.11',
      'steps:\n  - {id: x, component: /mock/broken, input: {mode: other}}\n  - {id: y, component: /mock/echo, input: {v: {$step: x}}}\noutput: {$step: y}\n',
    );
    expect(failedRef.result).toEqual({
      outcome: 'failed',
      error: { code: 7, message: 'not retryable' },
    });
    expect(failedRef.attempts('y')).toEqual([]);
    const missing = await run('v0.11', 'output: {$input: $.a.b}\n', { a: {} });
    expect(missing.result).toEqual({
      outcome: 'failed',
      error: { code: -32200, message: 'Input path $.a.b not found' },
    });
  });

  it('retries -321xx failures only with onError: retry, incrementing attempt, and applies useDefault at once', async () => {
    const retried = await run(
      'v0.11',
      'steps:\n  - {id: x, component: /mock/broken, input: {mode: value}, onError: {action: retry, maxRetries: 2}}\noutput: {$step: x}\n',
    );
    expect(retried.result).toMatchObject({ outcome: 'failed', error: { code: -32101 } });
    expect(retried.attempts('x')).toEqual([1, 2, 3]);
    const notRetryable = await run(
      'v0.11',
      'steps:\n  - {id: x, component: /mock/broken, input: {mode: other}, onError: {action: retry}}\noutput: {$step: x}\n',
    );
    expect(notRetryable.attempts('x')).toEqual([1]);
    const defaulted = await run(
      'v0.11',
      'steps:\n  - {id: x, component: /mock/broken, input: {mode: value}, onError: {action: useDefault, defaultValue: {out: 0}}}\noutput: {$step: x}\n',
    );
    expect(defaulted.result).toEqual({ outcome: 'success', result: { out: 0 } });
    expect(defaulted.attempts('x')).toEqual([1]);
  });

  it('retries infrastructure failures transportMaxRetries times with -32300 and step "<id>" failed', async () => {
    const { result, attempts } = await run(
      'v0.11',
      'steps:\n  - {id: x, component: /mock/echo, input: {v: 3}}\noutput: {$step: x}\n',
    );
    expect(result).toMatchObject({
      outcome: 'failed',
      error: { code: -32300, message: 'step "x" failed' },
    });
    expect(attempts('x')).toEqual([1, 2, 3]);
  });

  it('runs a failing mustExecute step but keeps the output as the result', async () => {
    const { result, attempts } = await run(
      'v0.11',
      'steps:\n  - {id: side, component: /mock/broken, input: {mode: other}, mustExecute: true}\noutput: 5\n',
    );
    expect(result).toEqual({ outcome: 'success', result: 5 });
    expect(attempts('side')).toEqual([1]);
  });

  it('resolves variables with $variable and defaults from the schema', async () => {
    const { result } = await run(
      'v0.11',
      'schemas:\n  type: object\n  properties:\n    variables:\n      properties:\n        env: {default: {name: dev}}\noutput: [{$variable: $.env.name}, {$variable: missing, default: fallback}]\n',
    );
    expect(result).toEqual({ outcome: 'success', result: ['dev', 'fallback'] });
  });
});

describe('v0.8 semantics', () => {
  it('skips steps by skipIf (null is truthy) and chains skips; onSkip useDefault substitutes a value', async () => {
    const { result, attempts } = await run(
      'v0.8',
      `steps:
  - {id: a, component: /mock/echo, input: {v: 1}, skipIf: {$from: {workflow: input}, path: skip}}
  - {id: b, component: /mock/echo, input: {v: {$from: {step: a}}}}
output:
  b: {$from: {step: b}, onSkip: {action: useDefault, defaultValue: skipped-b}}
`,
      { skip: null },
    );
    expect(result).toEqual({ outcome: 'success', result: { b: 'skipped-b' } });
    expect(attempts('a')).toEqual([]);
    expect(attempts('b')).toEqual([]);
    const notSkipped = await run(
      'v0.8',
      'steps:\n  - {id: a, component: /mock/echo, input: {v: 1}, skipIf: {$from: {workflow: input}, path: skip}}\noutput: {$from: {step: a}}\n',
      { skip: 0 },
    );
    expect(notSkipped.result).toEqual({ outcome: 'success', result: { out: 'one' } });
  });

  it('makes the flow result skipped when the output references a skipped step', async () => {
    const { result } = await run(
      'v0.8',
      'steps:\n  - {id: a, component: /mock/echo, input: {v: 1}, skipIf: true}\noutput: {x: {$from: {step: a}}}\n',
    );
    expect(result).toEqual({ outcome: 'skipped' });
  });

  it('aborts the run with 500 when a step input references a failed step, and on a missing path', async () => {
    const dependant = await run(
      'v0.8',
      'steps:\n  - {id: x, component: /mock/broken, input: {mode: other}}\n  - {id: y, component: /mock/echo, input: {v: {$from: {step: x}}}}\noutput: {$from: {step: y}}\n',
    );
    expect(dependant.result).toMatchObject({
      outcome: 'failed',
      error: { code: 500, message: 'step "y" failed' },
    });
    expect(JSON.stringify(dependant.result)).toMatch(/Input resolution failed: not retryable/);
    const missing = await run('v0.8', 'output: {$from: {workflow: input}, path: $.nope}\n', {});
    expect(missing.result).toMatchObject({
      outcome: 'failed',
      error: { code: 500, message: 'failed to resolve workflow output' },
    });
  });

  it('returns a failing mustExecute step as the flow result, and treats onError retry like fail', async () => {
    const must = await run(
      'v0.8',
      'steps:\n  - {id: side, component: /mock/broken, input: {mode: other}, mustExecute: true}\noutput: 5\n',
    );
    expect(must.result).toEqual({
      outcome: 'failed',
      error: { code: 7, message: 'not retryable' },
    });
    const retry = await run(
      'v0.8',
      'steps:\n  - {id: x, component: /mock/broken, input: {mode: value}, onError: {action: retry}}\noutput: {$from: {step: x}}\n',
    );
    expect(retry.attempts('x')).toEqual([1]);
    expect(retry.result).toMatchObject({ outcome: 'failed', error: { code: -32101 } });
  });

  it('accepts a template as the useDefault value', async () => {
    const { result } = await run(
      'v0.8',
      'steps:\n  - {id: x, component: /mock/broken, input: {mode: other}, onError: {action: useDefault, defaultValue: {from: {$from: {workflow: input}, path: d}}}}\noutput: {$from: {step: x}}\n',
      { d: 9 },
    );
    expect(result).toEqual({ outcome: 'success', result: { from: 9 } });
  });
});

describe('builtins', () => {
  it('put_blob + eval runs a stored flow and returns its failure as data', async () => {
    const { result } = await run(
      'v0.11',
      `steps:
  - id: store
    component: /builtin/put_blob
    input:
      blob_type: flow
      data: {$literal: {steps: [{id: m, component: /mock/broken, input: {mode: other}}], output: {$step: m}}}
  - id: ev
    component: /builtin/eval
    input: {flow_id: {$step: store, path: blob_id}, input: null}
output: {$step: ev}
`,
    );
    expect(result).toMatchObject({
      outcome: 'success',
      result: { result: { outcome: 'failed', error: { code: 7 } }, run_id: expect.any(String) },
    });
  });

  it('iterate runs a flow until it returns {result}, or reports terminated at the limit', async () => {
    const body = `flow: {$literal: {steps: [], output: {$if: {$input: done}, then: {result: {$input: value}}, else: {next: {done: true, value: {$input: value}}}}}}`;
    const { result } = await run(
      'v0.11',
      `steps:\n  - id: it\n    component: /builtin/iterate\n    input: {${body}, initial_input: {done: false, value: 4}}\noutput: {$step: it}\n`,
    );
    expect(result).toEqual({
      outcome: 'success',
      result: { result: 4, iterations: 2, terminated: false },
    });
    const limited = await run(
      'v0.11',
      `steps:\n  - id: it\n    component: /builtin/iterate\n    input: {flow: {$literal: {output: {next: 1}}}, initial_input: 0, max_iterations: 3}\noutput: {$step: it}\n`,
    );
    expect(limited.result).toEqual({
      outcome: 'success',
      result: { result: 1, iterations: 3, terminated: true },
    });
  });

  it('load_file reads JSON, YAML and text relative to the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-load-'));
    writeFileSync(join(dir, 'a.json'), '{"x": [1, 2]}');
    writeFileSync(join(dir, 'b.yaml'), 'when: 2024-01-01T00:00:00Z\n');
    writeFileSync(join(dir, 'c.txt'), 'hello');
    const { result } = await run(
      'v0.11',
      `steps:\n${['a.json', 'b.yaml', 'c.txt'].map((f, i) => `  - {id: f${i}, component: /builtin/load_file, input: {path: ${f}}}\n`).join('')}output: [{$step: f0}, {$step: f1, path: data}, {$step: f2, path: data}]\n`,
      null,
      dir,
    );
    expect(result).toMatchObject({
      outcome: 'success',
      result: [
        {
          data: { x: [1, 2] },
          metadata: { format: 'json', size_bytes: 13, resolved_path: join(dir, 'a.json') },
        },
        { when: '2024-01-01T00:00:00Z' },
        'hello',
      ],
    });
  });

  it('create_messages puts the system message first; get_blob of an unknown id is an infrastructure failure', async () => {
    const { result } = await run(
      'v0.8',
      'steps:\n  - {id: m, component: /builtin/create_messages, input: {system_instructions: be brief, user_prompt: hi}}\noutput: {$from: {step: m}}\n',
    );
    expect(result).toEqual({
      outcome: 'success',
      result: {
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'hi' },
        ],
      },
    });
    const missing = await run(
      'v0.11',
      `steps:\n  - {id: g, component: /builtin/get_blob, input: {blob_id: "${'0'.repeat(64)}"}}\noutput: {$step: g}\n`,
    );
    expect(missing.result).toMatchObject({
      outcome: 'failed',
      error: { code: -32300, message: 'step "g" failed' },
    });
  });

  it('map keeps item order and counts skipped results in v0.8', async () => {
    const { result } = await run(
      'v0.8',
      `steps:\n  - id: m\n    component: /builtin/map\n    input:\n      items: [1, 2]\n      workflow: {$literal: {schema: "https://stepflow.org/schemas/v1/flow.json", steps: [{id: e, component: /mock/echo, input: {v: {$from: {workflow: input}}}}], output: {$from: {step: e}, path: out}}}\noutput: {$from: {step: m}}\n`,
    );
    expect(result).toEqual({
      outcome: 'success',
      result: {
        results: [
          { outcome: 'success', result: 'one' },
          { outcome: 'success', result: 'two' },
        ],
        successful: 2,
        failed: 0,
        skipped: 0,
      },
    });
  });
});
