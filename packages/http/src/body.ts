import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { BadRequestError, ComponentValueError } from '@stepflow-packs/core';

export class ResponseTooLargeError extends BadRequestError {
  constructor(limit: number, actual: number, declared: boolean) {
    super(
      `The response body exceeds the ${limit}-byte limit${declared ? ' (Content-Length)' : ' after decompression'}`,
      { reason: 'response_too_large', limit, actual, ...(declared ? { declared: true } : {}) },
    );
    this.name = 'ResponseTooLargeError';
  }
}

const noop = () => {};

/** The body does not decode as its Content-Encoding says (corrupt gzip, deflate or br). */
export class BodyDecodeError extends ComponentValueError {
  constructor(encoding: string) {
    super(`The response body could not be decoded as ${encoding}`, {
      reason: 'decode_failed',
      content_encoding: encoding,
    });
    this.name = 'BodyDecodeError';
  }
}

function decoderFor(coding: string): NodeJS.ReadWriteStream | undefined {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return undefined;
  }
}

/**
 * Read a response body into memory, decoding Content-Encoding (gzip, deflate, br) on the way.
 * The limit applies to the decoded bytes, so a compression bomb stops at the limit. The body
 * is always either read to its end (the socket returns to the pool) or destroyed.
 */
export async function readBody(
  body: Readable,
  options: {
    limit: number;
    contentEncoding?: string | undefined;
    contentLength?: string | undefined;
  },
): Promise<Buffer> {
  const codings = (options.contentEncoding ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c && c !== 'identity');
  const decoders = [...codings].reverse().map(decoderFor);
  const decodable =
    decoders.length > 0 && decoders.length <= 3 && decoders.every((d) => d !== undefined);
  // Destroying an unfinished undici body emits an abort error: nobody needs to hear it.
  body.on('error', noop);
  const declared = Number(options.contentLength);
  if (!decodable && Number.isFinite(declared) && declared > options.limit) {
    body.destroy();
    throw new ResponseTooLargeError(options.limit, declared, true);
  }
  let source: Readable = body;
  if (decodable) {
    const stages = decoders as NodeJS.ReadWriteStream[];
    source = stages[stages.length - 1] as unknown as Readable;
    pipeline([body, ...stages] as unknown as [Readable, NodeJS.ReadWriteStream], () => {});
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    // Plain listeners rather than an async iterator: this runs once per response.
    await new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        source.off('data', onData);
        source.off('end', onEnd);
        source.off('error', onError);
        source.off('close', onClose);
      };
      const onData = (chunk: Buffer) => {
        total += chunk.length;
        if (total > options.limit) {
          cleanup();
          reject(new ResponseTooLargeError(options.limit, total, false));
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = () => {
        cleanup();
        resolve();
      };
      const onError = (err: Error & { code?: unknown }) => {
        cleanup();
        // zlib reports corrupt input as Z_DATA_ERROR / Z_BUF_ERROR / ERR_BROTLI_*: a value
        // error of the response, not a network failure.
        const zlib = typeof err.code === 'string' && /^(Z_|ERR_BROTLI|ERR__ZLIB)/.test(err.code);
        reject(source !== body && zlib ? new BodyDecodeError(codings.join(', ')) : err);
      };
      const onClose = () => {
        cleanup();
        reject(
          Object.assign(new Error('the response body ended prematurely'), {
            code: 'UND_ERR_SOCKET',
          }),
        );
      };
      source.on('data', onData);
      source.once('end', onEnd);
      source.once('error', onError);
      source.once('close', onClose);
    });
  } finally {
    if (!body.readableEnded) body.destroy();
    if (source !== body && !source.destroyed) source.destroy();
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

/** Throw away a body we do not need (redirects): read a little for keep-alive, else close. */
export async function discardBody(
  body: Readable & { dump?: (opts?: { limit?: number }) => Promise<void> },
): Promise<void> {
  body.on('error', noop);
  try {
    if (typeof body.dump === 'function') await body.dump({ limit: 64 * 1024 });
    else body.destroy();
  } catch {
    body.destroy();
  }
}
