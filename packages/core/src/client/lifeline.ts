/**
 * Lifeline wrapper, run as `node -e LIFELINE_SCRIPT <command> [args...]`: starts a worker whose
 * stdin is /dev/null (v0.11 subprocess mode) and kills the worker's whole process group when
 * the parent's pipe on the wrapper's stdin closes — which also happens when the parent is
 * SIGKILLed, so no worker outlives its runner. The wrapper is the process-group leader.
 */
export const LIFELINE_SCRIPT = `
const { spawn } = require('node:child_process');
const [command, ...args] = process.argv.slice(1);
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let stopping = false;
const killGroup = (signal) => { try { process.kill(-process.pid, signal); } catch { child.kill(signal); } };
const stop = () => {
  if (stopping) return;
  stopping = true;
  child.kill('SIGTERM');
  setTimeout(() => killGroup('SIGKILL'), 2000).unref();
};
process.stdin.on('data', () => {});
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
child.on('error', (err) => { process.stderr.write('lifeline: cannot start ' + command + ': ' + err.message + '\\n'); process.exit(127); });
child.on('exit', (code, signal) => {
  if (signal) {
    // Die the way the worker died, so the parent can report the signal.
    process.removeAllListeners('SIGTERM');
    process.removeAllListeners('SIGINT');
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});
`;
