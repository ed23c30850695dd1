import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { json } from './server.js';

/**
 * Routes of the in-test fixture server:
 * /json, /text, /binary, /empty, /echo, /cookie, /gzip-json, /big?bytes=N, /status/N,
 * /redirect/CODE?to=URL, /chain/N (N redirects then JSON), /flaky/ID?fail=N&status=S,
 * /retry-after/S, /hang, /chunked?bytes=N (no Content-Length), /gzip-big?bytes=N (inflates to N),
 * /redirect-big?bytes=N (302 to /json with an N-byte body), /early-hints (103 then JSON).
 */
export function routes(): (req: IncomingMessage, res: ServerResponse, body: string) => void {
  const flaky = new Map<string, number>();
  return (req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    const parts = url.pathname.split('/').filter(Boolean);
    switch (parts[0]) {
      case 'json':
        return json(res, { hello: 'world', n: 1 });
      case 'text':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        return res.end('plain text é');
      case 'binary':
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return res.end(Buffer.from([0xff, 0x00, 0xfe, 0x80]));
      case 'empty':
        res.writeHead(204);
        return res.end();
      case 'echo':
        return json(res, {
          method: req.method,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: req.headers,
          body,
        });
      case 'cookie':
        return json(res, { ok: true }, 200, { 'set-cookie': 'session=s3cr3t; HttpOnly' });
      case 'gzip-json': {
        const payload = gzipSync(JSON.stringify({ compressed: true }));
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          'content-length': payload.length,
        });
        return res.end(payload);
      }
      case 'bad-gzip':
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        return res.end('this is not gzip');
      case 'head-big':
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': 99_999_999,
        });
        return res.end(req.method === 'HEAD' ? undefined : 'x');
      case 'big': {
        const bytes = Number(url.searchParams.get('bytes') ?? '2048');
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': bytes });
        return res.end('x'.repeat(bytes));
      }
      case 'status': {
        const status = Number(parts[1]);
        return json(res, { status }, status);
      }
      case 'redirect': {
        res.writeHead(Number(parts[1]), { location: url.searchParams.get('to') ?? '/json' });
        return res.end();
      }
      case 'chain': {
        const n = Number(parts[1]);
        if (n <= 0) return json(res, { chain: 'done' });
        res.writeHead(302, { location: `/chain/${n - 1}` });
        return res.end();
      }
      case 'flaky': {
        const id = parts[1] ?? '';
        const seen = (flaky.get(id) ?? 0) + 1;
        flaky.set(id, seen);
        const fail = Number(url.searchParams.get('fail') ?? '2');
        if (seen <= fail)
          return json(res, { attempt: seen }, Number(url.searchParams.get('status') ?? '503'));
        return json(res, { attempt: seen, ok: true });
      }
      case 'retry-after':
        return json(res, { busy: true }, 503, { 'retry-after': parts[1] ?? '3600' });
      case 'hang':
        return; // never answers
      case 'chunked': {
        const bytes = Number(url.searchParams.get('bytes') ?? '2048');
        res.writeHead(200, { 'content-type': 'text/plain' });
        for (let sent = 0; sent < bytes; sent += 512)
          res.write('x'.repeat(Math.min(512, bytes - sent)));
        return res.end();
      }
      case 'gzip-big': {
        const payload = gzipSync(Buffer.alloc(Number(url.searchParams.get('bytes') ?? '2048')));
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-encoding': 'gzip',
          'content-length': payload.length,
        });
        return res.end(payload);
      }
      case 'redirect-big': {
        const bytes = Number(url.searchParams.get('bytes') ?? '2048');
        res.writeHead(302, { location: '/json', 'content-length': bytes });
        return res.end('x'.repeat(bytes));
      }
      case 'early-hints':
        res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
        return json(res, { hinted: true });
      default:
        return json(res, { error: 'not found' }, 404);
    }
  };
}
