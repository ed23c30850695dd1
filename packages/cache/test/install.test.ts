import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlobStore, startWorker } from '@stepflow-packs/core/client';
import { installFromTarballs, type InstalledPackages } from '@stepflow-packs/core/testing';

const packageDir = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));
const { version } = JSON.parse(readFileSync(`${packageDir('cache')}/package.json`, 'utf8')) as {
  version: string;
};

/** The pack installs alone from its `pnpm pack` tarball (with core) into an empty folder. */
describe('installing @stepflow-packs/cache from its tarball', () => {
  let installed: InstalledPackages;
  beforeAll(async () => {
    installed = await installFromTarballs([packageDir('core'), packageDir('cache')]);
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
});
