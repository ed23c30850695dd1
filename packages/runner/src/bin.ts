#!/usr/bin/env node
import { main } from './cli.js';
import { installSignalHandlers } from './lifecycle.js';

installSignalHandlers();
const code = await main(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  cwd: process.cwd(),
});
process.exitCode = code;
