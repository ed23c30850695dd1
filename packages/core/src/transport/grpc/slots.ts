/**
 * A counting semaphore with a FIFO of waiters: at most `size` holders at once. The pull loop
 * takes a slot before it reads the next task, so a busy worker stops reading its stream.
 */
export class Slots {
  readonly size: number;
  #busy = 0;
  readonly #waiters: (() => void)[] = [];
  #head = 0;
  #idle: (() => void)[] = [];

  constructor(size: number) {
    if (!Number.isSafeInteger(size) || size < 1)
      throw new RangeError(`slots must be ≥ 1, got ${size}`);
    this.size = size;
  }

  get busy(): number {
    return this.#busy;
  }

  /** Take a slot if one is free (no promise): false when every slot is busy. */
  tryAcquire(): boolean {
    if (this.#busy >= this.size) return false;
    this.#busy++;
    return true;
  }

  acquire(): Promise<void> {
    if (this.#busy < this.size) {
      this.#busy++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    if (this.#head < this.#waiters.length) {
      const next = this.#waiters[this.#head]!;
      this.#waiters[this.#head++] = noop;
      if (this.#head > 1024 && this.#head * 2 > this.#waiters.length) {
        this.#waiters.splice(0, this.#head);
        this.#head = 0;
      }
      next(); // the slot passes straight to the next waiter
      return;
    }
    this.#busy--;
    if (this.#busy === 0) {
      const idle = this.#idle;
      this.#idle = [];
      for (const resolve of idle) resolve();
    }
  }

  /** Resolves once no slot is held. */
  whenIdle(): Promise<void> {
    return this.#busy === 0
      ? Promise.resolve()
      : new Promise((resolve) => this.#idle.push(resolve));
  }
}

function noop(): void {}
