import sharp from 'sharp';
import { ComponentValueError, oneSentence } from '@stepflow-packs/core';
import { refused } from './errors.js';
import { parseJpegHeader } from './jpeg-header.js';
import type { ImageSettings, InputFormat } from './settings.js';

/** libvips loader classes per input format (blocking a class blocks its file/buffer/source variants). */
const LOADERS: Record<InputFormat, string[]> = {
  jpeg: ['VipsForeignLoadJpeg'],
  png: ['VipsForeignLoadPng'],
  webp: ['VipsForeignLoadWebp'],
  gif: ['VipsForeignLoadNsgif'],
  tiff: ['VipsForeignLoadTiff'],
  avif: ['VipsForeignLoadHeif'],
  heif: ['VipsForeignLoadHeif'],
  svg: ['VipsForeignLoadSvg'],
};

let appliedKey: string | undefined;

/**
 * Process-wide sharp configuration: every libvips loader is blocked except the allowed
 * formats' (so SVG, PDF, ImageMagick, … never run unless listed), and the operation cache is
 * off: a server processes each image once, and inputs are read through `/proc/self/fd/<n>`
 * paths whose numbers are reused, which a cache keyed by file name must never see.
 * Idempotent; re-applied when the allowed set changes.
 */
export function configureSharp(allowed: readonly InputFormat[], threadsPerJob: number): void {
  const key = `${[...allowed].sort().join(',')}/${threadsPerJob}`;
  if (key === appliedKey) return;
  sharp.cache(false);
  sharp.concurrency(threadsPerJob);
  sharp.block({ operation: ['VipsForeignLoad'] });
  sharp.unblock({ operation: [...new Set(allowed.flatMap((format) => LOADERS[format]))] });
  appliedKey = key;
}

const ascii = (data: Uint8Array, start: number, end: number) =>
  Buffer.from(data.subarray(start, end)).toString('latin1');

/** Identify the format from magic bytes, before any decoder sees the data. */
export function sniffFormat(data: Uint8Array): InputFormat | undefined {
  if (data.length < 12) return undefined;
  if (data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'jpeg';
  if (ascii(data, 0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  const six = ascii(data, 0, 6);
  if (six === 'GIF87a' || six === 'GIF89a') return 'gif';
  if (ascii(data, 0, 4) === 'RIFF' && ascii(data, 8, 12) === 'WEBP') return 'webp';
  const four = ascii(data, 0, 4);
  if (four === 'II*\0' || four === 'MM\0*' || four === 'II+\0' || four === 'MM\0+') return 'tiff';
  if (ascii(data, 4, 8) === 'ftyp') {
    const boxSize = Math.min(
      data.length,
      Math.max(16, (data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!),
    );
    const brands: string[] = [ascii(data, 8, 12)];
    for (let offset = 16; offset + 4 <= boxSize; offset += 4)
      brands.push(ascii(data, offset, offset + 4));
    if (brands.some((b) => b === 'avif' || b === 'avis')) return 'avif';
    if (
      brands.some((b) =>
        ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs', 'mif1', 'msf1'].includes(
          b,
        ),
      )
    ) {
      return 'heif';
    }
    return undefined;
  }
  const head = ascii(data, 0, Math.min(data.length, 1024))
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, '')
    .trimStart();
  if (
    (head.startsWith('<?xml') || head.startsWith('<svg') || head.startsWith('<!--')) &&
    head.includes('<svg')
  )
    return 'svg';
  if (data[0] === 0x1f && data[1] === 0x8b) return undefined; // gzip (svgz): never sniffed as an image
  return undefined;
}

/** Refuse data whose format is not allowed, without handing it to any decoder. */
export function checkFormat(
  data: Uint8Array,
  allowed: readonly InputFormat[],
  what: string,
): InputFormat {
  const format = sniffFormat(data);
  if (format === undefined) {
    throw refused('unsupported_format', `${what} is not an image in a supported format`, {
      allowed: [...allowed],
    });
  }
  const ok =
    allowed.includes(format) ||
    (format === 'avif' && allowed.includes('heif')) ||
    (format === 'heif' && allowed.includes('avif'));
  if (!ok) {
    throw refused(
      'format_not_allowed',
      `${what} is ${format.toUpperCase()}, which this server does not accept`,
      {
        format,
        allowed: [...allowed],
      },
    );
  }
  return format;
}

/** Options for every sharp input, from the server settings. */
export function inputOptions(
  config: ImageSettings,
  extra: sharp.SharpOptions = {},
): sharp.SharpOptions {
  return {
    failOn: 'warning',
    limitInputPixels: config.maxInputPixels,
    pages: config.maxPages,
    unlimited: false,
    ...extra,
  };
}

export interface Header {
  width: number;
  height: number;
  /** Dimensions after the EXIF orientation is applied. */
  orientedWidth: number;
  orientedHeight: number;
  pages: number;
  /** libvips' full header (absent when the JPEG fast path answered). */
  metadata?: sharp.Metadata;
}

function checkPixels(
  width: number,
  height: number,
  config: ImageSettings,
  what: string,
  enforceLimit: boolean,
): void {
  const pixels = width * height;
  if (!(width > 0 && height > 0)) {
    throw new ComponentValueError(`${what} declares no dimensions`, { reason: 'decode_failed' });
  }
  if (enforceLimit && pixels > config.maxInputPixels) {
    throw refused(
      'pixel_limit',
      `${what} is ${width}×${height} (${pixels} pixels), over the input limit of ${config.maxInputPixels} pixels`,
      { limit: config.maxInputPixels, actual: pixels, width, height },
    );
  }
}

function oriented(width: number, height: number, orientation: number) {
  const swap = orientation >= 5;
  return { orientedWidth: swap ? height : width, orientedHeight: swap ? width : height };
}

/**
 * Read the header only (no pixel decoding) and apply the input pixel limit to it. `full`
 * asks libvips for every field; otherwise JPEGs take a microsecond JavaScript fast path.
 */
export async function readHeader(
  source: Uint8Array | string,
  config: ImageSettings,
  what: string,
  options: { enforceLimit?: boolean; full?: boolean; format?: InputFormat; head?: Uint8Array } = {},
): Promise<Header> {
  const enforceLimit = options.enforceLimit ?? true;
  const head = options.head ?? (typeof source === 'string' ? undefined : source);
  if (!options.full && options.format === 'jpeg' && head) {
    const fast = parseJpegHeader(head);
    if (fast) {
      checkPixels(fast.width, fast.height, config, what, enforceLimit);
      return {
        width: fast.width,
        height: fast.height,
        pages: 1,
        ...oriented(fast.width, fast.height, fast.orientation),
      };
    }
  }
  let metadata: sharp.Metadata;
  try {
    // Header only: failOn applies when the pixels are decoded; the pixel limit is applied below
    // with the real numbers. A header read is sharp work too, so it takes a job slot.
    metadata = await sharpJobs(config.concurrency).run(() =>
      sharp(source, {
        failOn: 'none',
        limitInputPixels: false,
        pages: config.maxPages,
      }).metadata(),
    );
  } catch (err) {
    throw new ComponentValueError(`${what} has an unreadable image header`, {
      reason: 'decode_failed',
      cause: oneSentence(err instanceof Error ? err.message : String(err), 200),
    });
  }
  const width = metadata.width ?? 0;
  const pageHeight = metadata.pageHeight ?? metadata.height ?? 0;
  const pages = Math.min(metadata.pages ?? 1, config.maxPages);
  const height = metadata.pages && metadata.pages > 1 ? pageHeight * pages : (metadata.height ?? 0);
  checkPixels(width, height, config, what, enforceLimit);
  return { width, height, pages, metadata, ...oriented(width, height, metadata.orientation ?? 1) };
}

/**
 * A counting semaphore bounding the sharp jobs of the whole process. A job holds a slot from
 * the moment it calls into sharp until its last sharp promise has settled, and every sharp
 * call of the pack runs in a slot: header reads (when the JPEG fast path does not answer),
 * watermark preparation, and each pipeline's decoding, operations and encoding to a buffer,
 * including libvips' reads of the input (page-cache copies, CPU work too). File-system checks,
 * opening the input, creating the temporary output file and writing/renaming the result happen
 * outside the slot, in JavaScript and libuv's thread pool. With one libvips thread per job
 * (`threadsPerJob` 1, the default) a slot is about one CPU's worth of work, so the default
 * limit, the CPU count, keeps sharp from oversubscribing the machine. Waiters are served in arrival
 * order; acquiring a free slot allocates nothing beyond the task's own promise.
 */
export class Semaphore {
  #available: number;
  /** FIFO of waiters: `#waiting[#head]` is next; compacted when drained. */
  #waiting: (() => void)[] = [];
  #head = 0;
  #limit: number;
  #peak = 0;

  constructor(limit: number) {
    this.#limit = limit;
    this.#available = limit;
  }

  get limit(): number {
    return this.#limit;
  }

  get active(): number {
    return this.#limit - this.#available;
  }

  /** Jobs waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  /** Most jobs ever running at once (observability and tests). */
  get peak(): number {
    return this.#peak;
  }

  resetPeak(): void {
    this.#peak = this.active;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#available > 0) this.#available--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    const active = this.#limit - this.#available;
    if (active > this.#peak) this.#peak = active;
    try {
      return await task();
    } finally {
      this.#release();
    }
  }

  /** Hand the slot straight to the next waiter (it stays taken), or free it. */
  #release(): void {
    if (this.#head < this.#waiting.length) {
      const next = this.#waiting[this.#head]!;
      this.#waiting[this.#head++] = undefined as never;
      if (this.#head === this.#waiting.length) {
        this.#waiting = [];
        this.#head = 0;
      }
      next();
    } else {
      this.#available++;
    }
  }
}

let jobs: Semaphore | undefined;

/** The process-wide sharp job limiter (sized by the first configuration that asks). */
export function sharpJobs(limit: number): Semaphore {
  if (!jobs || (jobs.limit !== limit && jobs.active === 0)) jobs = new Semaphore(limit);
  return jobs;
}
