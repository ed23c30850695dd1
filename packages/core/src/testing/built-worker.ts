import { existsSync } from 'node:fs';
import { startWorker, type WorkerClient, type WorkerOptions } from '../client/index.js';

export interface BuiltWorkerOptions extends WorkerOptions {
  /** Extra arguments after `--transport …`. */
  args?: string[];
  /** Environment on top of `PATH` and `STEPFLOW_LOG_LEVEL=warn`. */
  env?: Record<string, string>;
}

/**
 * Start a pack's built binary (`dist/bin.js`) as a real subprocess through core/client, over
 * stdio or as an HTTP subprocess on an ephemeral port — how integration tests talk to a pack.
 * Fails with a clear message when the binary has not been built.
 */
export async function startBuiltWorker(
  bin: string,
  transport: 'stdio' | 'http-subprocess',
  options: BuiltWorkerOptions,
): Promise<WorkerClient> {
  if (!existsSync(bin)) {
    throw new Error(`${bin} is missing: build the package first (npx tsc -p tsconfig.build.json)`);
  }
  const { args = [], env = {}, ...workerOptions } = options;
  return startWorker(
    {
      transport,
      command: process.execPath,
      args: [bin, '--transport', transport === 'stdio' ? 'stdio' : 'http', ...args],
      env: { PATH: process.env.PATH ?? '', STEPFLOW_LOG_LEVEL: 'warn', ...env },
    },
    workerOptions,
  );
}
