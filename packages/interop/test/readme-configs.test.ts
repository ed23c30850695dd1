import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
// The prepack step of every pack (plain ESM at the repository root).
import { generateExamples } from '../../../scripts/pack-examples.mjs';
import { runFolder } from '../src/run-folder.js';
import {
  PACKS,
  TEST_ONLY,
  installedBin,
  isObject,
  parseBlock,
  readYaml,
  readmeToRepo,
  withoutTestOnly,
  yamlBlocks,
  type Pack,
} from './support/readme.js';
import { repoRoot } from './support/suite.js';

/**
 * The configs users copy from the READMEs are the ones this suite runs on the real
 * stepflow-server: the first ```yaml block of each pack README equals
 * workflows/<pack>/stepflow-config.v0.13.yml and the second equals the folder's
 * stepflow-config.yml (v0.11/v0.8), after mapping the installed bin path to the repository's
 * and leaving out the keys only the test cases need (TEST_ONLY in support/readme.ts).
 * The root README's two snippets are the math pack's.
 */
const readme = (pack: Pack | 'root') =>
  pack === 'root' ? join(repoRoot, 'README.md') : join(repoRoot, 'packages', pack, 'README.md');
const workflowsConfig = (pack: Pack, file: string) => join(repoRoot, 'workflows', pack, file);

const SNIPPETS = [
  { index: 0, label: 'Stepflow 0.13', file: 'stepflow-config.v0.13.yml' },
  { index: 1, label: 'Stepflow v0.11/v0.8', file: 'stepflow-config.yml' },
] as const;

describe('README config snippets are the configs the interop suite runs', () => {
  const cases = [
    ...PACKS.map((pack) => ({ doc: pack as Pack | 'root', pack })),
    { doc: 'root' as const, pack: 'math' as const },
  ];
  for (const { doc, pack } of cases) {
    for (const snippet of SNIPPETS) {
      it(`${doc === 'root' ? 'README.md' : `packages/${pack}/README.md`}: the ${snippet.label} snippet is workflows/${pack}/${snippet.file}`, () => {
        const block = yamlBlocks(readme(doc))[snippet.index];
        expect(block, `yaml block #${snippet.index + 1}`).toBeDefined();
        const fromReadme = readmeToRepo(parseBlock(block ?? ''), pack);
        const workflows = withoutTestOnly(readYaml(workflowsConfig(pack, snippet.file)), pack);
        expect(fromReadme).toEqual(workflows);
      });
    }
  }

  it('the 0.13 snippets are gRPC workers on one-segment routes, the others type: stepflow', () => {
    for (const pack of PACKS) {
      const [v013, v011] = yamlBlocks(readme(pack)).map(parseBlock);
      expect(isObject(v013) && v013.plugins).toMatchObject({
        [pack]: { type: 'grpc', queueName: pack, command: 'node' },
      });
      expect(isObject(v013) && isObject(v013.plugins) && v013.plugins[pack]).toHaveProperty(
        'args.0',
        installedBin(pack),
      );
      expect(Object.keys((isObject(v013) && v013.routes) || {})).toEqual([`/${pack}`, '/builtin']);
      expect(isObject(v011) && v011.plugins).toMatchObject({
        [pack]: { type: 'stepflow', transport: 'stdio', command: 'node' },
      });
      // 0.13 does no ${} substitution: a ${…} value would reach the worker literally.
      expect(JSON.stringify(v013)).not.toContain('${');
    }
  });

  it('the test-only mapping is small and never touches the pack plugin itself', () => {
    for (const pack of PACKS) {
      const { top = [], env = [] } = TEST_ONLY[pack];
      expect(top.every((k) => k === 'retry')).toBe(true);
      expect(env.every((k) => k.startsWith(`STEPFLOW_${pack.toUpperCase()}_`))).toBe(true);
    }
  });

  it('a README config that drifts from the workflows config is caught', () => {
    const block = yamlBlocks(readme('math'))[0] ?? '';
    const drifted = block.replace("STEPFLOW_LOG_LEVEL: 'warn'", "STEPFLOW_LOG_LEVEL: 'debug'");
    expect(drifted).not.toBe(block);
    const workflows = withoutTestOnly(
      readYaml(workflowsConfig('math', 'stepflow-config.v0.13.yml')),
      'math',
    );
    expect(readmeToRepo(parseBlock(drifted), 'math')).not.toEqual(workflows);
    expect(() =>
      readmeToRepo(parseBlock(block.replace(installedBin('math'), 'stepflow-pack-math')), 'math'),
    ).toThrow(/must start `node node_modules\/@stepflow-packs\/math\/dist\/bin.js`/);
  });

  it('no README starts a pack through an unscoped npx name', () => {
    for (const doc of [...PACKS, 'root'] as const) {
      const text = readFileSync(readme(doc), 'utf8');
      expect(text, readme(doc)).not.toMatch(/npx\s+(-y\s+|--yes\s+)?stepflow-pack-/);
      expect(text, readme(doc)).not.toMatch(/\[\s*'stepflow-pack-/);
    }
  });
});

describe("a pack's shipped examples/ on the real stepflow-server 0.13.0", () => {
  it('packages/math/examples, generated as prepack does, passes with its stepflow-config.v0.13.yml (../dist/bin.js)', async () => {
    const packageDir = join(repoRoot, 'packages/math');
    const files = generateExamples(packageDir);
    expect(files).toContain('stepflow-config.v0.13.yml');
    const config = readYaml(join(packageDir, 'examples/stepflow-config.v0.13.yml'));
    expect(isObject(config) && isObject(config.plugins) && config.plugins.math).toMatchObject({
      args: ['../dist/bin.js'],
    });
    const report = await runFolder({
      folder: join(packageDir, 'examples'),
      generation: '0.13.0',
      binary: inject('stepflowBinaries')['0.13.0'],
      log: () => {},
    });
    expect(report.cases.filter((c) => c.status === 'passed').length).toBeGreaterThan(0);
    expect(
      report.cases
        .filter((c) => c.status === 'failed' || c.status === 'stale-exception')
        .map((c) => `${c.file} › ${c.name}: ${c.reason ?? ''}`),
    ).toEqual([]);
  });
});
