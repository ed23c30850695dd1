#!/usr/bin/env node
import { main } from './cli.js';
import { exitQuietlyOnBrokenPipe, installSignalHandlers } from './lifecycle.js';

installSignalHandlers();
exitQuietlyOnBrokenPipe();
const code = await main(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  cwd: process.cwd(),
  // Touched only when `run` reads its input from stdin.
  stdin: {
    get isTTY() {
      return process.stdin.isTTY;
    },
    [Symbol.asyncIterator]: () => process.stdin[Symbol.asyncIterator](),
    destroy: () => void process.stdin.destroy(),
  },
});
process.exitCode = code;
