import { z } from '@stepflow-packs/core';

/** Options shared by parse_csv and format_csv. */
export const delimiter = z
  .string()
  .min(1)
  .max(8)
  .default(',')
  .describe('Field delimiter (default ",")');
export const quote = z.string().length(1).default('"').describe('Quote character (default ")');

/** Split text into chunks without separating a surrogate pair (so each chunk is valid UTF-16). */
export function* chunksOf(text: string, size = 64 * 1024): Generator<string> {
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    yield text.slice(start, end);
    start = end;
  }
}
