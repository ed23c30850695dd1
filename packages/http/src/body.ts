import type { Transform } from 'node:stream';
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

function decoderFor(coding: string): Transform | undefined {
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

/** A chain of zlib stages undoing a Content-Encoding: write to `input`, read from `output`. */
export interface Decoder {
  readonly input: Transform;
  readonly output: Transform;
  /** The codings, as announced (for error messages). */
  readonly codings: string;
  /** Called once with the first error of any stage. */
  onError: (err: Error) => void;
  /** The input is waiting for 'drain' (the response is paused). */
  waiting: boolean;
  destroy(): void;
}

/**
 * Decoders for a Content-Encoding value (gzip, deflate, br; up to three layers), or undefined
 * when it names only identity, an unknown coding or too many layers (the body is then taken
 * as it is, bounded on its raw size).
 */
export function decodersFor(contentEncoding: string): Decoder | undefined {
  const codings = contentEncoding
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c && c !== 'identity');
  if (codings.length === 0 || codings.length > 3) return undefined;
  const stages: Transform[] = [];
  for (let i = codings.length - 1; i >= 0; i--) {
    const stage = decoderFor(codings[i]!);
    if (!stage) return undefined;
    stages.push(stage);
  }
  for (let i = 0; i + 1 < stages.length; i++) stages[i]!.pipe(stages[i + 1]!);
  const decoder: Decoder = {
    input: stages[0]!,
    output: stages[stages.length - 1]!,
    codings: codings.join(', '),
    onError: noop,
    waiting: false,
    destroy() {
      for (const stage of stages) if (!stage.destroyed) stage.destroy();
    },
  };
  let failed = false;
  for (const stage of stages) {
    stage.on('error', (err: Error) => {
      if (failed) return;
      failed = true;
      decoder.onError(err);
    });
  }
  return decoder;
}
