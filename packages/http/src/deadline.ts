import { EventEmitter } from 'node:events';

/**
 * A cheap abort signal for one call. undici accepts an EventEmitter with `aborted`/`reason`
 * as `signal`; AbortController/AbortSignal cost several microseconds per request, which shows
 * at tens of thousands of requests per second.
 */
export class Deadline extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort', reason);
  }
}

const watchers = new WeakMap<AbortSignal, Set<Deadline>>();

/**
 * Abort `deadline` when `signal` aborts. One listener per signal however many calls share it
 * (stdio shares one shutdown signal across all requests); returns the unsubscribe function.
 */
export function linkSignal(signal: AbortSignal | undefined, deadline: Deadline): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    deadline.abort(signal.reason ?? new Error('cancelled'));
    return () => {};
  }
  let set = watchers.get(signal);
  if (!set) {
    const members = new Set<Deadline>();
    set = members;
    watchers.set(signal, members);
    signal.addEventListener(
      'abort',
      () => {
        for (const member of members) member.abort(signal.reason ?? new Error('cancelled'));
        members.clear();
      },
      { once: true },
    );
  }
  set.add(deadline);
  const members = set;
  return () => members.delete(deadline);
}
