import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MemoryBlobStore } from '../blobs.js';
import type { BlobType } from '../component.js';
import type { JsonValue } from '../protocol.js';

export interface BlobApiServer {
  /** Base URL to advertise as `capabilities.blobApiUrl`. */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

const MAX_BLOB_BYTES = 256 * 1024 * 1024;
const BLOB_TYPES = new Set(['data', 'flow', 'binary']);

/**
 * The v0.11 runtime's Blob HTTP API (`POST /blobs`, `GET /blobs/{id}`) served on 127.0.0.1 from a
 * memory store: `POST {base}` stores JSON or raw bytes, `GET {base}/{id}` reads.
 */
export async function serveBlobApi(
  store: MemoryBlobStore,
  options: { port?: number } = {},
): Promise<BlobApiServer> {
  const prefix = '/api/v1/blobs';
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    const path = (req.url ?? '').split('?', 1)[0]!;
    if (req.method === 'POST' && (path === prefix || path === `${prefix}/`)) {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BLOB_BYTES) {
          send(413, { code: 413, message: 'Blob too large' });
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (res.headersSent) return;
        const body = Buffer.concat(chunks);
        const type = req.headers['content-type'] ?? 'application/json';
        if (type.startsWith('application/octet-stream')) {
          const blobId = store.putBinary(body);
          return send(200, { blobId });
        }
        let parsed: { data?: JsonValue; blobType?: string; filename?: string };
        try {
          parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
        } catch {
          return send(400, { code: 400, message: 'Body is not valid JSON' });
        }
        const blobType = parsed.blobType ?? 'data';
        if (!BLOB_TYPES.has(blobType))
          return send(400, { code: 400, message: `Unknown blobType ${blobType}` });
        const blobId = store.putSync(parsed.data ?? null, blobType as BlobType | 'binary');
        return send(200, parsed.filename ? { blobId, filename: parsed.filename } : { blobId });
      });
      return;
    }
    if (req.method === 'GET' && path.startsWith(`${prefix}/`)) {
      const id = decodeURIComponent(path.slice(prefix.length + 1));
      const blob = store.lookup(id);
      if (!blob) return send(404, { code: 404, message: `Blob '${id}' not found` });
      if ((req.headers.accept ?? '').includes('application/octet-stream')) {
        const bytes = blob.bytes ?? Buffer.from(JSON.stringify(blob.data));
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'x-blob-type': blob.type,
          'content-length': bytes.length,
        });
        return res.end(bytes);
      }
      if (blob.type === 'binary')
        return send(500, { code: 500, message: 'Binary blobs cannot be read as JSON' });
      return send(200, { data: blob.data, blobType: blob.type, blobId: id });
    }
    send(404, { code: 404, message: 'Not found' });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
