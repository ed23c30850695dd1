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
import { startWorker } from '@stepflow-packs/core/client';

const run = promisify(execFile);
const PACKAGES = fileURLToPath(new URL('../../', import.meta.url));
const versionOf = (pkg: string) =>
  (JSON.parse(readFileSync(join(PACKAGES, pkg, 'package.json'), 'utf8')) as { version: string })
    .version;
const version = versionOf('data');

/**
 * The pack installs alone from its `pnpm pack` tarball (with the core tarball it depends on)
 * into an empty folder, outside the workspace, and runs from there.
 */
describe('installing @stepflow-packs/data from its tarball', () => {
  const root = mkdtempSync(join(tmpdir(), 'stepflow-data-install-'));
  const app = join(root, 'app');
  const bin = join(app, 'node_modules/.bin/stepflow-pack-data');
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };

  beforeAll(async () => {
    for (const pkg of ['core', 'data']) {
      if (!existsSync(join(PACKAGES, pkg, 'dist/index.js')))
        throw new Error(`build packages/${pkg} first`);
      await run('npx', ['-y', 'pnpm@10', 'pack', '--pack-destination', root], {
        cwd: join(PACKAGES, pkg),
        env,
      });
    }
    const tarballs = readdirSync(root).filter((name) => name.endsWith('.tgz'));
    expect(tarballs.sort()).toEqual(
      [`stepflow-packs-core-${versionOf('core')}.tgz`, `stepflow-packs-data-${version}.tgz`].sort(),
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

  it('serves an execute over stdio from the installed binary', async () => {
    const worker = await startWorker(
      {
        transport: 'stdio',
        command: bin,
        args: ['--transport', 'stdio'],
        env: { PATH: env.PATH },
        cwd: app,
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
