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
import { startWorker } from '@stepflow-packs/core/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, sql } from './support/pg.js';

const exec = promisify(execFile);
const PACKAGES = fileURLToPath(new URL('../../', import.meta.url));
const versionOf = (pkg: string) =>
  (JSON.parse(readFileSync(join(PACKAGES, pkg, 'package.json'), 'utf8')) as { version: string })
    .version;
const version = versionOf('postgres');

/**
 * The pack installs alone from its `pnpm pack` tarball (with the core tarball it depends on)
 * into an empty folder outside the workspace with npm, and works from there.
 */
describe('installing @stepflow-packs/postgres from its tarball', () => {
  const root = mkdtempSync(join(tmpdir(), 'stepflow-postgres-install-'));
  const app = join(root, 'app');
  const bin = join(app, 'node_modules/.bin/stepflow-pack-postgres');
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
  let db: Awaited<ReturnType<typeof createDatabase>>;

  beforeAll(async () => {
    db = await createDatabase('install');
    for (const pkg of ['core', 'postgres']) {
      if (!existsSync(join(PACKAGES, pkg, 'dist/index.js')))
        throw new Error(`build packages/${pkg} first`);
      await exec('npx', ['-y', 'pnpm@10', 'pack', '--pack-destination', root], {
        cwd: join(PACKAGES, pkg),
        env,
      });
    }
    const tarballs = readdirSync(root).filter((name) => name.endsWith('.tgz'));
    expect(tarballs.sort()).toEqual([
      `stepflow-packs-core-${versionOf('core')}.tgz`,
      `stepflow-packs-postgres-${version}.tgz`,
    ]);
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
      ],
      {
        cwd: app,
        env,
        timeout: 85_000,
      },
    );
  }, 90_000);

  afterAll(async () => {
    rmSync(root, { recursive: true, force: true });
    await db?.drop();
  });

  it('ships only dist, README and package.json, and prints its version', async () => {
    const files = readdirSync(join(app, 'node_modules/@stepflow-packs/postgres')).sort();
    expect(files).not.toContain('src');
    expect(files).not.toContain('test');
    expect(files).toContain('dist');
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
});
