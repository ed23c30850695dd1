/**
 * Lifeline wrapper: a tiny process that runs a worker and kills the worker's whole process
 * group as soon as the parent that started it is gone — even when the parent was SIGKILLed
 * and the worker is busy — so no worker outlives its runner. The wrapper is started as the
 * process-group leader and passes the worker's exit code or signal on.
 *
 * Modes: `inherit` passes the wrapper's stdin/stdout/stderr straight to the worker (stdio
 * workers: the protocol pipes are the runner's); `devnull` gives the worker /dev/null as stdin
 * (v0.11 subprocess mode) and also treats EOF on the wrapper's own stdin pipe as the parent
 * going away.
 */
const LIFELINE_SCRIPT = `
const { spawn } = require('node:child_process');
const [mode, command, ...args] = process.argv.slice(1);
const parent = process.ppid;
const child = spawn(command, args, { stdio: mode === 'inherit' ? 'inherit' : ['ignore', 'inherit', 'inherit'] });
let stopping = false;
const killGroup = (signal) => { try { process.kill(-process.pid, signal); } catch { child.kill(signal); } };
const stop = () => {
  if (stopping) return;
  stopping = true;
  child.kill('SIGTERM');
  setTimeout(() => killGroup('SIGKILL'), 2000).unref();
};
setInterval(() => { if (process.ppid !== parent) killGroup('SIGKILL'); }, 200).unref();
if (mode === 'devnull') {
  process.stdin.on('data', () => {});
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  // The group is signalled as a whole: the worker handles it, the wrapper waits for its exit.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => {});
}
child.on('error', (err) => { process.stderr.write('lifeline: cannot start ' + command + ': ' + err.message + '\\n'); process.exit(127); });
child.on('exit', (code, signal) => {
  if (signal) {
    // Die the way the worker died, so the parent can report the signal.
    for (const name of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.removeAllListeners(name);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});
`;

export type LifelineMode = 'inherit' | 'devnull';

/** `node` arguments that run `command args…` behind a lifeline. */
export function lifelineArgs(
  mode: LifelineMode,
  command: string,
  args: readonly string[] = [],
): string[] {
  return ['-e', LIFELINE_SCRIPT, mode, command, ...args];
}
