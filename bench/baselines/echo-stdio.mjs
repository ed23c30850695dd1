// Baseline: the least a stdio JSON-RPC worker can do — parse each line, answer it.
import { createInterface } from 'node:readline';

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const m = JSON.parse(line);
  const { a, b } = m.params.input;
  process.stdout.write(
    JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { output: { sum: a + b } } }) + '\n',
  );
});
