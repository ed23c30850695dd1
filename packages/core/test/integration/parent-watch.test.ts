import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnRaw, type RawWorker } from '../helpers/raw.js';
import { goneWithin } from '../helpers/processes.js';
import { FIXTURE_BIN } from '../helpers/workers.js';

const STARTER = fileURLToPath(new URL('../fixtures/http-starter.mjs', import.meta.url));

const leftovers: number[] = [];
const starters: RawWorker[] = [];
afterAll(() => {
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const s of starters) s.child.kill('SIGKILL');
});

/** Start the fixture pack in HTTP mode behind the starter; resolves once it is listening. */
async function startBehind(
  mode: 'direct' | 'via-launcher',
  env: Record<string, string> = {},
  args: string[] = [],
): Promise<{ starter: RawWorker; worker: number }> {
  const starter = spawnRaw(
    [mode, FIXTURE_BIN, '--transport', 'http', '--port', '0', ...args],
    env,
    STARTER,
  );
  starters.push(starter);
  const worker = JSON.parse(await starter.waitFor((l) => l.startsWith('{"worker":')))
    .worker as number;
  leftovers.push(worker);
  await starter.waitFor((l) => l.startsWith('{"port":'));
  return { starter, worker };
}

describe('an HTTP worker started as a subprocess (stdin /dev/null) whose starter dies', () => {
  it('exits within 5 s after its parent is SIGKILLed', async () => {
    const { starter, worker } = await startBehind('direct');
    starter.child.kill('SIGKILL');
    const gone = await goneWithin(worker, 5000);
    expect(gone, 'worker still alive 5 s after its parent was SIGKILLed').toBeDefined();
    expect(gone!).toBeLessThan(5000);
  });

  it('exits within 5 s when the runtime above an npx-like launcher (which passes no signal on) is SIGKILLed', async () => {
    const { starter, worker } = await startBehind('via-launcher');
    starter.child.kill('SIGKILL');
    const gone = await goneWithin(worker, 5000);
    expect(gone, 'worker still alive 5 s after the runtime was SIGKILLed').toBeDefined();
  });

  it.each([
    ['STEPFLOW_EXIT_WITH_PARENT=false', { STEPFLOW_EXIT_WITH_PARENT: 'false' }, []],
    ['--no-exit-with-parent', {}, ['--no-exit-with-parent']],
  ])('keeps serving when disabled with %s (remote deployments)', async (_name, env, args) => {
    const { starter, worker } = await startBehind('direct', env, args);
    starter.child.kill('SIGKILL');
    // Four polling periods of the watcher.
    expect(await goneWithin(worker, 2000)).toBeUndefined();
    process.kill(worker, 'SIGTERM');
    expect(await goneWithin(worker, 5000)).toBeDefined();
  });

  it('refuses an invalid STEPFLOW_EXIT_WITH_PARENT at start-up with exit code 1', async () => {
    const w = spawnRaw(['--http'], { STEPFLOW_EXIT_WITH_PARENT: 'maybe' });
    expect((await w.exit).code).toBe(1);
    expect(w.stderr()).toContain('STEPFLOW_EXIT_WITH_PARENT');
  });
});
