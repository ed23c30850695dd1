import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryBlobStore, startWorker } from '@stepflow-packs/core/client';
import {
  readTryIt,
  runTryIt,
  shippedExamples,
  splitInstall,
  summarize,
} from '../../../scripts/try-it.mjs';
import { decode, quadrants, tempDir } from './helpers.js';

const PACKAGES = fileURLToPath(new URL('../../', import.meta.url));
const { dir, cleanup } = tempDir('stepflow-image-install-');
afterAll(() => cleanup());

/** The README's "Try it" section: installs this pack and the runner, then runs its commands. */
const readme = readTryIt(join(PACKAGES, 'image/README.md'));
const tryIt = { ...splitInstall(readme.install), commands: readme.commands };
const versionOf = (name: string) =>
  (JSON.parse(readFileSync(join(PACKAGES, name, 'package.json'), 'utf8')) as { version: string })
    .version;
const app = join(dir, 'app');

describe('install from the packed tarballs alone', () => {
  it('npm installs the core + image tarballs (and the runner tarball, for Try it) into an empty folder (≤ 90 s) and the binary serves process_image', async () => {
    const packs = join(dir, 'tarballs');
    for (const name of ['core', ...tryIt.workspace]) {
      execFileSync('npx', ['-y', 'pnpm@10', 'pack', '--pack-destination', packs], {
        cwd: join(PACKAGES, name),
        stdio: 'pipe',
        timeout: 60_000,
      });
    }
    const tarballs = readdirSync(packs).map((file) => join(packs, file));
    expect(tarballs.map((t) => t.replace(/.*\//, '')).sort()).toEqual(
      ['core', ...tryIt.workspace]
        .map((name) => `stepflow-packs-${name}-${versionOf(name)}.tgz`)
        .sort(),
    );
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'install-smoke', version: '1.0.0', private: true }),
    );
    const started = Date.now();
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], {
      cwd: app,
      stdio: 'pipe',
      timeout: 90_000,
    });
    expect(Date.now() - started).toBeLessThanOrEqual(90_000);
    const installed = JSON.parse(
      readFileSync(join(app, 'node_modules/@stepflow-packs/image/package.json'), 'utf8'),
    ) as {
      dependencies: Record<string, string>;
    };
    expect(installed.dependencies['@stepflow-packs/core']).not.toContain('workspace');
    const bin = join(app, 'node_modules/.bin/stepflow-pack-image');
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toBe('0.1.0');

    const blobs = new MemoryBlobStore();
    const worker = await startWorker(
      {
        transport: 'stdio',
        command: bin,
        args: ['--transport', 'stdio'],
        env: { PATH: process.env.PATH ?? '' },
        cwd: app,
      },
      { dialect: 'v0.8', blobStore: blobs, requestTimeoutMs: 20_000 },
    );
    try {
      const id = await blobs.put({ data: (await quadrants(40, 20)).toString('base64') });
      const out = (await worker.execute('/process_image', {
        image_blob_id: id,
        operations: [{ type: 'rotate', parameters: { degrees: 90 } }],
        output_format: 'png',
      })) as { output_blob_id: string };
      const stored = (await blobs.get(out.output_blob_id)) as { data: string };
      const image = await decode(Buffer.from(stored.data, 'base64'));
      expect([image.width, image.height]).toEqual([20, 40]);
      expect(image.pixel(2, 2)).toEqual([0, 0, 255]); // blue (bottom-left) is now top-left
    } finally {
      await worker.close();
    }
  }, 180_000);

  it('runs the README "Try it" commands in that folder: the scoped npx lists the components, the shipped examples pass', async () => {
    expect(tryIt.registry).toEqual([]);
    const shipped = shippedExamples(app, 'image');
    expect(shipped.files).toEqual(
      expect.arrayContaining([
        'stepflow-config.yml',
        'stepflow-config.v0.13.yml',
        'data/fixtures/photo.jpg',
        'data/out/.gitkeep',
      ]),
    );
    expect(shipped.escaping).toEqual([]);
    const result = summarize(await runTryIt(app, tryIt.commands));
    expect(result.components).toContainEqual({
      component_id: 'process_image',
      path: '/process_image',
    });
    expect(result.failed).toBe(0);
    expect(result.passed).toBeGreaterThan(0);
  }, 180_000);
});
