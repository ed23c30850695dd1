#!/usr/bin/env node
/**
 * Fixture HTTP server for the http pack's workflow tests. Listens on 127.0.0.1 and the port
 * given as `--port N` (0 = ephemeral; the bound port is printed as {"port":N}).
 *
 * Routes:
 *   GET  /health               200 {"status":"ok"}
 *   GET  /json                 a small JSON document
 *   GET  /text                 text/plain
 *   ANY  /echo                 {method, path, query, content_type, body} of the request
 *   GET  /status/N             status N with {"status": N}
 *   GET  /redirect?to=P&code=C redirect (default 302) to P (default /json)
 *   GET  /chain/N              N redirects, then {"chain":"done"}
 *   ANY  /flaky/ID?fail=N&status=S   S (default 503) for the first N (default 2) requests with
 *                              that ID, then 200 {"id", "attempt"}: IDs keep tests independent
 *   GET  /payload?kib=N        a JSON document of about N KiB (default 64), deterministic
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
const flaky = new Map();

function send(res, status, value, headers = {}) {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

function payload(kib) {
  const items = [];
  let size = 0;
  for (let i = 0; size < kib * 1024; i++) {
    const item = {
      id: i,
      name: `item-${String(i).padStart(5, '0')}`,
      tags: ['fixture', i % 2 === 0 ? 'even' : 'odd'],
    };
    size += JSON.stringify(item).length + 1;
    items.push(item);
  }
  return { count: items.length, items };
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    const parts = url.pathname.split('/').filter(Boolean);
    switch (parts[0]) {
      case 'health':
        return send(res, 200, { status: 'ok' });
      case 'json':
        return send(res, 200, {
          message: 'hello',
          items: [
            { id: 1, name: 'alpha' },
            { id: 2, name: 'beta' },
          ],
        });
      case 'text':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        return res.end('hello from the fixture');
      case 'echo':
        return send(res, 200, {
          method: req.method,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          content_type: req.headers['content-type'] ?? null,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      case 'status': {
        const status = Number(parts[1]) || 500;
        return send(res, status, { status });
      }
      case 'redirect':
        res.writeHead(Number(url.searchParams.get('code') ?? 302), {
          location: url.searchParams.get('to') ?? '/json',
        });
        return res.end();
      case 'chain': {
        const n = Number(parts[1] ?? 0);
        if (n <= 0) return send(res, 200, { chain: 'done' });
        res.writeHead(302, { location: `/chain/${n - 1}` });
        return res.end();
      }
      case 'flaky': {
        const id = parts[1] ?? '';
        const attempt = (flaky.get(id) ?? 0) + 1;
        flaky.set(id, attempt);
        const fail = Number(url.searchParams.get('fail') ?? 2);
        if (attempt <= fail)
          return send(res, Number(url.searchParams.get('status') ?? 503), { id, attempt });
        return send(res, 200, { id, attempt });
      }
      case 'payload':
        return send(res, 200, payload(Number(url.searchParams.get('kib') ?? 64)));
      default:
        return send(res, 404, { error: 'not found', path: url.pathname });
    }
  });
});

server.listen(Number(values.port), values.host, () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
