import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const PROBE = `${root}tools/wire-probe.mjs`;

/**
 * One real component call per pack (one that needs no database, server, files or blob store, so
 * the probe's emulated runtimes are all it takes), with the value it must answer.
 */
const PACKS: {
  pack: string;
  component: string;
  input: unknown;
  path: string;
  expected: unknown;
}[] = [
  {
    pack: 'math',
    component: 'calculate',
    input: { operation: 'add', operands: [2, 3] },
    path: 'result',
    expected: 5,
  },
  {
    pack: 'data',
    component: 'filter_records',
    input: { records: [{ a: 1 }, { a: 2 }], where: [{ field: 'a', op: 'eq', value: 2 }] },
    path: 'stats.records_out',
    expected: 1,
  },
  { pack: 'cache', component: 'health_check', input: {}, path: 'pack', expected: 'cache' },
  { pack: 'http', component: 'health_check', input: {}, path: 'pack', expected: 'http' },
  { pack: 'postgres', component: 'health_check', input: {}, path: 'pack', expected: 'postgres' },
  { pack: 'image', component: 'health_check', input: {}, path: 'pack', expected: 'image' },
];

/**
 * The wire probe emulates both Stepflow runtimes against a built pack binary: v0.8 over stdio
 * (with its strict frame parser) and v0.11 as an HTTP subprocess (port announcement, /health,
 * JSON and SSE). Every pack must pass all of its checks.
 */
describe.each(PACKS)('stepflow-pack-$pack under the wire probe', (spec) => {
  it(`passes every check, calling ${spec.component}`, () => {
    const bin = `${root}packages/${spec.pack}/dist/bin.js`;
    expect(existsSync(bin), `${bin} is missing: build the workspace first`).toBe(true);
    const result = spawnSync(
      process.execPath,
      [
        PROBE,
        '--bin',
        bin,
        '--component',
        spec.component,
        '--input',
        JSON.stringify(spec.input),
        '--expect-path',
        spec.path,
        '--expect',
        JSON.stringify(spec.expected),
      ],
      { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '' } },
    );
    const failures = result.stdout.split('\n').filter((line) => line.startsWith('FAIL'));
    expect(failures).toEqual([]);
    expect(result.stdout).toMatch(/wire-probe: (\d+)\/\1 checks passed/);
    expect(result.status).toBe(0);
  });
});
