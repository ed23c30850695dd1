import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface InstalledPackages {
  /** The folder holding `node_modules` and `package.json`. */
  readonly dir: string;
  /** Absolute path of an installed binary, e.g. `bin('stepflow-pack-math')`. */
  bin(name: string): string;
}

/**
 * Pack each package folder with `pnpm pack` (which rewrites `workspace:` ranges) and install
 * all tarballs with npm into a new empty folder — what a user gets from the registry. Used by
 * the packs' install smoke tests. Needs network access to the npm registry for third-party deps.
 */
export async function installFromTarballs(
  packageDirs: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<InstalledPackages> {
  const timeout = options.timeoutMs ?? 120_000;
  const work = await mkdtemp(join(tmpdir(), 'stepflow-packs-install-'));
  const tarballs = join(work, 'tarballs');
  await mkdir(tarballs);
  for (const dir of packageDirs) {
    await run('npx', ['-y', 'pnpm@10', 'pack', '--pack-destination', tarballs], {
      cwd: dir,
      timeout,
    });
  }
  const files = (await readdir(tarballs))
    .filter((f) => f.endsWith('.tgz'))
    .map((f) => join(tarballs, f));
  if (files.length !== packageDirs.length) {
    throw new Error(`expected ${packageDirs.length} tarballs, found ${files.length}`);
  }
  const dir = join(work, 'app');
  await mkdir(dir);
  await writeFile(join(dir, 'package.json'), '{"name":"install-check","private":true}\n');
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files], {
    cwd: dir,
    timeout,
  });
  return { dir, bin: (name) => join(dir, 'node_modules', '.bin', name) };
}
