import { BadRequestError, ComponentValueError, oneSentence } from '@stepflow-packs/core';

/** -32103: refused by policy (roots, limits, formats). `reason` is machine-readable. */
export function refused(
  reason: string,
  message: string,
  data: Record<string, unknown> = {},
): BadRequestError {
  return new BadRequestError(message, { reason, ...data });
}

/** Quote a user-supplied path for a message (bounded, control characters escaped). */
export function showPath(path: string): string {
  const shown = path.length > 300 ? `${path.slice(0, 299)}…` : path;
  return JSON.stringify(shown);
}

/**
 * Map an error thrown by sharp/libvips to the error contract: limits and unsupported inputs are
 * -32103, everything else about the pixels (corrupt data, truncated files) is -32101.
 */
export function fromSharpError(
  err: unknown,
  limits: { maxInputPixels: number; timeoutSeconds: number },
): Error {
  if (!(err instanceof Error))
    return new ComponentValueError('Image processing failed', { reason: 'processing_failed' });
  if ('code' in err && typeof err.code === 'number') return err; // already an RpcError
  const text = err.message;
  if (/exceeds pixel limit/i.test(text)) {
    return refused('pixel_limit', `The image exceeds the pixel limit of ${limits.maxInputPixels}`, {
      limit: limits.maxInputPixels,
    });
  }
  if (/timeout/i.test(text)) {
    return refused(
      'processing_timeout',
      `Image processing took longer than ${limits.timeoutSeconds} s`,
      {
        limit: limits.timeoutSeconds,
      },
    );
  }
  if (/unsupported image format/i.test(text)) {
    return refused('unsupported_format', 'The input is not an image in an allowed format');
  }
  if (/composite must have same dimensions or smaller/i.test(text)) {
    return refused(
      'watermark_too_large',
      'The watermark is larger than the image it is composited onto',
    );
  }
  if (/bad extract area/i.test(text)) {
    return refused('crop_out_of_bounds', 'The crop area lies outside the image');
  }
  return new ComponentValueError(`Image processing failed: ${oneSentence(text, 200)}`, {
    reason: 'processing_failed',
  });
}
