import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RED, decode, failure, kit, quadrants, tempDir } from './helpers.js';

let base: string;
let root: string;
let outside: string;
let cleanup: () => void;
let photo: string;
let k: ReturnType<typeof kit>;

beforeAll(async () => {
  ({ dir: base, cleanup } = tempDir());
  root = join(base, 'root');
  outside = join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  photo = join(root, 'photo.png');
  writeFileSync(photo, await quadrants(64, 32));
  writeFileSync(join(outside, 'secret.png'), await quadrants(8, 8));
  k = kit({ roots: [root] });
});
afterAll(() => cleanup());

describe('confinement to the configured roots', () => {
  it('refuses path-based I/O with -32103 naming STEPFLOW_IMAGE_ROOTS when no roots are configured', async () => {
    const bare = kit({});
    const error = await failure(bare, 'process_image', { image_path: photo });
    expect(error.code).toBe(-32103);
    expect(error.data.reason).toBe('roots_not_configured');
    expect(error.message).toContain('STEPFLOW_IMAGE_ROOTS');
    const batch = await failure(bare, 'batch_process_images', {
      image_directory: root,
      output_directory: root,
    });
    expect(batch.data.reason).toBe('roots_not_configured');
  });

  it('still serves blob I/O and health_check without roots', async () => {
    const bare = kit({});
    const blobId = await bare.blobs.put({ data: (await quadrants(20, 10)).toString('base64') });
    const out = await bare.execute<{ output_blob_id: string; processed_size: { width: number } }>(
      'process_image',
      {
        image_blob_id: blobId,
        operations: [{ type: 'resize', parameters: { width: 10 } }],
        output_format: 'png',
      },
    );
    expect(out.processed_size.width).toBe(10);
    const stored = (await bare.blobs.get(out.output_blob_id)) as {
      data: string;
      format: string;
      width: number;
    };
    expect(stored.format).toBe('png');
    const image = await decode(Buffer.from(stored.data, 'base64'));
    expect([image.width, image.height]).toEqual([10, 5]);
    expect(await bare.execute('health_check', {})).toMatchObject({
      status: 'healthy',
      pack: 'image',
    });
  });

  it('refuses ../ traversal out of the root, naming the path', async () => {
    const error = await failure(k, 'process_image', {
      image_path: `${root}/../outside/secret.png`,
    });
    expect(error.code).toBe(-32103);
    expect(error.data.reason).toBe('outside_roots');
    expect(error.message).toContain('secret.png');
    const relative = await failure(k, 'image_metadata', { image_path: '../outside/secret.png' });
    expect(relative.data.reason).toBe('outside_roots');
  });

  it('refuses a symlink inside the root that points outside it', async () => {
    symlinkSync(join(outside, 'secret.png'), join(root, 'escape.png'));
    const error = await failure(k, 'image_metadata', { image_path: join(root, 'escape.png') });
    expect(error.code).toBe(-32103);
    expect(error.data.reason).toBe('outside_roots');
  });

  it('follows a symlink that stays inside the root', async () => {
    symlinkSync(photo, join(root, 'alias.png'));
    const meta = await k.execute<{ width: number; path: string }>('image_metadata', {
      image_path: join(root, 'alias.png'),
    });
    expect(meta.width).toBe(64);
    expect(meta.path).toBe(photo);
  });

  it('refuses to write through a dangling symlink and creates nothing outside', async () => {
    const target = join(outside, 'created-by-link.png');
    symlinkSync(target, join(root, 'dangling.png'));
    const error = await failure(k, 'process_image', {
      image_path: photo,
      output_path: join(root, 'dangling.png'),
      output_format: 'png',
    });
    expect(error.code).toBe(-32103);
    expect(error.data.reason).toBe('output_is_symlink');
    expect(existsSync(target)).toBe(false);
    const forced = await failure(k, 'process_image', {
      image_path: photo,
      output_path: join(root, 'dangling.png'),
      output_format: 'png',
      overwrite: true,
    });
    expect(forced.data.reason).toBe('output_is_symlink');
    expect(existsSync(target)).toBe(false);
  });

  it('refuses an output directory that is a symlink out of the root', async () => {
    symlinkSync(outside, join(root, 'out-link'));
    const error = await failure(k, 'process_image', {
      image_path: photo,
      output_path: join(root, 'out-link', 'x.png'),
    });
    expect(error.data.reason).toBe('outside_roots');
    expect(existsSync(join(outside, 'x.png'))).toBe(false);
  });

  it('refuses a FIFO without blocking', async () => {
    const fifo = join(root, 'pipe.png');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    const error = await failure(k, 'process_image', { image_path: fifo });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error.code).toBe(-32103);
    expect(error.data.reason).toBe('not_regular_file');
  });

  it('refuses devices (a root containing /dev/zero) without reading them', async () => {
    const devRoot = kit({ roots: ['/dev'] });
    const started = Date.now();
    const error = await failure(devRoot, 'image_metadata', { image_path: '/dev/zero' });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error.data.reason).toBe('not_regular_file');
  });

  it('refuses a directory given as an image', async () => {
    const error = await failure(k, 'image_metadata', { image_path: root });
    expect(error.data.reason).toBe('not_regular_file');
  });

  it('answers -32103 not_found for a missing input', async () => {
    const error = await failure(k, 'process_image', { image_path: join(root, 'nope.png') });
    expect(error.code).toBe(-32103);
    expect(error.data.reason).toBe('not_found');
  });

  it('refuses an output whose directory does not exist', async () => {
    const error = await failure(k, 'process_image', {
      image_path: photo,
      output_path: join(root, 'missing', 'x.png'),
    });
    expect(error.data.reason).toBe('output_directory_missing');
  });
});

describe('bounds', () => {
  it('refuses inputs over maxInputBytes before decoding', async () => {
    const small = kit({ roots: [root], maxInputBytes: 100 });
    const error = await failure(small, 'process_image', { image_path: photo });
    expect(error.code).toBe(-32103);
    expect(error.data).toMatchObject({ reason: 'input_too_large', limit: 100 });
    expect(error.data.actual).toBeGreaterThan(100);
  });

  it('refuses inputs over maxInputPixels from the header', async () => {
    const small = kit({ roots: [root], maxInputPixels: 1000 });
    const error = await failure(small, 'process_image', { image_path: photo });
    expect(error.data).toMatchObject({ reason: 'pixel_limit', limit: 1000, actual: 64 * 32 });
  });

  it('refuses operations that would exceed maxOutputPixels, before decoding', async () => {
    const error = await failure(k, 'process_image', {
      image_path: photo,
      operations: [{ type: 'resize', parameters: { width: 100_000, height: 100_000 } }],
    });
    expect(error.code).toBe(-32103);
    expect(error.data).toMatchObject({
      reason: 'output_pixel_limit',
      limit: 100_000_000,
      actual: 10_000_000_000,
    });
    const extended = await failure(kit({ roots: [root], maxOutputPixels: 5000 }), 'process_image', {
      image_path: photo,
      operations: [{ type: 'extend', parameters: { top: 100 } }],
    });
    expect(extended.data.reason).toBe('output_pixel_limit');
  });

  it('validates parameter ranges with -32003 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ type: 'blur', parameters: { sigma: 0.1 } }, 'input.operations[0].parameters.sigma'],
      [{ type: 'resize', parameters: {} }, 'input.operations[0].parameters.width'],
      [{ type: 'resize', parameters: { width: 0 } }, 'input.operations[0].parameters.width'],
      [{ type: 'crop', parameters: { width: 10 } }, 'input.operations[0].parameters.height'],
      [{ type: 'rotate', parameters: { degrees: 720 } }, 'input.operations[0].parameters.degrees'],
      [{ type: 'sharpen', parameters: { sigma: 11 } }, 'input.operations[0].parameters.sigma'],
      [
        { type: 'resize', parameters: { width: 10, colour: 'red' } },
        'input.operations[0].parameters.colour',
      ],
      [{ type: 'explode' }, 'input.operations[0].type'],
    ];
    for (const [op, path] of cases) {
      const error = await failure(k, 'process_image', { image_path: photo, operations: [op] });
      expect(error.code, JSON.stringify(op)).toBe(-32003);
      expect(error.message.startsWith(path), `${error.message} should start with ${path}`).toBe(
        true,
      );
    }
    const quality = await failure(k, 'process_image', { image_path: photo, quality: 101 });
    expect(quality.message).toContain('input.quality');
    const limit = await failure(k, 'batch_process_images', {
      image_directory: root,
      output_directory: root,
      parallel_limit: 11,
    });
    expect(limit.message).toContain('input.parallel_limit');
  });

  it('refuses SVG by default without running its loader, and accepts it when configured', async () => {
    const svg = join(root, 'drawing.svg');
    writeFileSync(
      svg,
      '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"><rect width="20" height="10" fill="red"/></svg>',
    );
    const error = await failure(k, 'process_image', { image_path: svg });
    expect(error.code).toBe(-32103);
    expect(error.data.reason).toBe('format_not_allowed');
    const withSvg = kit({ roots: [root], allowedInputFormats: ['png', 'svg'] });
    const out = await withSvg.execute<{ output_path: string }>('process_image', {
      image_path: svg,
      output_format: 'png',
    });
    const image = await decode(readFileSync(out.output_path));
    expect([image.width, image.height]).toEqual([20, 10]);
    expect(image.pixel(5, 5).slice(0, 3)).toEqual(RED);
    // the default configuration blocks the loader again for the next request
    expect((await failure(k, 'image_metadata', { image_path: svg })).data.reason).toBe(
      'format_not_allowed',
    );
  });

  it('refuses data that is not an image, and truncated images with -32101 (failOn warning)', async () => {
    writeFileSync(join(root, 'text.png'), 'this is not a picture at all');
    expect(
      (await failure(k, 'process_image', { image_path: join(root, 'text.png') })).data.reason,
    ).toBe('unsupported_format');
    const sharp = (await import('sharp')).default;
    const noise = Buffer.alloc(256 * 256 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 7) % 251;
    const jpeg = await sharp(noise, { raw: { width: 256, height: 256, channels: 3 } })
      .jpeg()
      .toBuffer();
    // the header is intact (metadata works), the entropy-coded data is cut short: libvips warns
    writeFileSync(join(root, 'truncated.jpg'), jpeg.subarray(0, jpeg.length - 500));
    expect(
      await k.execute('image_metadata', { image_path: join(root, 'truncated.jpg') }),
    ).toMatchObject({ width: 256 });
    const error = await failure(k, 'process_image', { image_path: join(root, 'truncated.jpg') });
    expect(error.code).toBe(-32101);
    expect(error.data.reason).toBe('processing_failed');
  });
});

describe('pages and time', () => {
  it('decodes only maxPages pages of a multi-page image, counting every decoded page against the pixel limit', async () => {
    const sharp = (await import('sharp')).default;
    const frame = (colour: string) =>
      sharp({ create: { width: 20, height: 10, channels: 3, background: colour } })
        .png()
        .toBuffer();
    const frames = await Promise.all(['#ff0000', '#00ff00', '#0000ff'].map(frame));
    const gif = join(root, 'animated.gif');
    writeFileSync(
      gif,
      await sharp(frames, { join: { animated: true } })
        .gif()
        .toBuffer(),
    );
    const first = await k.execute<{ output_path: string }>('process_image', {
      image_path: gif,
      output_format: 'png',
      output_path: join(root, 'gif-1.png'),
    });
    const one = await decode(readFileSync(first.output_path));
    expect([one.width, one.height]).toEqual([20, 10]);
    expect(one.pixel(5, 5).slice(0, 3)).toEqual(RED);
    const three = kit({ roots: [root], maxPages: 3 });
    const all = await three.execute<{ output_path: string }>('process_image', {
      image_path: gif,
      output_format: 'png',
      output_path: join(root, 'gif-3.png'),
    });
    const strip = await decode(readFileSync(all.output_path));
    expect([strip.width, strip.height]).toEqual([20, 30]);
    expect(strip.pixel(5, 25).slice(0, 3)).toEqual([0, 0, 255]);
    const limited = await failure(
      kit({ roots: [root], maxPages: 3, maxInputPixels: 400 }),
      'process_image',
      { image_path: gif },
    );
    expect(limited.data).toMatchObject({ reason: 'pixel_limit', limit: 400, actual: 600 });
    await kit({ roots: [root], maxPages: 1, maxInputPixels: 400 }).execute('process_image', {
      image_path: gif,
      output_blob: true,
    });
  });

  it('stops a job that exceeds timeoutSeconds with -32103 processing_timeout', async () => {
    const sharp = (await import('sharp')).default;
    const big = join(root, 'big.png');
    writeFileSync(
      big,
      await sharp({ create: { width: 6000, height: 6000, channels: 3, background: '#808080' } })
        .png({ compressionLevel: 1 })
        .toBuffer(),
    );
    const started = Date.now();
    const error = await failure(kit({ roots: [root], timeoutSeconds: 1 }), 'process_image', {
      image_path: big,
      output_blob: true,
      operations: [{ type: 'blur', parameters: { sigma: 300 } }],
    });
    expect(error.code).toBe(-32103);
    expect(error.data).toMatchObject({ reason: 'processing_timeout', limit: 1 });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('blob I/O', () => {
  it('reads a blob and writes a file, and reads a file and writes a blob', async () => {
    const blobId = await k.blobs.put({
      type: 'image',
      encoding: 'base64',
      data: (await quadrants(40, 20)).toString('base64'),
    });
    const toFile = await k.execute<{ output_path: string }>('process_image', {
      image_blob_id: blobId,
      output_path: join(root, 'from-blob.png'),
      output_format: 'png',
      operations: [{ type: 'flop' }],
    });
    const image = await decode(readFileSync(toFile.output_path));
    expect(image.width).toBe(40);
    expect(image.pixel(35, 2)).toEqual(RED);
    const toBlob = await k.execute<{ output_blob_id: string; output_path?: string }>(
      'process_image',
      {
        image_path: photo,
        output_blob: true,
        output_format: 'webp',
      },
    );
    expect(toBlob.output_path).toBeUndefined();
    const stored = (await k.blobs.get(toBlob.output_blob_id)) as Record<string, unknown>;
    expect(stored).toMatchObject({
      type: 'image',
      format: 'webp',
      content_type: 'image/webp',
      width: 64,
      height: 32,
      encoding: 'base64',
    });
    expect((await decode(Buffer.from(stored.data as string, 'base64'))).format).toBe('webp');
  });

  it('accepts a bare base64 string or a data: URL blob', async () => {
    const png = await quadrants(10, 10);
    for (const value of [
      png.toString('base64'),
      `data:image/png;base64,${png.toString('base64')}`,
    ]) {
      const id = await k.blobs.put(value);
      expect(await k.execute('image_metadata', { image_blob_id: id })).toMatchObject({
        width: 10,
        format: 'png',
        blob_id: id,
      });
    }
  });

  it('refuses blobs that hold no image, and unknown blob ids', async () => {
    const id = await k.blobs.put({ hello: 'world' });
    expect((await failure(k, 'process_image', { image_blob_id: id })).data.reason).toBe(
      'invalid_image_blob',
    );
    const bad64 = await k.blobs.put({ data: '!!!notbase64!!!' });
    expect((await failure(k, 'process_image', { image_blob_id: bad64 })).data.reason).toBe(
      'invalid_image_blob',
    );
    const missing = await failure(k, 'process_image', { image_blob_id: 'a'.repeat(64) });
    expect(missing.code).toBe(-32103);
    expect(missing.data.reason).toBe('blob_not_found');
  });

  it('refuses blobs over maxInputBytes before decoding the base64', async () => {
    const small = kit({ maxInputBytes: 50 });
    const id = await small.blobs.put({ data: (await quadrants(40, 40)).toString('base64') });
    expect((await failure(small, 'process_image', { image_blob_id: id })).data).toMatchObject({
      reason: 'input_too_large',
      limit: 50,
    });
  });
});

describe('image_metadata', () => {
  it('reports dimensions, format, channels, EXIF orientation and file size', async () => {
    const sharp = (await import('sharp')).default;
    const path = join(root, 'exif.jpg');
    writeFileSync(
      path,
      await sharp(await quadrants(30, 20))
        .jpeg()
        .withMetadata({ orientation: 6 })
        .toBuffer(),
    );
    const meta = await k.execute<Record<string, unknown>>('image_metadata', { image_path: path });
    expect(meta).toMatchObject({
      format: 'jpeg',
      width: 30,
      height: 20,
      display_width: 20,
      display_height: 30,
      channels: 3,
      has_alpha: false,
      orientation: 6,
      has_exif: true,
      file_size: readFileSync(path).length,
      path,
    });
    const png = await k.execute<Record<string, unknown>>('image_metadata', { image_path: photo });
    expect(png).toMatchObject({
      format: 'png',
      width: 64,
      height: 32,
      orientation: 1,
      has_exif: false,
    });
  });
});
