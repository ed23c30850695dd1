#!/usr/bin/env node
/**
 * Regenerates the tiny, deterministic test images in data/fixtures (committed). Nothing is
 * downloaded: every image is drawn here with sharp.
 *   node workflows/image/generate-fixtures.mjs
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(new URL('../../packages/image/package.json', import.meta.url));
const sharp = require('sharp');
const dir = fileURLToPath(new URL('./data/fixtures/', import.meta.url));

const RED = [255, 0, 0];
const GREEN = [0, 255, 0];
const BLUE = [0, 0, 255];
const WHITE = [255, 255, 255];

/** Four quadrants: red top-left, green top-right, blue bottom-left, white bottom-right. */
function quadrants(width, height) {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const colour = y < height / 2 ? (x < width / 2 ? RED : GREEN) : x < width / 2 ? BLUE : WHITE;
      data.set(colour, (y * width + x) * 3);
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

rmSync(dir, { recursive: true, force: true });
mkdirSync(`${dir}/album`, { recursive: true });
mkdirSync(`${dir}/album-mixed`, { recursive: true });
writeFileSync(`${dir}/quadrants.png`, await quadrants(64, 32).png().toBuffer());
// Stored 48×32, EXIF orientation 6 (display: rotate 90° clockwise → 32×48).
writeFileSync(
  `${dir}/photo.jpg`,
  await quadrants(48, 32).jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toBuffer(),
);
writeFileSync(
  `${dir}/watermark.png`,
  await sharp({
    create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 1 } },
  })
    .png()
    .toBuffer(),
);
writeFileSync(`${dir}/album/a.png`, await quadrants(40, 20).png().toBuffer());
writeFileSync(`${dir}/album/b.png`, await quadrants(80, 40).png().toBuffer());
writeFileSync(`${dir}/album/c.jpg`, await quadrants(60, 30).jpeg({ quality: 90 }).toBuffer());
writeFileSync(`${dir}/album-mixed/good.png`, await quadrants(40, 20).png().toBuffer());
writeFileSync(`${dir}/album-mixed/tiny.png`, await quadrants(8, 8).png().toBuffer());
writeFileSync(`${dir}/album-mixed/broken.png`, 'this file is not an image\n');
console.log(`fixtures written to ${dir}`);
