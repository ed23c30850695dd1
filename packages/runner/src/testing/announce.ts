import type { ServerSpec } from './cases.js';
import type { RunningServer } from './servers.js';

/** Whether one of the server's output lines is the `{"port":N}` announcement of its port. */
function announced(server: RunningServer): boolean {
  return server.output.some((line) => {
    const text = line.trim();
    if (!text.startsWith('{')) return false;
    try {
      const value = JSON.parse(text) as { port?: unknown };
      return value.port === server.port;
    } catch {
      return false;
    }
  });
}

/**
 * The runner's `startServers` calls a test server ready once its port accepts connections.
 * PostgreSQL accepts them before it can serve ("the database system is starting up"), which
 * on a busy machine failed every query of a file. Both fixture servers (embedded-pg.mjs,
 * fixture-server.mjs) print `{"port":N}` only when ready, so wait for that line too (up to the
 * server's `startupTimeoutMs`); a server that never prints one is used after the timeout, with
 * a warning.
 */
export async function awaitAnnouncements(
  servers: RunningServer[],
  specs: ServerSpec[],
  warn: (message: string) => void,
): Promise<void> {
  await Promise.all(
    servers.map(async (server) => {
      const timeoutMs = specs.find((s) => s.name === server.name)?.startupTimeoutMs ?? 10_000;
      const deadline = Date.now() + timeoutMs;
      while (!announced(server)) {
        if (server.child.exitCode !== null || server.child.signalCode !== null)
          throw new Error(
            `test server "${server.name}" exited: ${server.output.slice(-10).join(' | ')}`,
          );
        if (Date.now() > deadline) {
          warn(
            `test server "${server.name}" printed no {"port":${server.port}} line within ${timeoutMs} ms; using it anyway`,
          );
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }),
  );
}
