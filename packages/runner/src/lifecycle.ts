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
