import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLUE, GREEN, RED, decode, near, quadrants, tempDir } from './helpers.js';
import { assertCleanFrames, start, type Dialect, type Mode } from './workers.js';

assertCleanFrames();

let root: string;
let cleanup: () => void;
beforeAll(async () => {
  ({ dir: root, cleanup } = tempDir());
  writeFileSync(join(root, 'photo.png'), await quadrants(320, 160));
  mkdirSync(join(root, 'album'));
  for (let i = 0; i < 4; i++)
    writeFileSync(join(root, 'album', `p${i}.jpg`), await quadrants(160, 80, 'jpeg'));
});
afterAll(() => cleanup());

const cases: [Mode, Dialect][] = [
  ['stdio', 'v0.8'],
  ['stdio', 'v0.11'],
  ['http-subprocess', 'v0.11'],
  ['http-subprocess', 'v0.8'],
];

describe.each(cases)('built stepflow-pack-image over %s speaking %s', (mode, dialect) => {
  it('lists its components and processes a file inside the root', async () => {
    const { worker } = await start(mode, dialect, { env: { STEPFLOW_IMAGE_ROOTS: root } });
    try {
      const names = (await worker.list()).map((c) => c.component).sort();
      expect(names).toEqual([
        '/batch_process_images',
        '/health_check',
        '/image_metadata',
        '/process_image',
      ]);
      const out = (await worker.execute('/process_image', {
        image_path: join(root, 'photo.png'),
        operations: [
          { type: 'crop', parameters: { left: 0, top: 0, width: 160, height: 160 } },
          { type: 'rotate', parameters: { degrees: 90 } },
          { type: 'resize', parameters: { width: 64, height: 64 } },
        ],
        output_format: 'png',
        output_path: `out-${mode}-${dialect}.png`,
      })) as {
        output_path: string;
        operations_applied: string[];
        processed_size: { fileSize: number };
      };
      expect(out.operations_applied).toEqual(['crop(160x160)', 'rotate(90°)', 'resize(64x64)']);
      const data = readFileSync(out.output_path);
      expect(out.processed_size.fileSize).toBe(data.length);
      const image = await decode(data);
      expect([image.width, image.height]).toEqual([64, 64]);
      expect(near(image.pixel(5, 32), BLUE)).toBe(true);
      expect(near(image.pixel(58, 32), RED)).toBe(true);
      await expect(
        worker.execute('/process_image', { image_path: '/etc/passwd' }),
      ).rejects.toMatchObject({
        code: -32103,
        data: { reason: 'outside_roots' },
      });
      await expect(
        worker.execute('/process_image', { image_path: 'photo.png', quality: 0 }),
      ).rejects.toMatchObject({ code: -32003 });
    } finally {
      await worker.close();
    }
  });

  it('reads and writes images as blobs through the runtime blob store', async () => {
    const { worker, blobs } = await start(mode, dialect);
    try {
      const inputId = await blobs.put({
        type: 'image',
        encoding: 'base64',
        data: (await quadrants(80, 40)).toString('base64'),
      });
      const out = (await worker.execute('/process_image', {
        image_blob_id: inputId,
        operations: [{ type: 'flop' }, { type: 'resize', parameters: { width: 40 } }],
        output_format: 'png',
      })) as { output_blob_id: string; processed_size: { width: number; height: number } };
      expect(out.processed_size).toMatchObject({ width: 40, height: 20 });
      const stored = (await blobs.get(out.output_blob_id)) as { data: string; format: string };
      expect(stored.format).toBe('png');
      const image = await decode(Buffer.from(stored.data, 'base64'));
      expect(near(image.pixel(2, 2), GREEN)).toBe(true);
      expect(near(image.pixel(37, 2), RED)).toBe(true);
      const meta = await worker.execute('/image_metadata', { image_blob_id: out.output_blob_id });
      expect(meta).toMatchObject({ width: 40, height: 20, format: 'png' });
      // without roots, path-based I/O is refused naming the setting
      await expect(
        worker.execute('/image_metadata', { image_path: '/tmp/x.png' }),
      ).rejects.toMatchObject({
        code: -32103,
        data: { reason: 'roots_not_configured' },
      });
    } finally {
      await worker.close();
    }
  });

  it('processes a folder in a batch', async () => {
    const { worker } = await start(mode, dialect, { args: ['--root', root] });
    try {
      const out = (await worker.execute('/batch_process_images', {
        image_directory: 'album',
        output_directory: `album-out-${mode}-${dialect}`,
        output_format: 'webp',
        parallel_limit: 2,
        operations: [{ type: 'resize', parameters: { width: 40 } }, { type: 'grayscale' }],
      })) as { processed_images: number; results: { output_path: string }[] };
      expect(out.processed_images).toBe(4);
      for (const r of out.results) {
        const image = await decode(readFileSync(r.output_path));
        expect([image.format, image.width, image.height]).toEqual(['webp', 40, 20]);
        const [r0, g0, b0] = image.pixel(5, 5);
        expect(Math.abs(r0! - g0!) + Math.abs(g0! - b0!)).toBeLessThan(6);
      }
    } finally {
      await worker.close();
    }
  });
});
