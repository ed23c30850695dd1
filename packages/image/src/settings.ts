import { realpathSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { defineSettings, fromEnv, z, type SettingsOf } from '@stepflow-packs/core';

/** Input formats whose libvips loaders may run. Anything else is refused before decoding. */
export const INPUT_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heif', 'svg'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];
export const DEFAULT_INPUT_FORMATS: InputFormat[] = [
  'jpeg',
  'png',
  'webp',
  'gif',
  'tiff',
  'avif',
  'heif',
];

const CPUS = Math.max(1, availableParallelism());

/**
 * Roots: each entry resolved against the working directory at start-up, then realpath'd; a
 * root that does not exist or is not a directory is a configuration error (exit 1).
 */
const roots = fromEnv.list(z.string().min(1)).transform((list, ctx) => {
  const out: string[] = [];
  for (const entry of list) {
    const absolute = isAbsolute(entry) ? entry : resolve(entry);
    try {
      const real = realpathSync(absolute);
      if (!statSync(real).isDirectory()) {
        ctx.issues.push({
          code: 'custom',
          message: `root ${JSON.stringify(entry)} is not a directory`,
          input: entry,
        });
        continue;
      }
      if (!out.includes(real)) out.push(real);
    } catch {
      ctx.issues.push({
        code: 'custom',
        message: `root ${JSON.stringify(entry)} does not exist`,
        input: entry,
      });
    }
  }
  return out;
});

const formats = fromEnv
  .list(z.enum(INPUT_FORMATS), { default: DEFAULT_INPUT_FORMATS, min: 1 })
  .transform((list) => [...new Set(list)]);

const MiB = 1024 * 1024;

export const settings = defineSettings({
  roots: {
    schema: roots,
    env: 'STEPFLOW_IMAGE_ROOTS',
    flag: 'root',
    description:
      'Directories that path-based I/O is confined to (comma-separated; the flag may repeat). Relative input and output paths resolve against the first root. None set = path-based I/O refused; blob I/O still works.',
  },
  allowedInputFormats: {
    schema: formats,
    env: 'STEPFLOW_IMAGE_INPUT_FORMATS',
    flag: 'input-format',
    description:
      'Input formats whose decoders may run (default jpeg,png,webp,gif,tiff,avif,heif). SVG is untrusted and must be listed explicitly.',
  },
  maxInputBytes: {
    schema: fromEnv.integer({ default: 50 * MiB, min: 1, max: 1024 * MiB }),
    env: 'STEPFLOW_IMAGE_MAX_INPUT_BYTES',
    flag: 'max-input-bytes',
    description: 'Largest input file or blob image, in bytes (default 52428800 = 50 MiB).',
  },
  maxInputPixels: {
    schema: fromEnv.integer({ default: 100_000_000, min: 1, max: 1_000_000_000 }),
    env: 'STEPFLOW_IMAGE_MAX_INPUT_PIXELS',
    flag: 'max-input-pixels',
    description:
      'Largest input in pixels (width × height × pages), checked from the header before decoding (default 100000000).',
  },
  maxOutputPixels: {
    schema: fromEnv.integer({ default: 100_000_000, min: 1, max: 1_000_000_000 }),
    env: 'STEPFLOW_IMAGE_MAX_OUTPUT_PIXELS',
    flag: 'max-output-pixels',
    description:
      'Largest image any operation may produce, in pixels, checked before decoding (default 100000000).',
  },
  maxOutputBytes: {
    schema: fromEnv.integer({ default: 50 * MiB, min: 1, max: 1024 * MiB }),
    env: 'STEPFLOW_IMAGE_MAX_OUTPUT_BYTES',
    flag: 'max-output-bytes',
    description: 'Largest encoded output (file or blob), in bytes (default 52428800 = 50 MiB).',
  },
  maxPages: {
    schema: fromEnv.integer({ default: 1, min: 1, max: 1000 }),
    env: 'STEPFLOW_IMAGE_MAX_PAGES',
    flag: 'max-pages',
    description:
      'Pages/frames decoded from multi-page inputs (animated GIF/WebP, TIFF); default 1 = first page only.',
  },
  timeoutSeconds: {
    schema: fromEnv.integer({ default: 30, min: 1, max: 3600 }),
    env: 'STEPFLOW_IMAGE_TIMEOUT_SECONDS',
    flag: 'timeout-seconds',
    description: "sharp's processing timeout per image, in seconds (default 30).",
  },
  concurrency: {
    schema: fromEnv.integer({ default: CPUS, min: 1, max: CPUS }),
    env: 'STEPFLOW_IMAGE_CONCURRENCY',
    flag: 'concurrency',
    description: `Images processed at once by this worker, across all requests (default and maximum: the CPU count, ${CPUS} here).`,
  },
  threadsPerJob: {
    schema: fromEnv.integer({ default: 1, min: 1, max: CPUS }),
    env: 'STEPFLOW_IMAGE_THREADS_PER_JOB',
    flag: 'threads-per-job',
    description:
      "libvips worker threads per image (sharp.concurrency; default 1, sharp's own default on glibc Linux; at most the CPU count).",
  },
  maxFiles: {
    schema: fromEnv.integer({ default: 1000, min: 1, max: 1_000_000 }),
    env: 'STEPFLOW_IMAGE_MAX_FILES',
    flag: 'max-files',
    description:
      'Most folder entries (images or not) one batch_process_images call may list; a larger directory is refused (default 1000).',
  },
});

export type ImageSettings = SettingsOf<typeof settings>;
