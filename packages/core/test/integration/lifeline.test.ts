import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIXTURE_BIN } from '../helpers/workers.js';

const CLIENT = fileURLToPath(new URL('../../dist/client/index.js', import.meta.url));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A parent process that starts a busy worker through core/client, then waits forever. */
function parentScript(transport: 'stdio' | 'http-subprocess'): string {
  return `
    import { startWorker } from ${JSON.stringify(CLIENT)};
    import { execSync } from 'node:child_process';
    const worker = await startWorker(
      { transport: ${JSON.stringify(transport)}, command: process.execPath, args: [${JSON.stringify(FIXTURE_BIN)}], env: { PATH: process.env.PATH }, lifeline: true },
      { dialect: 'v0.8' },
    );
    worker.execute('/echo', { payload: 1, delay_ms: 60000 }).catch(() => {});
    const real = execSync('pgrep -P ' + worker.pid).toString().trim().split('\\n').map(Number);
    process.stdout.write(JSON.stringify([worker.pid, ...real]) + '\\n');
    setInterval(() => {}, 1000);
  `;
}

describe('lifeline', () => {
  it.each(['stdio', 'http-subprocess'] as const)(
    'leaves no %s worker alive 5 s after its parent is SIGKILLed mid-request',
    async (transport) => {
      const parent = spawn(
        process.execPath,
        ['--input-type=module', '-e', parentScript(transport)],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const pids = await new Promise<number[]>((resolve, reject) => {
        parent.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()) as number[]));
        parent.once('exit', () => reject(new Error('parent exited early')));
      });
      expect(pids.length).toBeGreaterThanOrEqual(2);
      expect(pids.every(alive)).toBe(true);
      parent.kill('SIGKILL');
      const deadline = Date.now() + 5000;
      while (pids.some(alive) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(pids.filter(alive)).toEqual([]);
    },
  );
});
