/** Something the current call is waiting for: an exchange or a retry delay. */
export interface Cancellable {
  cancel(reason: Error): void;
}

/** The call's deadline passed (as opposed to the request being abandoned). */
export class DeadlineExceeded extends Error {
  constructor() {
    super('deadline exceeded');
    this.name = 'DeadlineExceeded';
  }
}

function expire(control: CallControl): void {
  control.abort(new DeadlineExceeded());
}

/**
 * The one deadline of a call (connect, headers, body, redirects and retries) and its
 * cancellation: aborting cancels whatever the call is waiting for at that moment. A plain
 * object and one timer per call; AbortController/AbortSignal cost several microseconds per
 * request, which shows at tens of thousands of requests per second.
 */
export class CallControl {
  aborted = false;
  reason: Error | undefined = undefined;
  #current: Cancellable | undefined;
  readonly #timer: NodeJS.Timeout;

  constructor(timeoutMs: number) {
    this.#timer = setTimeout(expire, timeoutMs, this);
  }

  /** Make `work` the thing to cancel on abort (cancelled at once if already aborted). */
  track(work: Cancellable): void {
    this.#current = work;
    if (this.aborted) work.cancel(this.reason!);
  }

  abort(reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.#current?.cancel(reason);
  }

  /** The call is over: stop the timer. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#current = undefined;
  }
}

const watchers = new WeakMap<AbortSignal, Set<CallControl>>();

function cancelled(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('cancelled');
}

/**
 * Abort `control` when `signal` aborts. One listener per signal however many calls share it
 * (stdio shares one shutdown signal across all requests); returns the unsubscribe function.
 */
export function linkSignal(signal: AbortSignal | undefined, control: CallControl): () => void {
  if (!signal) return noop;
  if (signal.aborted) {
    control.abort(cancelled(signal));
    return noop;
  }
  let set = watchers.get(signal);
  if (!set) {
    const members = new Set<CallControl>();
    set = members;
    watchers.set(signal, members);
    signal.addEventListener(
      'abort',
      () => {
        for (const member of members) member.abort(cancelled(signal));
        members.clear();
      },
      { once: true },
    );
  }
  set.add(control);
  const members = set;
  return () => members.delete(control);
}

function noop(): void {}
