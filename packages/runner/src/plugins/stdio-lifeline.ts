#!/usr/bin/env node
/**
 * Lifeline for stdio workers: runs the worker on our own stdin/stdout/stderr (the protocol
 * pipes pass straight through) and kills the whole process group as soon as our parent (the
 * runner) is gone — even when the runner was SIGKILLed and the worker is busy. The runner
 * starts us as a process-group leader. The worker's exit code or signal is passed on.
 * Usage: node stdio-lifeline.js <command> [args...]
 */
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: stdio-lifeline <command> [args...]\n');
  process.exit(2);
}
const parent = process.ppid;
const child = spawn(command, args, { stdio: 'inherit' });

const killGroup = () => {
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
};
setInterval(() => {
  if (process.ppid !== parent) killGroup();
}, 200);
// The runner signals the whole group; the worker handles it, we wait for it to exit.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => {});
child.on('error', (err) => {
  process.stderr.write(`stdio-lifeline: cannot start ${command}: ${err.message}\n`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});
