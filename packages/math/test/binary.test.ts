import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/math/dist/bin.js');

describe('built stepflow-pack-math', () => {
  it('passes the wire probe that emulates Stepflow v0.8 (stdio) and v0.11 (HTTP subprocess)', () => {
    const r = spawnSync(
      process.execPath,
      [
        join(root, 'tools/wire-probe.mjs'),
        '--bin',
        bin,
        '--component',
        'calculate',
        '--input',
        '{"operation":"add","operands":[2,3]}',
        '--expect-path',
        'result',
        '--expect',
        '5',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.stdout).toMatch(/wire-probe: (\d+)\/\1 checks passed/);
    expect(r.status).toBe(0);
  });

  it('installs alone from its packed tarball (with core) into an empty folder and serves over stdio', () => {
    const work = mkdtempSync(join(tmpdir(), 'math-install-'));
    try {
      const pnpm = (cwd: string) =>
        execFileSync('npx', ['-y', 'pnpm@10', 'pack', '--pack-destination', work], {
          cwd,
          stdio: 'pipe',
          timeout: 60_000,
        });
      pnpm(join(root, 'packages/core'));
      pnpm(join(root, 'packages/math'));
      const tarballs = readdirSync(work)
        .filter((f) => f.endsWith('.tgz'))
        .map((f) => join(work, f));
      expect(tarballs).toHaveLength(2);
      const app = join(work, 'app');
      execFileSync('mkdir', ['-p', app]);
      writeFileSync(join(app, 'package.json'), '{"name":"app","private":true}');
      execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], {
        cwd: app,
        stdio: 'pipe',
        timeout: 120_000,
      });
      const cli = join(app, 'node_modules/.bin/stepflow-pack-math');
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
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 180_000);
});
