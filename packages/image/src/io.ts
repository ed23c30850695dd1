import type { ComponentContext, JsonValue } from '@stepflow-packs/core';
import { refused } from './errors.js';
import { checkFormat, configureSharp, readHeader, type Header } from './engine.js';
import { canOpenByFd, Jail } from './jail.js';
import type { OutputFormat } from './pipeline.js';
import type { ImageSettings, InputFormat } from './settings.js';

/** An input image read into memory and checked: size, format (magic bytes) and header limits. */
export interface LoadedImage {
  /** What sharp reads: the bytes, or a /proc/self/fd path of the validated open file. */
  source: Buffer | string;
  /** Size in bytes of the file or decoded blob. */
  size: number;
  /** Release the file descriptor (no-op for in-memory images). Always call it. */
  close(): void;
  format: InputFormat;
  header: Header;
  /** Real path when read from a file. */
  path?: string;
  blobId?: string;
}

export interface SourceRef {
  image_path?: string | undefined;
  image_blob_id?: string | undefined;
}

export const CONTENT_TYPES: Record<OutputFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  tiff: 'image/tiff',
  gif: 'image/gif',
};

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const DATA_URL = /^data:[a-z0-9.+/-]*;base64,/i;

/** Per-config jail, created once per distinct roots list. */
const jails = new WeakMap<readonly string[], Jail>();
export function jailFor(config: ImageSettings): Jail {
  let jail = jails.get(config.roots);
  if (!jail) {
    jail = new Jail(config.roots);
    jails.set(config.roots, jail);
  }
  return jail;
}

/** Extract image bytes from a blob: `{data: base64, ...}`, a bare base64 string, or a data: URL. */
export function decodeImageBlob(
  value: JsonValue,
  blobId: string,
  maxBytes: number,
  field: string,
): Buffer {
  let text: string | undefined;
  if (typeof value === 'string') text = value;
  else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, JsonValue>;
    const encoding = record.encoding;
    if (typeof record.data === 'string' && (encoding === undefined || encoding === 'base64'))
      text = record.data;
  }
  if (text === undefined) {
    throw refused(
      'invalid_image_blob',
      `${field}: blob ${blobId} does not hold an image (expected {"data": "<base64>"} or a base64 string)`,
      { field, blob_id: blobId },
    );
  }
  const body = text.replace(DATA_URL, '');
  const estimated = Math.floor((body.length * 3) / 4);
  if (estimated > maxBytes + 3) {
    throw refused(
      'input_too_large',
      `${field}: blob ${blobId} holds about ${estimated} bytes, over the limit of ${maxBytes}`,
      {
        field,
        blob_id: blobId,
        limit: maxBytes,
        actual: estimated,
      },
    );
  }
  if (!BASE64.test(body)) {
    throw refused('invalid_image_blob', `${field}: blob ${blobId} is not valid base64`, {
      field,
      blob_id: blobId,
    });
  }
  const data = Buffer.from(body, 'base64');
  if (data.length > maxBytes) {
    throw refused(
      'input_too_large',
      `${field}: blob ${blobId} holds ${data.length} bytes, over the limit of ${maxBytes}`,
      {
        field,
        blob_id: blobId,
        limit: maxBytes,
        actual: data.length,
      },
    );
  }
  return data;
}

/** Read an image from a path (inside the roots) or a blob, then check format and header. */
export async function loadImage(
  ref: SourceRef,
  ctx: ComponentContext<ImageSettings>,
  field: { path: string; blob: string },
  options: { enforcePixelLimit?: boolean; fullHeader?: boolean } = {},
): Promise<LoadedImage> {
  const config = ctx.config;
  configureSharp(config.allowedInputFormats, config.threadsPerJob);
  let source: Buffer | string;
  let head: Buffer;
  let size: number;
  let close = () => {};
  let what: string;
  let path: string | undefined;
  if (ref.image_path !== undefined) {
    const jail = jailFor(config);
    what = `${field.path} ${JSON.stringify(ref.image_path)}`;
    if (canOpenByFd()) {
      const file = await jail.openFile(ref.image_path, field.path, config.maxInputBytes);
      ({ source, head, size, close } = {
        source: file.source,
        head: file.head,
        size: file.size,
        close: file.close,
      });
      path = file.path;
    } else {
      const read = await jail.readFile(ref.image_path, field.path, config.maxInputBytes);
      source = head = read.data;
      size = read.data.length;
      path = read.path;
    }
  } else if (ref.image_blob_id !== undefined) {
    const value = await ctx.getBlob(ref.image_blob_id);
    source = head = decodeImageBlob(value, ref.image_blob_id, config.maxInputBytes, field.blob);
    size = source.length;
    what = `${field.blob} ${ref.image_blob_id}`;
  } else {
    throw refused('no_input', `give ${field.path} or ${field.blob}`, { field: field.path });
  }
  try {
    const format = checkFormat(head, config.allowedInputFormats, what);
    const header = await readHeader(source, config, what, {
      enforceLimit: options.enforcePixelLimit ?? true,
      full: options.fullHeader ?? false,
      format,
      head,
    });
    return {
      source,
      size,
      close,
      format,
      header,
      ...(path !== undefined ? { path } : {}),
      ...(ref.image_blob_id !== undefined ? { blobId: ref.image_blob_id } : {}),
    };
  } catch (err) {
    close();
    throw err;
  }
}

/** Store an encoded image as a JSON blob: metadata first, base64 `data` last. */
export async function putImageBlob(
  ctx: ComponentContext<ImageSettings>,
  image: { data: Buffer; format: OutputFormat; width: number; height: number },
): Promise<string> {
  return ctx.putBlob({
    type: 'image',
    format: image.format,
    content_type: CONTENT_TYPES[image.format],
    width: image.width,
    height: image.height,
    size: image.data.length,
    encoding: 'base64',
    data: image.data.toString('base64'),
  });
}

/** `photo.jpg` → `photo_processed.<format>` (the documented default output name). */
export function processedName(path: string, format: OutputFormat): string {
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  const dot = path.lastIndexOf('.');
  const stem = dot > slash + 1 ? path.slice(0, dot) : path;
  return `${stem}_processed.${format}`;
}
