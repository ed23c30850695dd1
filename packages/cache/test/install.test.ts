import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlobStore, startWorker } from '@stepflow-packs/core/client';

const run = promisify(execFile);
const PACKAGES = fileURLToPath(new URL('../../', import.meta.url));
const versionOf = (pkg: string) =>
  (JSON.parse(readFileSync(join(PACKAGES, pkg, 'package.json'), 'utf8')) as { version: string })
    .version;
const version = versionOf('cache');

/**
 * The pack installs alone from its `pnpm pack` tarball (with the core tarball it depends on)
 * into an empty folder, outside the workspace, and runs from there.
 */
describe('installing @stepflow-packs/cache from its tarball', () => {
  const root = mkdtempSync(join(tmpdir(), 'stepflow-cache-install-'));
  const app = join(root, 'app');
  const bin = join(app, 'node_modules/.bin/stepflow-pack-cache');
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };

  beforeAll(async () => {
    for (const pkg of ['core', 'cache']) {
      if (!existsSync(join(PACKAGES, pkg, 'dist/index.js')))
        throw new Error(`build packages/${pkg} first`);
      await run('npx', ['-y', 'pnpm@10', 'pack', '--pack-destination', root], {
        cwd: join(PACKAGES, pkg),
        env,
      });
    }
    const tarballs = readdirSync(root).filter((name) => name.endsWith('.tgz'));
    expect(tarballs.sort()).toEqual(
      [
        `stepflow-packs-core-${versionOf('core')}.tgz`,
        `stepflow-packs-cache-${version}.tgz`,
      ].sort(),
    );
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
    await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        ...tarballs.map((t) => join(root, t)),
      ],
      { cwd: app, env },
    );
  }, 90_000);

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('prints its version', async () => {
    const { stdout } = await run(bin, ['--version'], { cwd: app, env });
    expect(stdout.trim()).toBe(version);
  });

  it('stores and reads a cache entry over stdio from the installed binary (v0.8 blob callbacks)', async () => {
    const blobStore = new MemoryBlobStore();
    const worker = await startWorker(
      {
        transport: 'stdio',
        command: bin,
        args: ['--transport', 'stdio'],
        env: { PATH: env.PATH },
        cwd: app,
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
