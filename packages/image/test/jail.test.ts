import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Jail } from '../src/jail.js';
import { tempDir } from './helpers.js';

const { dir, cleanup } = tempDir();
afterAll(() => cleanup());
const root = join(dir, 'root');
mkdirSync(root);
const jail = new Jail([root]);

const reasonOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (err: { data?: { reason?: string } }) => err.data?.reason,
  );

describe('Jail (the buffered read path used where /proc/self/fd is unavailable, and writes)', () => {
  it('reads a whole regular file and enforces maxBytes', async () => {
    writeFileSync(join(root, 'a.bin'), Buffer.alloc(1000, 7));
    const read = await jail.readFile('a.bin', 'image_path', 1000);
    expect(read.data.length).toBe(1000);
    expect(read.path).toBe(join(root, 'a.bin'));
    expect(await reasonOf(jail.readFile('a.bin', 'image_path', 999))).toBe('input_too_large');
  });

  it('refuses FIFOs, links out and traversal on the buffered path too', async () => {
    execFileSync('mkfifo', [join(root, 'f.bin')]);
    expect(await reasonOf(jail.readFile('f.bin', 'image_path', 10))).toBe('not_regular_file');
    writeFileSync(join(dir, 'outside.bin'), 'x');
    symlinkSync(join(dir, 'outside.bin'), join(root, 'out.bin'));
    expect(await reasonOf(jail.readFile('out.bin', 'image_path', 10))).toBe('outside_roots');
    expect(await reasonOf(jail.readFile('../outside.bin', 'image_path', 10))).toBe('outside_roots');
  });

  it('writes atomically: nothing at the target until commit, no temp file left on discard', async () => {
    const target = await jail.prepareOutput('w.bin', 'output_path', false);
    const pending = jail.prepareWrite(target, 'output_path', 'w.bin');
    expect(() => readFileSync(join(root, 'w.bin'))).toThrow();
    await pending.commit(Buffer.from('hello'));
    expect(readFileSync(join(root, 'w.bin'), 'utf8')).toBe('hello');
    const again = jail.prepareWrite(
      await jail.prepareOutput('v.bin', 'output_path', false),
      'output_path',
      'v.bin',
    );
    again.discard();
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(root).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('does not clobber a file that appears between the check and the commit (no overwrite)', async () => {
    const target = await jail.prepareOutput('race.bin', 'output_path', false);
    const pending = jail.prepareWrite(target, 'output_path', 'race.bin');
    writeFileSync(join(root, 'race.bin'), 'first');
    expect(await reasonOf(pending.commit(Buffer.from('second')))).toBe('output_exists');
    expect(readFileSync(join(root, 'race.bin'), 'utf8')).toBe('first');
  });

  it('creates missing output directories inside the root only', async () => {
    expect(await jail.ensureDirectory('a/b/c', 'output_directory')).toBe(join(root, 'a', 'b', 'c'));
    symlinkSync(dir, join(root, 'up'));
    expect(await reasonOf(jail.ensureDirectory('up/new', 'output_directory'))).toBe(
      'outside_roots',
    );
  });
});
