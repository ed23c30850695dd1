#!/usr/bin/env node
/**
 * Lifeline wrapper: runs a worker whose stdin is /dev/null (v0.11 subprocess mode) and kills
 * the worker's whole process group when the parent's pipe on our stdin closes — which also
 * happens when the parent is SIGKILLed, so no worker outlives its runner.
 * Usage: node lifeline.js <command> [args...]
 */
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: lifeline <command> [args...]\n');
  process.exit(2);
}
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let exiting = false;
const killGroup = (signal: NodeJS.Signals) => {
  try {
    // We are the group leader (spawned detached by the client): signal the whole group.
    process.kill(-process.pid, signal);
  } catch {
    child.kill(signal);
  }
};
const stop = () => {
  if (exiting) return;
  exiting = true;
  child.kill('SIGTERM');
  setTimeout(() => killGroup('SIGKILL'), 2000).unref();
};
process.stdin.on('data', () => {});
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
child.on('error', (err) => {
  process.stderr.write(`lifeline: cannot start ${command}: ${err.message}\n`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal ? 128 + 15 : 1));
});
