import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ConnectionState, Dispatcher, Session } from '../dispatcher.js';
import { TransportError } from '../errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../framing.js';
import { encodeError, toAsciiJson } from '../json.js';
import type { Logger } from '../logger.js';
import { JsonRpcPeer } from '../peer.js';
import {
  classifyMessage,
  ErrorCodes,
  recoverId,
  type RequestId,
  type RequestMessage,
  type RpcErrorObject,
} from '../protocol.js';

export interface HttpServerOptions {
  host?: string;
  port?: number;
  log: Logger;
  /** Permit binding to a non-loopback address (prints a warning). */
  allowRemote?: boolean;
  /** Extra Host names accepted besides localhost/127.0.0.1/::1 (port-agnostic). */
  allowedHosts?: readonly string[];
  /** Origins accepted; any other Origin header gets 403. */
  allowedOrigins?: readonly string[];
  /** When set, POSTs must carry `Authorization: Bearer <token>`. */
  authToken?: string;
  maxBodyBytes?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  callbackTimeoutMs?: number;
  /** Called once when listening, with the bound port (prints the port line in the CLI). */
  onListening?(port: number): void;
}

export interface HttpServer {
  readonly server: Server;
  readonly port: number;
  /** Stop accepting, let in-flight requests finish within `graceMs`, then close everything. */
  close(graceMs?: number): Promise<void>;
}

/**
 * One request/response exchange, seen by the dispatcher as its Session. Built per request, so
 * it is a plain class: the abort signal is created only when a component reads it, and the
 * answer switches to SSE only when the component calls back into the runtime.
 */
class Exchange implements Session {
  readonly transport = 'http' as const;
  readonly call: Session['call'];
  #signal: AbortSignal | undefined;
  #sse = false;

  constructor(
    private readonly res: ServerResponse,
    canCallBack: boolean,
    private readonly shutdown: AbortSignal,
    /** Correlates callbacks with the runtime's answers, which arrive as separate POSTs. */
    private readonly peer: JsonRpcPeer,
    private readonly instanceId: string,
    readonly connection: ConnectionState,
  ) {
    this.call = canCallBack
      ? (method, params, signal) => this.#callBack(method, params, signal)
      : undefined;
  }

  get signal(): AbortSignal {
    if (!this.#signal) {
      const abort = new AbortController();
      const res = this.res;
      if (res.destroyed && !res.writableFinished)
        abort.abort(new TransportError('client disconnected'));
      else
        res.once('close', () => {
          if (!res.writableFinished) abort.abort(new TransportError('client disconnected'));
        });
      this.#signal = AbortSignal.any([abort.signal, this.shutdown]);
    }
    return this.#signal;
  }

  /** Write the final response: a JSON body, or the last SSE event. */
  finish(frame: string): void {
    const res = this.res;
    if (res.destroyed) return;
    if (this.#sse) {
      this.#writeEvent(frame);
      res.end();
    } else {
      writeJson(res, 200, frame);
    }
  }

  #writeEvent(frame: string): void {
    this.res.write(`data: ${toAsciiJson(frame)}\n\n`);
  }

  /** A request to the runtime as an SSE event of this execute's answer (v0.8 blobs, v0.11 runs). */
  #callBack(
    method: string,
    params: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const res = this.res;
    if (res.destroyed) return Promise.reject(new TransportError('client disconnected'));
    return this.peer.request(method, params, {
      ...(signal ? { signal } : {}),
      send: (frame) => {
        if (!this.#sse) {
          this.#sse = true;
          res.writeHead(200, {
            'content-type': 'text/event-stream',
            'cache-control': 'no-cache',
            'stepflow-instance-id': this.instanceId,
          });
        }
        this.#writeEvent(frame);
      },
    });
  }
}

function writeJson(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) return;
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Host header → hostname without port; undefined when malformed or carrying userinfo. */
function hostnameOf(header: string | undefined): string | undefined {
  if (!header || header.includes('@') || /[\s/\\]/.test(header)) return undefined;
  if (header.startsWith('[')) {
    const end = header.indexOf(']');
    return end < 0 ? undefined : header.slice(0, end + 1).toLowerCase();
  }
  const colon = header.indexOf(':');
  return (colon < 0 ? header : header.slice(0, colon)).toLowerCase();
}

/** How many Host headers a request carries (Node keeps only the first in `headers`). */
function hostHeaders(raw: string[]): number {
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'host') count++;
  return count;
}

function acceptsJsonOrSse(accept: string | undefined): boolean {
  if (!accept) return true;
  return /(^|,)\s*(application\/json|text\/event-stream|application\/\*|\*\/\*)\s*(;|,|$)/i.test(
    accept,
  );
}

/**
 * Streamable-HTTP transport: `POST /` carries one JSON-RPC message; `GET /health`
 * reports liveness. Execute answers are JSON unless the component calls back into the runtime,
 * in which case the answer switches to an SSE stream carrying the callbacks and the result.
 */
export async function serveHttp(
  dispatcher: Dispatcher,
  options: HttpServerOptions,
): Promise<HttpServer> {
  const log = options.log;
  const host = options.host ?? '127.0.0.1';
  const loopback = isLoopback(host);
  if (!loopback && !options.allowRemote) {
    throw new Error(
      `refusing to bind ${host}: binding a non-loopback address needs --allow-remote`,
    );
  }
  const allowedHosts = new Set([
    ...LOOPBACK_HOSTS,
    ...(options.allowedHosts ?? []).map((h) => h.toLowerCase()),
  ]);
  const checkHost = loopback || (options.allowedHosts?.length ?? 0) > 0;
  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const callbackTimeoutMs = options.callbackTimeoutMs ?? 30_000;
  const shutdown = new AbortController();
  // The same JSON-RPC peer as stdio correlates callbacks (ids, timeouts, aborts); over HTTP each
  // callback travels in its execute's SSE stream and its answer comes back as its own POST.
  const callbacks = new JsonRpcPeer({
    send: () => {},
    onRequest: (message) =>
      Promise.resolve(
        encodeError(message.id, {
          code: ErrorCodes.INVALID_REQUEST,
          message: 'requests are answered per POST',
        }),
      ),
    log,
    idPrefix: dispatcher.instanceId,
    requestTimeoutMs: callbackTimeoutMs,
  });
  /** What each connection's runtime said in `initialize` (runtimes of several versions). */
  const connections = new WeakMap<Socket, ConnectionState>();
  const connectionOf = (socket: Socket): ConnectionState => {
    let state = connections.get(socket);
    if (!state) connections.set(socket, (state = {}));
    return state;
  };
  let inFlight = 0;
  let idle: (() => void) | undefined;

  const sendJson = (res: ServerResponse, status: number, body: string) => {
    if (res.headersSent) return;
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  };
  const sendRpcError = (
    res: ServerResponse,
    status: number,
    id: RequestId | null,
    error: RpcErrorObject,
  ) => {
    const body =
      id === null ? JSON.stringify({ jsonrpc: '2.0', id: null, error }) : encodeError(id, error);
    sendJson(res, status, body);
  };

  const readBody = (req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined> =>
    new Promise((resolve) => {
      const declared = Number(req.headers['content-length'] ?? NaN);
      // Answer 413 at once but keep discarding the body (bounded by requestTimeout) so the client
      // can read the answer instead of failing with a reset while it is still sending.
      const tooLarge = (size: number) => {
        sendRpcError(res, 413, null, {
          code: ErrorCodes.INVALID_REQUEST,
          message: `Request body of ${size} bytes exceeds the limit of ${maxBody} bytes`,
          data: { limit: maxBody },
        });
        req.resume();
        resolve(undefined);
      };
      if (Number.isFinite(declared) && declared > maxBody) return tooLarge(declared);
      const chunks: Buffer[] = [];
      let size = 0;
      let rejected = false;
      req.on('data', (chunk: Buffer) => {
        if (rejected) return;
        size += chunk.length;
        if (size > maxBody) {
          rejected = true;
          chunks.length = 0;
          tooLarge(size);
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (!rejected) resolve(Buffer.concat(chunks, size));
      });
      req.on('error', () => {
        if (!rejected) resolve(undefined);
      });
    });

  const handleRequest = async (
    message: RequestMessage,
    req: IncomingMessage,
    res: ServerResponse,
  ) => {
    const exchange = new Exchange(
      res,
      message.method === 'components/execute',
      shutdown.signal,
      callbacks,
      dispatcher.instanceId,
      connectionOf(req.socket),
    );
    const frame = await dispatcher.respond(message, exchange);
    exchange.finish(frame);
  };

  const handlePost = async (req: IncomingMessage, res: ServerResponse) => {
    const contentType = req.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(contentType)) {
      req.resume();
      return sendRpcError(res, 415, null, {
        code: ErrorCodes.INVALID_REQUEST,
        message: `Content-Type must be application/json, got ${JSON.stringify(contentType.slice(0, 60))}`,
      });
    }
    if (!acceptsJsonOrSse(req.headers.accept)) {
      req.resume();
      return sendRpcError(res, 406, null, {
        code: ErrorCodes.INVALID_REQUEST,
        message: 'Accept must allow application/json or text/event-stream',
      });
    }
    const body = await readBody(req, res);
    if (!body) return;
    const text = body.toString('utf8');
    let value: unknown;
    try {
      value = dispatcher.parseFrame(text);
    } catch {
      const id = recoverId(text.slice(0, 4096));
      return sendRpcError(res, 400, id ?? null, {
        code: ErrorCodes.PARSE_ERROR,
        message: 'Parse error: the body is not valid JSON',
      });
    }
    const incoming = classifyMessage(value);
    switch (incoming.kind) {
      case 'invalid':
        return sendRpcError(res, 400, incoming.id ?? null, {
          code: ErrorCodes.INVALID_REQUEST,
          message: `Invalid request: ${incoming.reason}`,
        });
      case 'notification':
        dispatcher.notify(incoming.message);
        res.writeHead(202).end();
        return;
      case 'response':
        callbacks.receive(incoming.message);
        res.writeHead(202).end();
        return;
      case 'request':
        inFlight++;
        try {
          await handleRequest(incoming.message, req, res);
        } finally {
          inFlight--;
          if (inFlight === 0) idle?.();
        }
    }
  };

  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs ?? 10_000,
      requestTimeout: options.requestTimeoutMs ?? 60_000,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
      connectionsCheckingInterval: 1_000,
    },
    (req, res) => {
      if (hostHeaders(req.rawHeaders) > 1) {
        req.resume();
        return sendRpcError(res, 400, null, {
          code: ErrorCodes.INVALID_REQUEST,
          message: 'Bad Request: more than one Host header',
        });
      }
      const hostname = hostnameOf(req.headers.host);
      if (checkHost && (hostname === undefined || !allowedHosts.has(hostname))) {
        req.resume();
        return sendRpcError(res, 403, null, {
          code: ErrorCodes.INVALID_REQUEST,
          message: 'Forbidden: Host header is not allowed',
        });
      }
      const origin = req.headers.origin;
      if (origin !== undefined && !allowedOrigins.has(origin)) {
        req.resume();
        return sendRpcError(res, 403, null, {
          code: ErrorCodes.INVALID_REQUEST,
          message: 'Forbidden: Origin is not allowed',
        });
      }
      const path = (req.url ?? '/').split('?', 1)[0];
      if (req.method === 'GET' && path === '/health') {
        return sendJson(
          res,
          200,
          JSON.stringify({
            status: 'healthy',
            instanceId: dispatcher.instanceId,
            timestamp: new Date().toISOString(),
            service: dispatcher.pack.name,
          }),
        );
      }
      if (req.method !== 'POST') {
        req.resume();
        res.setHeader('allow', 'POST');
        return sendRpcError(res, 405, null, {
          code: ErrorCodes.INVALID_REQUEST,
          message: `Method ${req.method} is not allowed; POST JSON-RPC messages`,
        });
      }
      if (
        options.authToken !== undefined &&
        req.headers.authorization !== `Bearer ${options.authToken}`
      ) {
        req.resume();
        return sendRpcError(res, 401, null, {
          code: ErrorCodes.INVALID_REQUEST,
          message: 'Unauthorized: a valid bearer token is required',
        });
      }
      handlePost(req, res).catch((err: unknown) => {
        log.error('HTTP request failed', {
          error: err instanceof Error ? err.message : String(err),
        });
        sendRpcError(res, 500, null, {
          code: ErrorCodes.INTERNAL_ERROR,
          message: 'Internal error',
        });
      });
    },
  );
  // Slow-header (slowloris) sockets: Node's own headersTimeout sweep misses connections when
  // many are open, so track every socket that is waiting for request headers and close it once
  // it has waited longer than headersTimeout.
  const headersTimeoutMs = options.headersTimeoutMs ?? 10_000;
  const awaitingHeaders = new Map<Socket, number>();
  server.on('connection', (socket: Socket) => {
    awaitingHeaders.set(socket, Date.now());
    socket.once('close', () => awaitingHeaders.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    awaitingHeaders.delete(req.socket);
    res.once('finish', () => {
      if (!req.socket.destroyed) awaitingHeaders.set(req.socket, Date.now());
    });
  });
  const sweep = setInterval(
    () => {
      const expired = Date.now() - headersTimeoutMs;
      for (const [socket, since] of awaitingHeaders) {
        if (since > expired) continue;
        awaitingHeaders.delete(socket);
        const body = JSON.stringify({
          jsonrpc: '2.0',
          id: null,
          error: {
            code: ErrorCodes.INVALID_REQUEST,
            message: 'Request headers not received in time',
          },
        });
        socket.end(
          `HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
        );
        setTimeout(() => socket.destroy(), 1000).unref();
      }
    },
    Math.max(100, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
  );
  sweep.unref();
  server.on('close', () => clearInterval(sweep));

  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (socket.writable && err.code !== 'ECONNRESET') {
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: null,
        error: { code: ErrorCodes.INVALID_REQUEST, message: 'Bad HTTP request' },
      });
      socket.end(
        `HTTP/1.1 ${status} Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
      );
    } else {
      socket.destroy();
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  if (!loopback)
    log.warn('listening on a non-loopback address: the worker is reachable from the network', {
      host,
      port,
    });
  options.onListening?.(port);

  return {
    server,
    port,
    async close(graceMs = 10_000) {
      server.close();
      server.closeIdleConnections();
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          idle = resolve;
          setTimeout(resolve, graceMs).unref();
        });
      }
      shutdown.abort(new Error('server shutting down'));
      callbacks.close(new TransportError('server shutting down'));
      server.closeAllConnections();
    },
  };
}
