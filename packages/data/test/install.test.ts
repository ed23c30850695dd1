import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker } from '@stepflow-packs/core/client';
import { installFromTarballs, type InstalledPackages } from '@stepflow-packs/core/testing';

const packageDir = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));
const { version } = JSON.parse(readFileSync(`${packageDir('data')}/package.json`, 'utf8')) as {
  version: string;
};

/** The pack installs alone from its `pnpm pack` tarball (with core) into an empty folder. */
describe('installing @stepflow-packs/data from its tarball', () => {
  let installed: InstalledPackages;
  beforeAll(async () => {
    installed = await installFromTarballs([packageDir('core'), packageDir('data')]);
  }, 120_000);
  afterAll(() => rmSync(dirname(installed.dir), { recursive: true, force: true }));

  it('prints its version', () => {
    expect(
      execFileSync(installed.bin('stepflow-pack-data'), ['--version'], { encoding: 'utf8' }).trim(),
    ).toBe(version);
  });

  it('serves an execute over stdio from the installed binary', async () => {
    const worker = await startWorker(
      {
        transport: 'stdio',
        command: installed.bin('stepflow-pack-data'),
        args: ['--transport', 'stdio'],
        env: { PATH: process.env.PATH ?? '' },
        cwd: installed.dir,
      },
      { dialect: 'v0.8', requestTimeoutMs: 10_000 },
    );
    try {
      const out = await worker.execute('/filter_records', {
        records: [{ s: 'apple' }, { s: 'pear' }],
        where: [{ field: 's', op: 'matches', value: '^a' }],
      });
      expect(out).toMatchObject({ records: [{ s: 'apple' }] });
    } finally {
      await worker.close();
    }
  }, 20_000);
});
