import { describe, expect, it } from 'vitest';
import { FlowParseError, inferVersion, parseFlow } from '../src/flow/parse.js';
import { parseYaml } from '../src/json/yaml.js';
import type { JsonObject } from '../src/json/value.js';

const SCHEMA = 'schema: https://stepflow.org/schemas/v1/flow.json\n';
const doc = (text: string) => parseYaml(text) as JsonObject;

describe('flow parsing', () => {
  it('parses both syntaxes into the same expression model', () => {
    const legacy = parseFlow(
      doc(
        `${SCHEMA}steps:\n- id: a\n  component: /x/y\n  input: {v: {$from: {workflow: input}, path: $.n}}\noutput: {$from: {step: a}, path: r}\n`,
      ),
      { version: 'v0.8' },
    ).flow;
    const modern = parseFlow(
      doc(
        `steps:\n- id: a\n  component: /x/y\n  input: {v: {$input: $.n}}\noutput: {$step: a, path: r}\n`,
      ),
      { version: 'v0.11' },
    ).flow;
    expect(modern.steps[0]!.input).toEqual(legacy.steps[0]!.input);
    expect(modern.output).toEqual(legacy.output);
  });

  it('infers v0.8 from $from and v0.11 from $step/$input', () => {
    expect(inferVersion(doc('output: {$from: {workflow: input}}'))).toBe('v0.8');
    expect(inferVersion(doc('output: {$input: $}'))).toBe('v0.11');
  });

  it('treats markers of the other syntax as literal objects within one document (with a warning)', () => {
    const { flow, warnings } = parseFlow(
      doc('output: {a: {$input: x}, b: {$from: {workflow: input}}}'),
      { version: 'v0.11' },
    );
    expect(flow.output).toMatchObject({
      kind: 'object',
      entries: [
        ['a', { kind: 'input' }],
        ['b', { kind: 'object' }],
      ],
    });
    expect(warnings.join('\n')).toMatch(/"\$from" belongs to the other syntax/);
  });

  it('parses a document in its own syntax when --emulate picks the other release', () => {
    const { flow, warnings } = parseFlow(
      doc(`${SCHEMA}output: {$from: {workflow: input}, path: x}`),
      { version: 'v0.11' },
    );
    expect(flow.output).toMatchObject({ kind: 'input', pathText: 'x' });
    expect(flow.version).toBe('v0.11');
    expect(warnings.join('\n')).toMatch(/written in v0\.8 syntax, run with v0\.11 semantics/);
  });

  it('warns about snake_case keys Stepflow silently ignores, naming the camelCase key', () => {
    const { warnings } = parseFlow(
      doc(
        `${SCHEMA}steps:\n- id: a\n  component: /x/y\n  skip_if: true\n  on_error: {action: skip}\n  input_schema: null\n`,
      ),
      { version: 'v0.8' },
    );
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/step "a": "skip_if".*"skipIf"/),
        expect.stringMatching(/step "a": "on_error".*"onError"/),
        expect.stringMatching(/step "a": "input_schema".*"inputSchema"/),
      ]),
    );
  });

  it('reports every static problem before running, naming file, step and field', () => {
    const text = `steps:\n- id: a\n  component: /x\n  input: {$step: b}\n- id: b\n  component: /x\n  input: {$step: b}\n- id: a\n  component: /x\n- id: c\n  component: /x\n  input: {$input: "$.*"}\n  onError: {action: skip}\n`;
    let error: FlowParseError | undefined;
    try {
      parseFlow(doc(text), { version: 'v0.11', file: 'f.yaml' });
    } catch (err) {
      error = err as FlowParseError;
    }
    expect(error).toBeInstanceOf(FlowParseError);
    expect(error!.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/f\.yaml: step "a" references step "b", which is defined later/),
        expect.stringMatching(/f\.yaml: step "b" references itself/),
        expect.stringMatching(/f\.yaml: steps\[2\]: duplicate step id "a"/),
        expect.stringMatching(/f\.yaml: step "c": input\.\$input: invalid path/),
        expect.stringMatching(
          /f\.yaml: step "c": onError\.action: "skip" does not exist in v0\.11/,
        ),
      ]),
    );
  });

  it('requires the schema tag in v0.8 and rejects the flat schemas form in v0.11', () => {
    expect(() => parseFlow(doc('steps: []'), { version: 'v0.8' })).toThrow(/schema/);
    expect(() => parseFlow(doc('schemas: {input: {type: object}}'), { version: 'v0.11' })).toThrow(
      /flat form/,
    );
  });
});
