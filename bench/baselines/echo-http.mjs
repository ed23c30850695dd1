// Baseline: the least an HTTP JSON-RPC worker can do — node:http, parse the body, answer it.
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const m = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const { a, b } = m.params.input;
    const body = JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { output: { sum: a + b } } });
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () =>
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'),
);
