import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { discoverConfig } from '../src/config/discovery.js';
import { Environment } from '../src/execute/environment.js';
import { toFlowResult } from '../src/execute/result.js';
import type { Version } from '../src/flow/model.js';
import { parseFlow } from '../src/flow/parse.js';
import { parseYaml } from '../src/json/yaml.js';

// Which steps run is decided once, from the output, when a run starts (stepflow-server 0.11.1
// and 0.13.0, verified against both by packages/interop/test/engine.test.ts on this fixture).
const FLOW = fileURLToPath(new URL('./fixtures/server-parity/output-needs.yaml', import.meta.url));

async function run(version: Version, text: string, input: unknown) {
  const doc = parseYaml(text, 'flow.yaml');
  const { flow } = parseFlow(doc, { version, file: 'flow.yaml' });
  const config = discoverConfig({
    flowFile: FLOW,
    generation: version === 'v0.13' ? 'v0.13' : 'legacy',
  });
  const env = await Environment.start({ version, config });
  try {
    const { result, run } = await env.run(flow, input as never);
    return { result: toFlowResult(result), ran: [...(await run.stepResults()).keys()].sort() };
  } finally {
    await env.close();
  }
}

const fixture = readFileSync(FLOW, 'utf8');

describe('steps the output needs (v0.11 and 0.13)', () => {
  for (const version of ['v0.11', 'v0.13'] as const) {
    const notCompleted = version === 'v0.13' ? 'ORCHESTRATOR_ERROR' : -32202;

    it(`${version}: a step only behind an output $if on another step never runs`, async () => {
      const { result, ran } = await run(version, fixture, { x: 1, take: false });
      expect(result).toEqual({
        outcome: 'failed',
        error: { code: notCompleted, message: 'Step b not completed' },
      });
      expect(ran).toEqual(['a']);
    });

    it(`${version}: a $if on the input adds the branch it takes when the run starts`, async () => {
      const { result, ran } = await run(version, fixture, { x: 1, take: true });
      expect(result).toMatchObject({ outcome: 'success', result: { late: expect.any(String) } });
      expect(ran).toEqual(['a', 'b']);
    });

    it(`${version}: $coalesce stops collecting at the first value that reads a step`, async () => {
      const text = `steps:
  - {id: a, component: /builtin/put_blob, input: {data: 1, blob_type: data}}
  - {id: b, component: /builtin/put_blob, input: {data: 2, blob_type: data}}
output:
  $coalesce: [{$input: missing_is_null}, {$step: a, path: nothing}, {$step: b, path: blob_id}]
`;
      const { result, ran } = await run(version, text, { missing_is_null: null });
      // a's output has no "nothing" (a failure, which ends $coalesce); b is never needed.
      expect(result).toMatchObject({ outcome: 'failed' });
      expect(ran).toEqual(['a']);
    });

    it(`${version}: a step an input needs still runs when only an output branch names it`, async () => {
      const text = `steps:
  - {id: a, component: /builtin/put_blob, input: {data: 1, blob_type: data}}
  - {id: b, component: /builtin/put_blob, input: {data: 2, blob_type: data}}
  - {id: c, component: /builtin/put_blob, input: {data: {$step: b, path: blob_id}, blob_type: data}}
output:
  c: {$step: c, path: blob_id}
  b:
    $if: {$step: a, path: blob_id}
    then: {$step: b, path: blob_id}
`;
      const { result, ran } = await run(version, text, {});
      // a is named only in the $if condition, so it runs too; b runs because c needs it.
      expect(result).toMatchObject({ outcome: 'success', result: { b: expect.any(String) } });
      expect(ran).toEqual(['a', 'b', 'c']);
    });
  }

  it('v0.8 is unchanged: steps behind a taken branch run on demand', async () => {
    // v0.8 has no $if; its `$from` references are all unconditional.
    const text = `schema: https://stepflow.org/schemas/v1/flow.json
steps:
  - {id: a, component: /builtin/put_blob, input: {data: 1, blob_type: data}}
output:
  a: {$from: {step: a}, path: blob_id}
`;
    const { result } = await run('v0.8', text, {});
    expect(result).toMatchObject({ outcome: 'success' });
  });
});
