/** The largest flow input `run` reads from stdin. */
export const STDIN_LIMIT_BYTES = 64 * 1024 * 1024;

/** What `run` reads its input from when no input flag is given. */
export interface InputStream extends AsyncIterable<Buffer | string> {
  /** True for a terminal: nothing is read (a prompt would hang). */
  readonly isTTY?: boolean;
  destroy?(): void;
}

export class StdinTooLargeError extends Error {
  constructor(limit: number) {
    super(
      `stdin: the input is larger than ${limit / (1024 * 1024)} MiB; pass it with --input <FILE> instead`,
    );
    this.name = 'StdinTooLargeError';
  }
}

/**
 * Read all of `stream` as UTF-8 text, failing once more than `limit` bytes arrive; undefined for
 * a terminal (nothing is read).
 */
export async function readBoundedText(
  stream: InputStream,
  limit = STDIN_LIMIT_BYTES,
): Promise<string | undefined> {
  if (stream.isTTY) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > limit) {
      stream.destroy?.();
      throw new StdinTooLargeError(limit);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
