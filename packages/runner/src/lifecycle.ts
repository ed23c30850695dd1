/**
 * Everything that must be stopped when the runner is interrupted (workers, test servers).
 * SIGINT/SIGTERM close all of them within 5 s, then the process exits.
 */
type Closer = () => Promise<void>;

const closers = new Set<Closer>();

export function track(closer: Closer): () => void {
  closers.add(closer);
  return () => closers.delete(closer);
}

export async function closeAll(timeoutMs = 4500): Promise<void> {
  const all = [...closers];
  closers.clear();
  await Promise.race([
    Promise.allSettled(all.map((c) => c())),
    new Promise((r) => setTimeout(r, timeoutMs).unref()),
  ]);
}

let installed = false;

export function installSignalHandlers(onSignal?: (signal: NodeJS.Signals) => void): void {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      onSignal?.(signal);
      // A second signal forces exit at once.
      process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
      void closeAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}

/** Exit code when stdout was closed early (a process killed by SIGPIPE exits 128 + 13). */
export const BROKEN_PIPE_EXIT = 141;

/**
 * Writing to a closed stdout (`stepflow-packs test | head -1`) ends the runner quietly: workers
 * and test servers are stopped, nothing is printed, the exit code is 141. Errors of a closed
 * stderr are ignored.
 */
export function exitQuietlyOnBrokenPipe(): void {
  let closing = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    if (closing) return;
    closing = true;
    void closeAll().finally(() => process.exit(BROKEN_PIPE_EXIT));
  });
  process.stderr.on('error', () => {
    /* nowhere left to report it */
  });
}
