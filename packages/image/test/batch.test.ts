import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharpJobs } from '../src/engine.js';
import {
  BLUE,
  GREEN,
  RED,
  WHITE,
  decode,
  failure,
  kit,
  near,
  quadrants,
  tempDir,
} from './helpers.js';

interface BatchOutput {
  success: boolean;
  total_entries: number;
  total_images: number;
  processed_images: number;
  failed_images: number;
  skipped_entries: number;
  processing_time_ms: number;
  results: {
    input_path: string;
    output_path?: string;
    status: 'processed' | 'failed' | 'skipped';
    skip_reason?: string;
    success: boolean;
    error_message?: string;
    error_code?: number;
    error_reason?: string;
    width?: number;
    height?: number;
    fileSize?: number;
  }[];
}

let base: string;
let root: string;
let cleanup: () => void;
let k: ReturnType<typeof kit>;
let n = 0;

/** A fresh input folder inside the root holding `count` quadrant images of 120×60. */
async function folder(count: number, format: 'png' | 'jpeg' = 'png'): Promise<string> {
  const dir = join(root, `batch-${n++}`);
  mkdirSync(dir);
  for (let i = 0; i < count; i++) {
    writeFileSync(
      join(dir, `img-${String(i).padStart(2, '0')}.${format === 'jpeg' ? 'jpg' : 'png'}`),
      await quadrants(120, 60, format),
    );
  }
  return dir;
}

beforeAll(() => {
  ({ dir: base, cleanup } = tempDir());
  root = join(base, 'root');
  mkdirSync(root);
  mkdirSync(join(base, 'outside'));
  k = kit({ roots: [root] });
});
afterAll(() => cleanup());

describe('batch_process_images', () => {
  it('reports progress after each image (carried by the 0.13 heartbeats)', async () => {
    const seen: [number | undefined, string | undefined][] = [];
    const dir = await folder(4);
    await kit({ roots: [root] }, 'v0.11', (p, m) => seen.push([p, m])).execute(
      'batch_process_images',
      {
        image_directory: dir,
        output_directory: join(root, `out-${n++}`),
        parallel_limit: 2,
      },
    );
    expect(seen).toEqual([
      [0.25, '1 of 4 images done'],
      [0.5, '2 of 4 images done'],
      [0.75, '3 of 4 images done'],
      [1, '4 of 4 images done'],
    ]);
  });

  it('applies every operation and the requested format to every image', async () => {
    const dir = await folder(6);
    const out = join(root, `out-${n++}`);
    const result = await k.execute<BatchOutput>('batch_process_images', {
      image_directory: dir,
      output_directory: out,
      output_format: 'webp',
      quality: 90,
      operations: [
        { type: 'crop', parameters: { left: 0, top: 0, width: 60, height: 60 } }, // red over blue
        { type: 'rotate', parameters: { degrees: 90 } }, // blue left, red right
        { type: 'resize', parameters: { width: 30, height: 30 } },
        { type: 'extend', parameters: { right: 10, background: '#00ff00' } },
      ],
    });
    expect(result).toMatchObject({
      success: true,
      total_images: 6,
      processed_images: 6,
      failed_images: 0,
    });
    expect(result.results.map((r) => r.input_path)).toEqual(
      readdirSync(dir)
        .sort()
        .map((f) => join(dir, f)),
    );
    for (const r of result.results) {
      expect(r.output_path).toBe(
        join(out, r.input_path.slice(dir.length + 1).replace('.png', '_processed.webp')),
      );
      const image = await decode(readFileSync(r.output_path!));
      expect(image.format).toBe('webp');
      expect([image.width, image.height]).toEqual([40, 30]);
      expect(r).toMatchObject({
        success: true,
        width: 40,
        height: 30,
        fileSize: readFileSync(r.output_path!).length,
      });
      expect(near(image.pixel(5, 15), BLUE, 30)).toBe(true);
      expect(near(image.pixel(25, 15), RED, 30)).toBe(true);
      expect(near(image.pixel(37, 15), GREEN, 30)).toBe(true);
    }
  });

  it('keeps going when files fail, reporting each one', async () => {
    const dir = await folder(3);
    writeFileSync(join(dir, 'broken.png'), 'not an image');
    writeFileSync(join(dir, 'tiny.png'), await quadrants(10, 10)); // too small for the crop
    execFileSync('mkfifo', [join(dir, 'fifo.png')]);
    writeFileSync(join(base, 'outside', 'secret.png'), await quadrants(200, 200));
    symlinkSync(join(base, 'outside', 'secret.png'), join(dir, 'escape.png'));
    writeFileSync(join(dir, 'notes.txt'), 'ignored: not an image extension');
    const started = Date.now();
    const result = await k.execute<BatchOutput>('batch_process_images', {
      image_directory: dir,
      output_directory: join(root, `out-${n++}`),
      output_format: 'png',
      operations: [{ type: 'crop', parameters: { left: 0, top: 0, width: 50, height: 50 } }],
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result).toMatchObject({
      success: false,
      total_entries: 8,
      total_images: 5,
      processed_images: 3,
      failed_images: 2,
      skipped_entries: 3,
    });
    const byName = Object.fromEntries(
      result.results.map((r) => [r.input_path.slice(dir.length + 1), r]),
    );
    expect(byName['broken.png']).toMatchObject({
      success: false,
      error_code: -32103,
      error_reason: 'unsupported_format',
    });
    expect(byName['tiny.png']).toMatchObject({
      success: false,
      error_code: -32103,
      error_reason: 'crop_out_of_bounds',
    });
    expect(byName['fifo.png']).toMatchObject({ status: 'skipped', skip_reason: 'special_file' });
    expect(byName['escape.png']).toMatchObject({ status: 'skipped', skip_reason: 'symlink' });
    expect(byName['notes.txt']).toMatchObject({ status: 'skipped', skip_reason: 'not_an_image' });
    expect(byName['img-00.png']).toMatchObject({ success: true, width: 50, height: 50 });
    const image = await decode(readFileSync(byName['img-02.png']!.output_path!));
    expect(image.pixel(10, 10)).toEqual(RED);
  });

  it('accounts for every entry of the folder: non-images, hidden files, symlinks, FIFOs, sockets and subfolders are skipped with a reason, and processed + failed + skipped = entries', async () => {
    const dir = await folder(2);
    writeFileSync(join(dir, 'broken.png'), 'not an image');
    writeFileSync(join(dir, 'readme.txt'), 'text');
    writeFileSync(join(dir, 'no-extension'), 'data');
    writeFileSync(join(dir, '.hidden.png'), await quadrants(20, 20));
    symlinkSync(join(dir, 'img-00.png'), join(dir, 'link-inside.png'));
    symlinkSync(join(dir, 'missing.png'), join(dir, 'dangling.png'));
    symlinkSync(join(base, 'outside'), join(dir, 'dir-link'));
    execFileSync('mkfifo', [join(dir, 'pipe.jpg')]);
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    const socketPath = join(dir, 'sock.png');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'deep.png'), await quadrants(20, 20));
    try {
      const result = await k.execute<BatchOutput>('batch_process_images', {
        image_directory: dir,
        output_directory: join(root, `out-${n++}`),
        output_format: 'png',
      });
      const entries = readdirSync(dir).sort();
      expect(entries).toHaveLength(13);
      expect(result.results.map((r) => r.input_path)).toEqual(entries.map((e) => join(dir, e)));
      const reasons = Object.fromEntries(
        result.results.map((r) => [
          r.input_path.slice(dir.length + 1),
          r.status === 'skipped' ? r.skip_reason : r.status,
        ]),
      );
      expect(reasons).toEqual({
        '.hidden.png': 'hidden',
        'broken.png': 'failed',
        'dangling.png': 'symlink',
        'dir-link': 'symlink',
        'img-00.png': 'processed',
        'img-01.png': 'processed',
        'link-inside.png': 'symlink',
        'no-extension': 'not_an_image',
        pipe: 'special_file',
        'pipe.jpg': 'special_file',
        'readme.txt': 'not_an_image',
        'sock.png': 'special_file',
        sub: 'directory',
      });
      expect(result).toMatchObject({
        success: false,
        total_entries: 13,
        total_images: 3,
        processed_images: 2,
        failed_images: 1,
        skipped_entries: 10,
      });
      expect(result.processed_images + result.failed_images + result.skipped_entries).toBe(
        result.total_entries,
      );
      for (const r of result.results.filter((r) => r.status === 'skipped')) {
        expect(r).toMatchObject({ success: false });
        expect(r.output_path).toBeUndefined();
      }
    } finally {
      server.close();
    }
  });

  it('runs at most parallel_limit images at once, and never more than the global limit', async () => {
    const dir = await folder(8, 'jpeg');
    const jobs = sharpJobs(availableParallelism());
    jobs.resetPeak();
    await k.execute('batch_process_images', {
      image_directory: dir,
      output_directory: join(root, `out-${n++}`),
      parallel_limit: 1,
    });
    expect(jobs.peak).toBe(1);
    jobs.resetPeak();
    const result = await k.execute<BatchOutput>('batch_process_images', {
      image_directory: dir,
      output_directory: join(root, `out-${n++}`),
      parallel_limit: 10,
    });
    expect(result.processed_images).toBe(8);
    expect(jobs.peak).toBeLessThanOrEqual(availableParallelism());
  });

  it('refuses a directory with more than maxFiles entries (images or not) before processing any', async () => {
    const dir = await folder(2);
    writeFileSync(join(dir, 'a.txt'), 'a');
    writeFileSync(join(dir, 'b.txt'), 'b');
    const out = join(root, `out-${n++}`);
    const error = await failure(kit({ roots: [root], maxFiles: 3 }), 'batch_process_images', {
      image_directory: dir,
      output_directory: out,
    });
    expect(error.code).toBe(-32103);
    expect(error.data).toMatchObject({ reason: 'too_many_files', limit: 3 });
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('is loop-safe: recursion never follows directory links and skips its own output folder', async () => {
    const dir = await folder(2);
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'deep.png'), await quadrants(20, 20));
    symlinkSync(dir, join(dir, 'sub', 'loop'));
    const out = join(dir, 'processed');
    const first = await k.execute<BatchOutput>('batch_process_images', {
      image_directory: dir,
      output_directory: out,
      output_format: 'png',
      recursive: true,
    });
    expect(
      first.results.map((r) => [r.input_path.slice(dir.length + 1), r.skip_reason ?? r.status]),
    ).toEqual([
      ['img-00.png', 'processed'],
      ['img-01.png', 'processed'],
      ['processed', 'output_directory'],
      ['sub/deep.png', 'processed'],
      ['sub/loop', 'symlink'],
    ]);
    expect(existsSync(join(out, 'sub', 'deep_processed.png'))).toBe(true);
    // a second run does not pick up the outputs of the first
    const second = await k.execute<BatchOutput>('batch_process_images', {
      image_directory: dir,
      output_directory: out,
      output_format: 'png',
      recursive: true,
      overwrite: true,
    });
    expect(second).toMatchObject({ total_images: 3, skipped_entries: 2, total_entries: 5 });
    expect(second.success).toBe(true);
  });

  it('reports existing outputs (no overwrite), name collisions and outputs that would replace inputs', async () => {
    const dir = await folder(2);
    writeFileSync(join(dir, 'img-00.jpg'), await quadrants(30, 30, 'jpeg')); // same stem as img-00.png
    const out = join(root, `out-${n++}`);
    mkdirSync(out);
    writeFileSync(join(out, 'img-01_processed.jpeg'), 'existing');
    const result = await k.execute<BatchOutput>('batch_process_images', {
      image_directory: dir,
      output_directory: out,
    });
    const byName = Object.fromEntries(
      result.results.map((r) => [r.input_path.slice(dir.length + 1), r]),
    );
    expect(byName['img-00.jpg']!.success).toBe(true);
    expect(byName['img-00.png']).toMatchObject({
      success: false,
      error_reason: 'duplicate_output',
    });
    expect(byName['img-01.png']).toMatchObject({ success: false, error_reason: 'output_exists' });
    expect(readFileSync(join(out, 'img-01_processed.jpeg'), 'utf8')).toBe('existing');

    const same = await folder(1);
    writeFileSync(join(same, 'img-00_processed.png'), await quadrants(10, 10));
    const inPlace = await k.execute<BatchOutput>('batch_process_images', {
      image_directory: same,
      output_directory: same,
      output_format: 'png',
      overwrite: true,
    });
    const inPlaceByName = Object.fromEntries(
      inPlace.results.map((r) => [r.input_path.slice(same.length + 1), r]),
    );
    expect(inPlaceByName['img-00.png']).toMatchObject({
      success: false,
      error_reason: 'output_would_replace_input',
    });
    expect(inPlaceByName['img-00_processed.png']!.success).toBe(true);
  });

  it('answers -32103 when the directories are outside the roots', async () => {
    const error = await failure(k, 'batch_process_images', {
      image_directory: join(base, 'outside'),
      output_directory: root,
    });
    expect(error.data).toMatchObject({ reason: 'outside_roots', field: 'image_directory' });
    const dir = await folder(1);
    const out = await failure(k, 'batch_process_images', {
      image_directory: dir,
      output_directory: join(base, 'outside', 'x'),
    });
    expect(out.data).toMatchObject({ reason: 'outside_roots', field: 'output_directory' });
    expect(existsSync(join(base, 'outside', 'x'))).toBe(false);
  });

  it('handles an empty folder', async () => {
    const dir = await folder(0);
    expect(
      await k.execute('batch_process_images', { image_directory: dir, output_directory: dir }),
    ).toMatchObject({
      success: true,
      total_entries: 0,
      total_images: 0,
      skipped_entries: 0,
      results: [],
    });
  });

  it('applies a watermark to every image', async () => {
    const dir = await folder(2);
    const mark = join(root, `mark-${n++}.png`);
    writeFileSync(mark, await quadrants(10, 10));
    const result = await k.execute<BatchOutput>('batch_process_images', {
      image_directory: dir,
      output_directory: join(root, `out-${n++}`),
      output_format: 'png',
      operations: [{ type: 'composite', parameters: { image_path: mark, gravity: 'southeast' } }],
    });
    for (const r of result.results) {
      const image = await decode(readFileSync(r.output_path!));
      expect(image.pixel(111, 51).slice(0, 3)).toEqual(RED); // top-left quadrant of the mark at (110,50)
      expect(image.pixel(119, 59).slice(0, 3)).toEqual(WHITE);
      expect(image.pixel(100, 50).slice(0, 3)).toEqual(WHITE);
      expect(image.pixel(5, 5).slice(0, 3)).toEqual(RED);
    }
  });
});
