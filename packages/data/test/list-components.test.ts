import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

describe('stepflow-pack-data --list-components', () => {
  it('prints complete JSON through a pipe although it is larger than the pipe buffer (64 KiB)', () => {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${bin}" --list-components | cat`], {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(r.status).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(65_536);
    const listed = JSON.parse(r.stdout) as { components: { component_id: string; path: string }[] };
    expect(listed.components.map((c) => c.component_id)).toContain('filter_records');
  });
});
