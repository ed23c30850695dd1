import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createTestKit, type TestKit } from '@stepflow-packs/core/testing';
import { imagePack, type ImageSettings } from '../src/index.js';

export type RGB = [number, number, number];
export const RED: RGB = [255, 0, 0];
export const GREEN: RGB = [0, 255, 0];
export const BLUE: RGB = [0, 0, 255];
export const WHITE: RGB = [255, 255, 255];

/** A temporary directory (realpath'd) removed by the returned cleanup. */
export function tempDir(prefix = 'stepflow-image-'): { dir: string; cleanup: () => void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Deterministic test image: four quadrants, top-left red, top-right green, bottom-left blue,
 * bottom-right white (so crops, rotations and flips can be verified by sampling pixels).
 */
export function quadrantsRaw(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const colour = y < height / 2 ? (x < width / 2 ? RED : GREEN) : x < width / 2 ? BLUE : WHITE;
      data.set(colour, (y * width + x) * 3);
    }
  }
  return data;
}

export async function quadrants(
  width: number,
  height: number,
  format: 'png' | 'jpeg' | 'webp' | 'gif' | 'tiff' = 'png',
): Promise<Buffer> {
  const image = sharp(quadrantsRaw(width, height), { raw: { width, height, channels: 3 } });
  return image.toFormat(format, format === 'jpeg' ? { quality: 95 } : {}).toBuffer();
}

export async function solid(
  width: number,
  height: number,
  colour: RGB,
  format: 'png' | 'jpeg' = 'png',
): Promise<Buffer> {
  return sharp({
    create: {
      width,
      height,
      channels: 3,
      background: { r: colour[0], g: colour[1], b: colour[2] },
    },
  })
    .toFormat(format)
    .toBuffer();
}

export interface Decoded {
  width: number;
  height: number;
  channels: number;
  format: string;
  pixel(x: number, y: number): number[];
}

/** Decode any encoded image for assertions on its pixels. */
export async function decode(data: Buffer | string): Promise<Decoded> {
  const format = (await sharp(data).metadata()).format ?? 'unknown';
  const { data: raw, info } = await sharp(data).raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    channels: info.channels,
    format,
    pixel(x, y) {
      const at = (y * info.width + x) * info.channels;
      return [...raw.subarray(at, at + info.channels)];
    },
  };
}

/** True when every channel is within `tolerance` of the expected colour. */
export function near(actual: number[], expected: number[], tolerance = 12): boolean {
  return expected.every((value, i) => Math.abs((actual[i] ?? -999) - value) <= tolerance);
}

export function kit(
  config: Partial<ImageSettings> = {},
  dialect: 'v0.8' | 'v0.11' = 'v0.11',
  onProgress?: (progress: number | undefined, message: string | undefined) => void,
): TestKit {
  return createTestKit(imagePack, { config, dialect, ...(onProgress ? { onProgress } : {}) });
}

/** The JSON-RPC error of a call that must fail. */
export async function failure(
  k: TestKit,
  component: string,
  input: unknown,
): Promise<{ code: number; message: string; data: Record<string, unknown> }> {
  const outcome = await k.call(component, input);
  if (outcome.ok)
    throw new Error(
      `expected ${component} to fail, got ${JSON.stringify(outcome.output).slice(0, 300)}`,
    );
  return outcome.error as { code: number; message: string; data: Record<string, unknown> };
}
