import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installFromTarballs, type InstalledPackages } from '@stepflow-packs/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readTryIt,
  runTryIt,
  shippedExamples,
  splitInstall,
  summarize,
} from '../../../scripts/try-it.mjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The README's "Try it" section: installs this pack and the runner, then runs its commands. */
const readme = readTryIt(join(root, 'packages/math/README.md'));
const tryIt = { ...splitInstall(readme.install), commands: readme.commands };

describe('built stepflow-pack-math', () => {
  let installed: InstalledPackages | undefined;
  beforeAll(async () => {
    installed = await installFromTarballs(
      ['core', ...tryIt.workspace].map((name) => join(root, 'packages', name)),
    );
  }, 180_000);
  afterAll(() => {
    if (installed) rmSync(dirname(installed.dir), { recursive: true, force: true });
  });

  it('installs alone from its packed tarball (with core) into an empty folder and serves over stdio', () => {
    const cli = installed!.bin('stepflow-pack-math');
    expect(execFileSync(cli, ['--version'], { encoding: 'utf8' }).trim()).toMatch(
      /^\d+\.\d+\.\d+$/,
    );
    const request =
      '{"jsonrpc":"2.0","id":1,"method":"components/execute","params":{"component":"/add","input":{"a":2,"b":40},"attempt":1,"observability":{}}}\n';
    const out = execFileSync(cli, ['--stdio'], {
      input: request,
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(JSON.parse(out)).toEqual({ jsonrpc: '2.0', id: 1, result: { output: { sum: 42 } } });
  });

  it('runs the README "Try it" commands from the installed tarballs: the scoped npx lists the components, the shipped examples pass', async () => {
    expect(tryIt.registry).toEqual([]);
    const shipped = shippedExamples(installed!.dir, 'math');
    expect(shipped.files).toEqual(
      expect.arrayContaining(['stepflow-config.yml', 'stepflow-config.v0.13.yml']),
    );
    expect(shipped.escaping).toEqual([]);
    const result = summarize(await runTryIt(installed!.dir, tryIt.commands));
    expect(result.components).toContainEqual({ component_id: 'add', path: '/add' });
    expect(result.failed).toBe(0);
    expect(result.passed).toBeGreaterThan(0);
  }, 120_000);
});
