import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  solid,
  tempDir,
} from './helpers.js';

interface ProcessOutput {
  success: boolean;
  output_path?: string;
  output_blob_id?: string;
  output_format: string;
  original_size: { width: number; height: number; fileSize: number };
  processed_size: { width: number; height: number; fileSize: number };
  operations_applied: string[];
  processing_time_ms: number;
}

let root: string;
let cleanup: () => void;
let k: ReturnType<typeof kit>;
let n = 0;

/** A fresh 200×100 quadrant PNG (and its path) for each test. */
function input(format: 'png' | 'jpeg' = 'png', width = 200, height = 100): Promise<string> {
  const path = join(root, `in-${n++}.${format === 'jpeg' ? 'jpg' : format}`);
  return quadrants(width, height, format).then((data) => {
    writeFileSync(path, data);
    return path;
  });
}

async function run(
  inputPath: string,
  operations: unknown[],
  extra: Record<string, unknown> = {},
): Promise<{ out: ProcessOutput; image: Awaited<ReturnType<typeof decode>> }> {
  const out = await k.execute<ProcessOutput>('process_image', {
    image_path: inputPath,
    operations,
    output_format: 'png',
    output_path: join(root, `out-${n++}.png`),
    ...extra,
  });
  return { out, image: await decode(readFileSync(out.output_path!)) };
}

beforeAll(() => {
  ({ dir: root, cleanup } = tempDir());
  k = kit({ roots: [root] });
});
afterAll(() => cleanup());

describe('process_image operations', () => {
  it('resizes to 640x480 with fit cover and reports resize(640x480)', async () => {
    const { out, image } = await run(await input(), [
      { type: 'resize', parameters: { width: 640, height: 480 } },
    ]);
    expect([image.width, image.height]).toEqual([640, 480]);
    expect(out.operations_applied).toEqual(['resize(640x480)']);
    expect(out.processed_size).toMatchObject({ width: 640, height: 480 });
    expect(out.original_size).toMatchObject({ width: 200, height: 100 });
    // cover crops the sides of a 2:1 image: the top-left is still red, bottom-right white
    expect(near(image.pixel(5, 5), RED)).toBe(true);
    expect(near(image.pixel(634, 474), WHITE)).toBe(true);
  });

  it('keeps the aspect ratio when only the width is given', async () => {
    const { out, image } = await run(await input(), [
      { type: 'resize', parameters: { width: 100 } },
    ]);
    expect([image.width, image.height]).toEqual([100, 50]);
    expect(out.operations_applied).toEqual(['resize(100xauto)']);
  });

  it('pads with the background colour for fit contain', async () => {
    const { image } = await run(await input(), [
      {
        type: 'resize',
        parameters: { width: 100, height: 100, fit: 'contain', background: '#00ff00' },
      },
    ]);
    expect([image.width, image.height]).toEqual([100, 100]);
    expect(near(image.pixel(50, 5), GREEN)).toBe(true); // padding above the 100×50 image
    expect(near(image.pixel(10, 30), RED)).toBe(true);
  });

  it('crops the requested area and reports crop(100x50)', async () => {
    const { out, image } = await run(await input(), [
      { type: 'crop', parameters: { left: 100, top: 50, width: 100, height: 50 } },
    ]);
    expect([image.width, image.height]).toEqual([100, 50]);
    expect(out.operations_applied).toEqual(['crop(100x50)']);
    expect(near(image.pixel(0, 0), WHITE)).toBe(true);
    expect(near(image.pixel(99, 49), WHITE)).toBe(true);
  });

  it('crop defaults left and top to 0', async () => {
    const { image } = await run(await input(), [
      { type: 'crop', parameters: { width: 100, height: 50 } },
    ]);
    expect(near(image.pixel(50, 25), RED)).toBe(true);
  });

  it('rotates 90° clockwise by default and reports rotate(90°)', async () => {
    const { out, image } = await run(await input(), [{ type: 'rotate', parameters: {} }]);
    expect([image.width, image.height]).toEqual([100, 200]);
    expect(out.operations_applied).toEqual(['rotate(90°)']);
    // clockwise: the former bottom-left (blue) is now top-left, top-left (red) top-right
    expect(near(image.pixel(5, 5), BLUE)).toBe(true);
    expect(near(image.pixel(95, 5), RED)).toBe(true);
    expect(near(image.pixel(95, 195), GREEN)).toBe(true);
  });

  it('rotates by an arbitrary angle onto a larger canvas', async () => {
    const { out, image } = await run(await input(), [
      { type: 'rotate', parameters: { degrees: 45, background: '#00ff00' } },
    ]);
    expect(image.width).toBeGreaterThan(200);
    expect(out.operations_applied).toEqual(['rotate(45°)']);
    expect(near(image.pixel(0, 0), GREEN)).toBe(true);
  });

  it('blurs with sigma 2, softening the quadrant edge, and reports blur(2)', async () => {
    const { out, image } = await run(await input(), [{ type: 'blur', parameters: { sigma: 2 } }]);
    expect(out.operations_applied).toEqual(['blur(2)']);
    const edge = image.pixel(99, 25); // last red column next to green
    expect(edge[0]!).toBeLessThan(250);
    expect(edge[1]!).toBeGreaterThan(5);
    expect(near(image.pixel(50, 25), RED)).toBe(true);
  });

  it('blur sigma defaults to 1 (blur(1))', async () => {
    const { out } = await run(await input(), [{ type: 'blur' }]);
    expect(out.operations_applied).toEqual(['blur(1)']);
  });

  it('sharpens (reported as sharpen) and changes edge pixels of a blurred image', async () => {
    const blurred = join(root, 'blurred.png');
    writeFileSync(
      blurred,
      await sharp(await quadrants(200, 100))
        .blur(3)
        .png()
        .toBuffer(),
    );
    const before = await decode(readFileSync(blurred));
    const { out, image } = await run(blurred, [
      { type: 'sharpen', parameters: { sigma: 2, flat: 1, jagged: 2 } },
    ]);
    expect(out.operations_applied).toEqual(['sharpen']);
    const diff = [95, 97, 99, 101, 103].some((x) =>
      image.pixel(x, 25).some((v, i) => Math.abs(v - before.pixel(x, 25)[i]!) > 3),
    );
    expect(diff).toBe(true);
  });

  it('flips vertically and flops horizontally', async () => {
    const flipped = await run(await input(), [{ type: 'flip' }]);
    expect(near(flipped.image.pixel(5, 5), BLUE)).toBe(true);
    expect(flipped.out.operations_applied).toEqual(['flip']);
    const flopped = await run(await input(), [{ type: 'flop' }]);
    expect(near(flopped.image.pixel(5, 5), GREEN)).toBe(true);
  });

  it('converts to grayscale (equal channels)', async () => {
    const { image } = await run(await input(), [{ type: 'grayscale' }]);
    const [r, g, b] = image.pixel(5, 5);
    expect(image.channels === 1 || (r === g && g === b)).toBe(true);
  });

  it('extends the canvas with the background colour', async () => {
    const { out, image } = await run(await input(), [
      {
        type: 'extend',
        parameters: { top: 10, bottom: 20, left: 5, right: 15, background: '#00ff00' },
      },
    ]);
    expect([image.width, image.height]).toEqual([220, 130]);
    expect(near(image.pixel(2, 2), GREEN)).toBe(true);
    expect(near(image.pixel(6, 11), RED)).toBe(true);
    expect(out.operations_applied).toEqual(['extend(10,15,20,5)']);
  });

  it('trims a uniform border', async () => {
    const framed = join(root, 'framed.png');
    writeFileSync(
      framed,
      await sharp(await solid(50, 40, RED))
        .extend({ top: 10, bottom: 10, left: 10, right: 10, background: '#ffffff' })
        .png()
        .toBuffer(),
    );
    const { image } = await run(framed, [{ type: 'trim' }]);
    expect([image.width, image.height]).toEqual([50, 40]);
    expect(near(image.pixel(0, 0), RED)).toBe(true);
  });

  it('composites a watermark at the chosen gravity with opacity', async () => {
    const mark = join(root, 'mark.png');
    writeFileSync(mark, await solid(20, 10, BLUE));
    const { out, image } = await run(await input(), [
      { type: 'composite', parameters: { image_path: mark, gravity: 'northwest', opacity: 0.5 } },
    ]);
    expect(out.operations_applied).toEqual(['composite(watermark)']);
    const blended = image.pixel(5, 5); // half blue over red
    expect(near(blended, [128, 0, 128], 6)).toBe(true);
    expect(near(image.pixel(25, 5), RED)).toBe(true);
  });

  it('composites at explicit left/top offsets', async () => {
    const mark = join(root, 'mark2.png');
    writeFileSync(mark, await solid(10, 10, BLUE));
    const { image } = await run(await input(), [
      { type: 'composite', parameters: { image_path: mark, left: 150, top: 10 } },
    ]);
    expect(near(image.pixel(155, 15), BLUE)).toBe(true);
    expect(near(image.pixel(145, 15), GREEN)).toBe(true);
  });

  it('makes a square thumbnail with fit and position', async () => {
    const { out, image } = await run(await input(), [
      { type: 'thumbnail', parameters: { width: 50, position: 'west' } },
    ]);
    expect([image.width, image.height]).toEqual([50, 50]);
    expect(out.operations_applied).toEqual(['thumbnail(50x50)']);
    expect(near(image.pixel(5, 5), RED)).toBe(true); // west keeps the left (red/blue) half
    expect(near(image.pixel(45, 45), BLUE)).toBe(true);
  });

  it('applies a chain in order: crop, then rotate, then resize', async () => {
    const { out, image } = await run(await input(), [
      { type: 'crop', parameters: { left: 0, top: 0, width: 100, height: 100 } }, // left half: red over blue
      { type: 'rotate', parameters: { degrees: 90 } }, // blue left, red right
      { type: 'resize', parameters: { width: 40, height: 40 } },
    ]);
    expect(out.operations_applied).toEqual(['crop(100x100)', 'rotate(90°)', 'resize(40x40)']);
    expect([image.width, image.height]).toEqual([40, 40]);
    expect(near(image.pixel(5, 20), BLUE)).toBe(true);
    expect(near(image.pixel(35, 20), RED)).toBe(true);
  });

  it('checks crop bounds against the image as it is at that point of the chain', async () => {
    const error = await failure(k, 'process_image', {
      image_path: await input(),
      operations: [
        { type: 'resize', parameters: { width: 50, height: 50 } },
        { type: 'crop', parameters: { left: 10, top: 10, width: 50, height: 50 } },
      ],
    });
    expect(error.code).toBe(-32103);
    expect(error.data.reason).toBe('crop_out_of_bounds');
    expect(error.message).toContain('operations[1]');
    expect(error.data.image).toEqual({ width: 50, height: 50 });
  });

  it('checks crop bounds after an operation whose size sharp decides (exact check between stages)', async () => {
    const error = await failure(k, 'process_image', {
      image_path: await input(),
      operations: [
        { type: 'resize', parameters: { width: 60 } }, // 60×30
        { type: 'crop', parameters: { width: 60, height: 31 } },
      ],
    });
    expect(error.code).toBe(-32103);
    expect(error.data.reason).toBe('crop_out_of_bounds');
  });
});

describe('process_image files and formats', () => {
  it('writes next to the input as <name>_processed.<format> by default', async () => {
    const path = await input('jpeg');
    const out = await k.execute<ProcessOutput>('process_image', {
      image_path: path,
      operations: [{ type: 'resize', parameters: { width: 64 } }],
    });
    expect(out.output_path).toBe(path.replace(/\.jpg$/, '_processed.jpeg'));
    expect(out.output_format).toBe('jpeg');
    const image = await decode(readFileSync(out.output_path!));
    expect(image.format).toBe('jpeg');
    expect(image.width).toBe(64);
  });

  it('defaults to JPEG quality 85 and honours quality (smaller file at quality 10)', async () => {
    const path = await input('png', 400, 200);
    const high = await k.execute<ProcessOutput>('process_image', {
      image_path: path,
      output_path: join(root, 'q85.jpeg'),
    });
    const low = await k.execute<ProcessOutput>('process_image', {
      image_path: path,
      output_path: join(root, 'q10.jpeg'),
      quality: 10,
    });
    expect(low.processed_size.fileSize).toBeLessThan(high.processed_size.fileSize);
  });

  it('reports fileSize as the real byte size of input and output files', async () => {
    const path = await input();
    const out = await k.execute<ProcessOutput>('process_image', {
      image_path: path,
      output_format: 'webp',
      operations: [],
    });
    expect(out.original_size.fileSize).toBe(statSync(path).size);
    expect(out.processed_size.fileSize).toBe(statSync(out.output_path!).size);
    expect(out.output_path!.endsWith('_processed.webp')).toBe(true);
    expect((await decode(readFileSync(out.output_path!))).format).toBe('webp');
  });

  it('converts between formats (png → jpeg, webp, avif, tiff, gif) with the pixels intact', async () => {
    const path = await input();
    for (const format of ['jpeg', 'webp', 'avif', 'tiff', 'gif', 'png'] as const) {
      const out = await k.execute<ProcessOutput>('process_image', {
        image_path: path,
        output_format: format,
        output_path: join(root, `conv-${n++}.${format}`),
      });
      const image = await decode(readFileSync(out.output_path!));
      expect(image.format).toBe(format === 'avif' ? 'heif' : format);
      expect([image.width, image.height]).toEqual([200, 100]);
      expect(near(image.pixel(20, 20), RED, 40)).toBe(true);
      expect(near(image.pixel(180, 80), WHITE, 40)).toBe(true);
    }
  });

  it('accepts a relative output_path (resolved against the first root)', async () => {
    const out = await k.execute<ProcessOutput>('process_image', {
      image_path: await input(),
      output_path: 'relative-out.png',
      output_format: 'png',
    });
    expect(out.output_path).toBe(join(root, 'relative-out.png'));
    expect(existsSync(join(root, 'relative-out.png'))).toBe(true);
  });

  it('refuses to overwrite an existing output unless overwrite is true', async () => {
    const path = await input();
    const target = join(root, `exists-${n++}.png`);
    writeFileSync(target, 'keep me');
    const error = await failure(k, 'process_image', {
      image_path: path,
      output_path: target,
      output_format: 'png',
    });
    expect(error.code).toBe(-32103);
    expect(error.data.reason).toBe('output_exists');
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    await k.execute('process_image', {
      image_path: path,
      output_path: target,
      output_format: 'png',
      overwrite: true,
    });
    expect((await decode(readFileSync(target))).width).toBe(200);
  });

  it('applies the EXIF orientation by default, or keeps the stored pixels with auto_orient false', async () => {
    const path = join(root, 'oriented.jpg');
    writeFileSync(
      path,
      await sharp(await quadrants(200, 100))
        .jpeg()
        .withMetadata({ orientation: 6 })
        .toBuffer(),
    );
    const oriented = await k.execute<ProcessOutput>('process_image', {
      image_path: path,
      output_path: join(root, 'o1.png'),
      output_format: 'png',
    });
    expect(oriented.original_size).toMatchObject({ width: 100, height: 200 });
    expect(oriented.processed_size).toMatchObject({ width: 100, height: 200 });
    const stored = await k.execute<ProcessOutput>('process_image', {
      image_path: path,
      output_path: join(root, 'o2.png'),
      output_format: 'png',
      auto_orient: false,
    });
    expect(stored.processed_size).toMatchObject({ width: 200, height: 100 });
  });

  it('leaves no temporary files behind after writing', async () => {
    const { readdirSync } = await import('node:fs');
    await run(await input(), [{ type: 'flip' }]);
    expect(readdirSync(root).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('reads each file by its own descriptor: interleaved requests get their own pixels', async () => {
    const colours = [RED, GREEN, BLUE, WHITE] as const;
    const paths = await Promise.all(
      colours.map(async (colour, i) => {
        const path = join(root, `colour-${i}.png`);
        writeFileSync(path, await solid(30 + i, 20, colour));
        return path;
      }),
    );
    for (let round = 0; round < 2; round++) {
      const outs = await Promise.all(
        paths.map((path, i) =>
          k.execute<ProcessOutput>('process_image', {
            image_path: path,
            output_path: join(root, `colour-out-${round}-${i}.png`),
            output_format: 'png',
          }),
        ),
      );
      for (const [i, out] of outs.entries()) {
        const image = await decode(readFileSync(out.output_path!));
        expect(image.width).toBe(30 + i);
        expect(image.pixel(3, 3).slice(0, 3)).toEqual(colours[i]);
      }
    }
  });

  it('leaks no file descriptors, whether requests succeed or fail', async () => {
    const { readdirSync } = await import('node:fs');
    const open = () => readdirSync('/proc/self/fd').length;
    const path = await input();
    const before = open();
    for (let i = 0; i < 20; i++) {
      await k.call('process_image', {
        image_path: path,
        output_path: join(root, 'fd-out.png'),
        output_format: 'png',
        overwrite: true,
      });
      await k.call('process_image', {
        image_path: path,
        operations: [{ type: 'crop', parameters: { width: 1000, height: 10 } }],
      });
      await k.call('image_metadata', { image_path: path });
    }
    expect(open()).toBeLessThanOrEqual(before);
  });

  it('handles outputs larger than the synchronous I/O threshold (4 MiB)', async () => {
    const width = 1400;
    const height = 1200;
    const noise = Buffer.alloc(width * height * 3);
    let state = 2463534242; // xorshift32: deterministic, incompressible
    for (let i = 0; i < noise.length; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      noise[i] = state & 255;
    }
    const path = join(root, 'noise.png');
    writeFileSync(
      path,
      await sharp(noise, { raw: { width, height, channels: 3 } })
        .png({ compressionLevel: 1 })
        .toBuffer(),
    );
    const out = await k.execute<ProcessOutput>('process_image', {
      image_path: path,
      output_path: join(root, 'noise-out.png'),
      output_format: 'png',
    });
    expect(out.processed_size.fileSize).toBeGreaterThan(4 * 1024 * 1024);
    expect(statSync(out.output_path!).size).toBe(out.processed_size.fileSize);
    const image = await decode(readFileSync(out.output_path!));
    expect(image.pixel(700, 600)).toEqual([
      ...noise.subarray((600 * width + 700) * 3, (600 * width + 700) * 3 + 3),
    ]);
  });
});
