import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerClient } from '@stepflow-packs/core/client';
import { declaredPng, zeroPng } from './bombs.js';
import { quadrants, tempDir } from './helpers.js';
import { assertCleanFrames, memoryOf, start } from './workers.js';

assertCleanFrames();

/** Hash of every entry under `dir` except the `skip` subtree: names, types, sizes, contents, link targets. */
function treeHash(dir: string, skip: string): string {
  const hash = createHash('sha256');
  const walk = (path: string) => {
    for (const name of readdirSync(path).sort()) {
      const full = join(path, name);
      if (full === skip) continue;
      const stat = lstatSync(full);
      hash.update(`${full}\0${stat.mode}\0${stat.size}\0${stat.mtimeMs}\0`);
      if (stat.isSymbolicLink()) hash.update(readlinkSync(full));
      else if (stat.isDirectory()) walk(full);
      else if (stat.isFile()) hash.update(readFileSync(full));
    }
  };
  walk(dir);
  return hash.digest('hex');
}

/** Execute and return the JSON-RPC error and the wall time of the call. */
async function refusedCall(
  worker: WorkerClient,
  component: string,
  input: unknown,
): Promise<{ code: number; reason: string; ms: number; message: string }> {
  const started = performance.now();
  try {
    const output = await worker.execute(component, input, { timeoutMs: 10_000 });
    throw new Error(`expected a refusal, got ${JSON.stringify(output).slice(0, 200)}`);
  } catch (err) {
    const e = err as { code: number; message: string; data?: { reason?: string } };
    if (typeof e.code !== 'number') throw err;
    return {
      code: e.code,
      reason: e.data?.reason ?? '',
      ms: performance.now() - started,
      message: e.message,
    };
  }
}

describe('image confinement: traversal, symlink-out, dangling-symlink output, FIFO, /dev/zero', () => {
  let base: string;
  let root: string;
  let outside: string;
  let cleanup: () => void;
  let worker: WorkerClient;

  beforeAll(async () => {
    ({ dir: base, cleanup } = tempDir('stepflow-image-f23-'));
    root = join(base, 'root');
    outside = join(base, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
    writeFileSync(join(root, 'photo.png'), await quadrants(64, 64));
    writeFileSync(join(outside, 'secret.png'), await quadrants(32, 32));
    writeFileSync(join(outside, 'victim.png'), 'must stay unchanged');
    symlinkSync(join(outside, 'secret.png'), join(root, 'link-out.png'));
    symlinkSync(outside, join(root, 'dir-out'));
    symlinkSync(join(outside, 'created-through-link.png'), join(root, 'dangling.png'));
    symlinkSync(join(outside, 'victim.png'), join(root, 'victim-link.png'));
    symlinkSync('/dev/zero', join(root, 'zero.png'));
    execFileSync('mkfifo', [join(root, 'fifo.png')]);
    mkdirSync(join(root, 'fifo-dir'));
    execFileSync('mkfifo', [join(root, 'fifo-dir', 'a.png')]);
    ({ worker } = await start('stdio', 'v0.8', { args: ['--root', root] }));
    await worker.execute('/image_metadata', { image_path: 'photo.png' }); // warm up
  });
  afterAll(async () => {
    await worker?.close();
    cleanup();
  });

  it('answers every attack with -32103 within 1 s and creates or modifies nothing outside the root (tree hash)', async () => {
    const before = treeHash(base, root);
    const photo = join(root, 'photo.png');
    const attacks: [string, string, Record<string, unknown>, string][] = [
      [
        'read traversal',
        '/process_image',
        { image_path: `${root}/../outside/secret.png` },
        'outside_roots',
      ],
      [
        'relative read traversal',
        '/image_metadata',
        { image_path: '../outside/secret.png' },
        'outside_roots',
      ],
      [
        'write traversal',
        '/process_image',
        { image_path: photo, output_path: '../outside/evil.png' },
        'outside_roots',
      ],
      [
        'absolute write outside',
        '/process_image',
        { image_path: photo, output_path: join(outside, 'evil.png'), overwrite: true },
        'outside_roots',
      ],
      [
        'symlink-out read',
        '/process_image',
        { image_path: join(root, 'link-out.png') },
        'outside_roots',
      ],
      [
        'symlinked directory write',
        '/process_image',
        { image_path: photo, output_path: join(root, 'dir-out', 'evil.png') },
        'outside_roots',
      ],
      [
        'dangling-symlink output',
        '/process_image',
        { image_path: photo, output_path: join(root, 'dangling.png') },
        'output_is_symlink',
      ],
      [
        'dangling-symlink output with overwrite',
        '/process_image',
        { image_path: photo, output_path: join(root, 'dangling.png'), overwrite: true },
        'output_is_symlink',
      ],
      [
        'symlink to an outside file with overwrite',
        '/process_image',
        {
          image_path: photo,
          output_path: join(root, 'victim-link.png'),
          overwrite: true,
          output_format: 'png',
        },
        'output_is_symlink',
      ],
      ['FIFO', '/process_image', { image_path: join(root, 'fifo.png') }, 'not_regular_file'],
      [
        'FIFO metadata',
        '/image_metadata',
        { image_path: join(root, 'fifo.png') },
        'not_regular_file',
      ],
      ['/dev/zero', '/process_image', { image_path: '/dev/zero' }, 'outside_roots'],
      [
        'symlink to /dev/zero',
        '/image_metadata',
        { image_path: join(root, 'zero.png') },
        'outside_roots',
      ],
      [
        'batch out of the root',
        '/batch_process_images',
        { image_directory: outside, output_directory: root },
        'outside_roots',
      ],
      [
        'batch output through a symlinked directory',
        '/batch_process_images',
        { image_directory: root, output_directory: join(root, 'dir-out', 'made') },
        'outside_roots',
      ],
      [
        'watermark outside',
        '/process_image',
        {
          image_path: photo,
          operations: [
            { type: 'composite', parameters: { image_path: join(root, 'link-out.png') } },
          ],
        },
        'outside_roots',
      ],
    ];
    const outcomes = [];
    for (const [name, component, input, reason] of attacks) {
      const result = await refusedCall(worker, component, input);
      process.stderr.write(
        `confinement: ${name}: ${result.code} ${result.reason} in ${result.ms.toFixed(1)} ms\n`,
      );
      outcomes.push({ name, code: result.code, reason: result.reason, fast: result.ms <= 1000 });
      expect({ name, code: result.code, reason: result.reason, fast: result.ms <= 1000 }).toEqual({
        name,
        code: -32103,
        reason,
        fast: true,
      });
    }
    expect(outcomes).toHaveLength(attacks.length);
    // a batch over a folder holding a FIFO reports it as skipped, without opening it
    const started = performance.now();
    const batch = (await worker.execute('/batch_process_images', {
      image_directory: 'fifo-dir',
      output_directory: 'fifo-out',
    })) as {
      results: { status: string; skip_reason?: string }[];
    };
    expect(performance.now() - started).toBeLessThanOrEqual(1000);
    expect(batch.results).toMatchObject([{ status: 'skipped', skip_reason: 'special_file' }]);
    expect(treeHash(base, root)).toBe(before);
  });

  it('refuses devices as not regular files (root = /dev) within 1 s', async () => {
    const { worker: devWorker } = await start('stdio', 'v0.8', { args: ['--root', '/dev'] });
    try {
      const result = await refusedCall(devWorker, '/process_image', {
        image_path: '/dev/zero',
        output_blob: true,
      });
      expect(result.code).toBe(-32103);
      expect(result.reason).toBe('not_regular_file');
      expect(result.ms).toBeLessThanOrEqual(1000);
    } finally {
      await devWorker.close();
    }
  });
});

describe('pixel and decompression bombs', () => {
  let root: string;
  let cleanup: () => void;
  let worker: WorkerClient;
  let bombBlob: string;

  beforeAll(async () => {
    ({ dir: root, cleanup } = tempDir('stepflow-image-f24-'));
    writeFileSync(join(root, 'declared-100000.png'), declaredPng(100_000, 100_000));
    writeFileSync(join(root, 'zero-12000.png'), zeroPng(12_000));
    writeFileSync(join(root, 'small.png'), await quadrants(64, 48));
    const started = await start('stdio', 'v0.8', { args: ['--root', root] });
    worker = started.worker;
    bombBlob = await started.blobs.put({ data: zeroPng(12_000).toString('base64') });
    await worker.execute('/process_image', { image_path: 'small.png', output_blob: true }); // warm up sharp
  });
  afterAll(async () => {
    await worker?.close();
    cleanup();
  });

  it('refuses each bomb with -32103 within 1 s and worker RSS grows by at most 150 MB', async () => {
    expect(readFileSync(join(root, 'zero-12000.png')).length).toBeLessThan(1024 * 1024); // a small file
    const meta = await sharp(readFileSync(join(root, 'zero-12000.png')), {
      limitInputPixels: false,
    }).metadata();
    expect([meta.width, meta.height]).toEqual([12_000, 12_000]);
    const pid = worker.pid!;
    const before = memoryOf(pid);
    const bombs: [string, Record<string, unknown>, string][] = [
      [
        'PNG declaring 100000×100000',
        { image_path: 'declared-100000.png', output_blob: true },
        'pixel_limit',
      ],
      ['12000×12000 zero PNG', { image_path: 'zero-12000.png', output_blob: true }, 'pixel_limit'],
      [
        'resize to 100000×100000',
        {
          image_path: 'small.png',
          output_blob: true,
          operations: [{ type: 'resize', parameters: { width: 100_000, height: 100_000 } }],
        },
        'output_pixel_limit',
      ],
      [
        '12000×12000 zero PNG as a blob',
        { image_blob_id: bombBlob, output_blob: true },
        'pixel_limit',
      ],
      [
        'extend to 100000×100000',
        {
          image_path: 'small.png',
          output_blob: true,
          operations: [{ type: 'extend', parameters: { right: 99_936, bottom: 99_952 } }],
        },
        'output_pixel_limit',
      ],
    ];
    for (const [name, input, reason] of bombs) {
      const result = await refusedCall(worker, '/process_image', input);
      process.stderr.write(
        `bomb: ${name}: ${result.code} ${result.reason} in ${result.ms.toFixed(1)} ms\n`,
      );
      expect({ name, code: result.code, reason: result.reason, fast: result.ms <= 1000 }).toEqual({
        name,
        code: -32103,
        reason,
        fast: true,
      });
    }
    const after = memoryOf(pid);
    const growth = after.peak - before.rss;
    process.stderr.write(
      `worker peak RSS growth ${(growth / 1048576).toFixed(1)} MB (rss before ${(before.rss / 1048576).toFixed(1)} MB)\n`,
    );
    expect(growth, `peak RSS grew by ${(growth / 1048576).toFixed(1)} MB`).toBeLessThanOrEqual(
      150 * 1024 * 1024,
    );
    // and the worker is still serving
    expect(await worker.execute('/image_metadata', { image_path: 'small.png' })).toMatchObject({
      width: 64,
      height: 48,
    });
  });
});
