import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlobStore, startWorker } from '@stepflow-packs/core/client';
import { installFromTarballs, type InstalledPackages } from '@stepflow-packs/core/testing';
import {
  readTryIt,
  runTryIt,
  shippedExamples,
  splitInstall,
  summarize,
} from '../../../scripts/try-it.mjs';

const packageDir = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));
const { version } = JSON.parse(readFileSync(`${packageDir('cache')}/package.json`, 'utf8')) as {
  version: string;
};

/** The README's "Try it" section: installs this pack and the runner, then runs its commands. */
const readme = readTryIt(`${packageDir('cache')}/README.md`);
const tryIt = { ...splitInstall(readme.install), commands: readme.commands };

/** The pack installs alone from its `pnpm pack` tarball (with core) into an empty folder. */
describe('installing @stepflow-packs/cache from its tarball', () => {
  let installed: InstalledPackages;
  beforeAll(async () => {
    installed = await installFromTarballs(['core', ...tryIt.workspace].map(packageDir));
  }, 120_000);
  afterAll(() => rmSync(dirname(installed.dir), { recursive: true, force: true }));

  it('prints its version', () => {
    expect(
      execFileSync(installed.bin('stepflow-pack-cache'), ['--version'], {
        encoding: 'utf8',
      }).trim(),
    ).toBe(version);
  });

  it('stores and reads a cache entry over stdio from the installed binary (v0.8 blob callbacks)', async () => {
    const blobStore = new MemoryBlobStore();
    const worker = await startWorker(
      {
        transport: 'stdio',
        command: installed.bin('stepflow-pack-cache'),
        args: ['--transport', 'stdio'],
        env: { PATH: process.env.PATH ?? '' },
        cwd: installed.dir,
      },
      { dialect: 'v0.8', blobStore, requestTimeoutMs: 10_000 },
    );
    try {
      const { blob_id } = (await worker.execute('/cache_data', { key: 'k', data: { v: 1 } })) as {
        blob_id: string;
      };
      expect(blobStore.lookup(blob_id)).toBeDefined();
      expect(await worker.execute('/retrieve_cache', { blob_id })).toMatchObject({
        found: true,
        data: { v: 1 },
      });
    } finally {
      await worker.close();
    }
  }, 20_000);

  it('runs the README "Try it" commands from the installed tarballs: the scoped npx lists the components, the shipped examples pass', async () => {
    expect(tryIt.registry).toEqual([]);
    const shipped = shippedExamples(installed.dir, 'cache');
    expect(shipped.files).toEqual(
      expect.arrayContaining(['stepflow-config.yml', 'stepflow-config.v0.13.yml']),
    );
    expect(shipped.escaping).toEqual([]);
    const result = summarize(await runTryIt(installed.dir, tryIt.commands));
    expect(result.components?.length).toBeGreaterThan(1);
    expect(result.components).toContainEqual({
      component_id: 'health_check',
      path: '/health_check',
    });
    expect(result.failed).toBe(0);
    expect(result.passed).toBeGreaterThan(0);
  }, 180_000);
});
