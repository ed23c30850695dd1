import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { parseJpegHeader } from '../src/jpeg-header.js';
import { quadrants } from './helpers.js';

describe('JPEG header fast path', () => {
  it('agrees with libvips on size and EXIF orientation for baseline, progressive and greyscale JPEGs', async () => {
    const base = await quadrants(123, 45);
    for (const orientation of [undefined, 1, 2, 3, 4, 5, 6, 7, 8]) {
      for (const options of [{}, { progressive: true }, { quality: 30 }]) {
        let image = sharp(base).jpeg(options);
        if (orientation !== undefined) image = image.withMetadata({ orientation });
        const data = await image.toBuffer();
        const meta = await sharp(data).metadata();
        expect(parseJpegHeader(data)).toEqual({
          width: meta.width,
          height: meta.height,
          orientation: meta.orientation ?? 1,
        });
      }
    }
    const grey = await sharp(base).grayscale().jpeg().toBuffer();
    expect(parseJpegHeader(grey)).toEqual({ width: 123, height: 45, orientation: 1 });
  });

  it('gives up (undefined) on anything malformed instead of guessing', async () => {
    const data = await sharp(await quadrants(20, 10))
      .jpeg()
      .toBuffer();
    expect(parseJpegHeader(data.subarray(0, 10))).toBeUndefined();
    expect(parseJpegHeader(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 2]))).toBeUndefined();
    expect(
      parseJpegHeader(Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff, 1, 2])),
    ).toBeUndefined();
    const zeroHeight = Buffer.from(data);
    const sof = zeroHeight.indexOf(Buffer.from([0xff, 0xc0]));
    zeroHeight[sof + 5] = 0;
    zeroHeight[sof + 6] = 0;
    expect(parseJpegHeader(zeroHeight)).toBeUndefined();
    expect(parseJpegHeader(await quadrants(4, 4))).toBeUndefined(); // a PNG
  });
});
