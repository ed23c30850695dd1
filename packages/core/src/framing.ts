/**
 * Newline-delimited framing on raw bytes, as the stdio transport frames messages. Splits on `\n`,
 * drops a trailing `\r`, decodes UTF-8 only at line boundaries and never buffers more than
 * `maxBytes` of one frame: an oversize frame is discarded as it streams past, keeping only its
 * first bytes so the request id can still be recovered.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
const HEAD_BYTES = 4096;

export interface FramerHandlers {
  line(text: string): void;
  /** A frame longer than the limit: its first bytes (decoded) and its total size. */
  oversize(head: string, size: number): void;
}

export class LineFramer {
  readonly #max: number;
  readonly #handlers: FramerHandlers;
  #chunks: Buffer[] = [];
  #size = 0;
  #discarding = false;
  #head: Buffer = Buffer.alloc(0);

  constructor(maxBytes: number, handlers: FramerHandlers) {
    this.#max = maxBytes;
    this.#handlers = handlers;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start <= chunk.length) {
      const newline = chunk.indexOf(10, start);
      const end = newline < 0 ? chunk.length : newline;
      const piece = chunk.subarray(start, end);
      if (this.#discarding) {
        this.#size += piece.length;
      } else if (this.#size + piece.length > this.#max) {
        this.#startDiscarding(piece);
      } else if (piece.length > 0) {
        this.#chunks.push(piece);
        this.#size += piece.length;
      }
      if (newline < 0) return;
      this.#finishFrame();
      start = newline + 1;
    }
  }

  /** End of input: a final unterminated frame is still delivered. */
  end(): void {
    if (this.#size > 0 || this.#discarding) this.#finishFrame();
  }

  #startDiscarding(piece: Buffer): void {
    const parts = [...this.#chunks, piece];
    const head = Buffer.concat(parts, Math.min(HEAD_BYTES, this.#size + piece.length));
    this.#head = head.subarray(0, HEAD_BYTES);
    this.#size += piece.length;
    this.#chunks = [];
    this.#discarding = true;
  }

  #finishFrame(): void {
    if (this.#discarding) {
      const head = this.#head.toString('utf8');
      const size = this.#size;
      this.#reset();
      this.#handlers.oversize(head, size);
      return;
    }
    const buffer =
      this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#size);
    this.#reset();
    let end = buffer.length;
    if (end > 0 && buffer[end - 1] === 13) end--;
    if (end === 0) return;
    this.#handlers.line(buffer.toString('utf8', 0, end));
  }

  #reset(): void {
    this.#chunks = [];
    this.#size = 0;
    this.#discarding = false;
    this.#head = Buffer.alloc(0);
  }
}
