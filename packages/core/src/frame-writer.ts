/**
 * Coalesces the frames produced in one turn of the event loop into a single write (one
 * syscall instead of one per frame), which matters when many requests are in flight.
 */
export class FrameWriter {
  readonly #write: (chunk: string) => boolean;
  readonly #onBackpressure: (() => void) | undefined;
  #queue: string[] = [];
  #scheduled = false;

  constructor(write: (chunk: string) => boolean, onBackpressure?: () => void) {
    this.#write = write;
    this.#onBackpressure = onBackpressure;
  }

  /** Queue one frame (without its newline); it is written at the end of this loop turn. */
  push(frame: string): void {
    this.#queue.push(frame);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Write everything queued now. */
  readonly flush = (): void => {
    this.#scheduled = false;
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    const chunk = queue.length === 1 ? `${queue[0]}\n` : `${queue.join('\n')}\n`;
    if (!this.#write(chunk)) this.#onBackpressure?.();
  };
}
