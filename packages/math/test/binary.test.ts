import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installFromTarballs } from '@stepflow-packs/core/testing';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('built stepflow-pack-math', () => {
  it('installs alone from its packed tarball (with core) into an empty folder and serves over stdio', async () => {
    const installed = await installFromTarballs([
      join(root, 'packages/core'),
      join(root, 'packages/math'),
    ]);
    try {
      const cli = installed.bin('stepflow-pack-math');
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
      rmSync(dirname(installed.dir), { recursive: true, force: true });
    }
  }, 180_000);
});
