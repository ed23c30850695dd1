import { RpcError, TransportError } from './errors.js';
import { encodeError } from './json.js';
import { rateLimited, silentLogger, type Logger } from './logger.js';
import {
  classifyMessage,
  ErrorCodes,
  recoverId,
  type NotificationMessage,
  type RequestId,
  type RequestMessage,
  type ResponseMessage,
} from './protocol.js';

export interface PeerOptions {
  /** Write one complete frame (without the trailing newline). */
  send(frame: string): void;
  /** Produce the response frame for an incoming request. */
  onRequest(message: RequestMessage): Promise<string>;
  onNotification?(message: NotificationMessage): void;
  log?: Logger;
  /** Answer invalid frames whose id is recoverable with -32600 (worker side: yes). */
  answerInvalid?: boolean;
  /** Prefix of ids for outgoing requests. */
  idPrefix?: string;
  /** Default timeout for outgoing requests. */
  requestTimeoutMs?: number;
  /** Parse an incoming line (default `JSON.parse`); throws on invalid JSON. */
  parse?(line: string): unknown;
  /** Called for every incoming line that is not a protocol message. */
  onGarbage?(line: string, reason: string): void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout | undefined;
  cleanup(): void;
}

/**
 * One JSON-RPC 2.0 endpoint over a frame channel, used by both the worker and the client:
 * incoming requests run concurrently and answer out of order; outgoing requests (callbacks)
 * are correlated by id; ids keep their JSON type.
 */
export class JsonRpcPeer {
  readonly #options: PeerOptions;
  readonly #log: Logger;
  readonly #pending = new Map<RequestId, Pending>();
  readonly #inFlight = new Set<RequestId>();
  readonly #idleWaiters: (() => void)[] = [];
  readonly #warnGarbage: (msg: string, fields?: Record<string, unknown>) => void;
  #nextId = 1;
  #closed: Error | undefined;

  constructor(options: PeerOptions) {
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    this.#warnGarbage = rateLimited((msg, fields) => this.#log.warn(msg, fields));
  }

  /** Incoming requests still being processed. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Outgoing requests awaiting an answer. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  receiveLine(line: string): void {
    let value: unknown;
    try {
      value = this.#options.parse ? this.#options.parse(line) : JSON.parse(line);
    } catch {
      this.#garbage(line, 'not valid JSON');
      return;
    }
    this.receive(value, line);
  }

  receive(value: unknown, raw?: string): void {
    const incoming = classifyMessage(value);
    switch (incoming.kind) {
      case 'request':
        this.#handleRequest(incoming.message);
        return;
      case 'notification':
        this.#options.onNotification?.(incoming.message);
        return;
      case 'response':
        this.#handleResponse(incoming.message);
        return;
      case 'invalid':
        this.#garbage(raw ?? '', incoming.reason);
        if (this.#options.answerInvalid && incoming.id !== undefined) {
          this.#send(
            encodeError(incoming.id, {
              code: ErrorCodes.INVALID_REQUEST,
              message: `Invalid request: ${incoming.reason}`,
            }),
          );
        }
    }
  }

  /** A frame over the size limit: answer -32600 when the id is in its first bytes. */
  receiveOversize(head: string, size: number, limit: number): void {
    const id = recoverId(head);
    this.#log.warn('discarded an oversize frame', { bytes: size, limit, id });
    if (this.#options.answerInvalid && id !== undefined) {
      this.#send(
        encodeError(id, {
          code: ErrorCodes.INVALID_REQUEST,
          message: `Message of ${size} bytes exceeds the limit of ${limit} bytes`,
          data: { limit, size },
        }),
      );
    }
  }

  request(
    method: string,
    params: Record<string, unknown>,
    options: {
      timeoutMs?: number;
      signal?: AbortSignal;
      /** Where this request's frame goes, if not the peer's channel (an HTTP SSE stream). */
      send?: (frame: string) => void;
    } = {},
  ): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = `${this.#options.idPrefix ?? 'w'}-${this.#nextId++}`;
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#pending.delete(id);
        pending.cleanup();
        reject(options.signal?.reason ?? new TransportError(`request ${method} was aborted`));
      };
      const pending: Pending = {
        resolve,
        reject,
        timer:
          timeoutMs === undefined
            ? undefined
            : setTimeout(() => {
                this.#pending.delete(id);
                pending.cleanup();
                reject(
                  new TransportError(
                    `${method} got no answer within ${timeoutMs} ms`,
                    { method, timeoutMs },
                    ErrorCodes.TRANSPORT_TIMEOUT,
                  ),
                );
              }, timeoutMs),
        cleanup: () => {
          if (pending.timer) clearTimeout(pending.timer);
          options.signal?.removeEventListener('abort', onAbort);
        },
      };
      if (options.signal?.aborted) {
        onAbort();
        return;
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, pending);
      const frame = JSON.stringify({ jsonrpc: '2.0', id, method, params });
      if (options.send) options.send(frame);
      else this.#send(frame);
    });
  }

  notify(method: string, params: Record<string, unknown> = {}): void {
    this.#send(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  /** Resolves once no incoming request is in flight. */
  whenIdle(): Promise<void> {
    if (this.#inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Fail every outgoing request; later sends are dropped. */
  close(reason: Error = new TransportError('connection closed')): void {
    if (this.#closed) return;
    this.#closed = reason;
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      pending.cleanup();
      pending.reject(reason);
    }
  }

  #send(frame: string): void {
    if (this.#closed) return;
    this.#options.send(frame);
  }

  #handleRequest(message: RequestMessage): void {
    if (this.#inFlight.has(message.id)) {
      this.#log.warn('dropped a request whose id is already in flight', {
        id: message.id,
        method: message.method,
      });
      return;
    }
    this.#inFlight.add(message.id);
    void this.#options
      .onRequest(message)
      .then(
        (frame) => this.#send(frame),
        (err: unknown) => {
          // onRequest is expected to return error frames itself; this is a last resort.
          this.#log.error('request handler failed', {
            error: err instanceof Error ? err.message : String(err),
          });
          this.#send(
            encodeError(message.id, { code: ErrorCodes.INTERNAL_ERROR, message: 'Internal error' }),
          );
        },
      )
      .finally(() => {
        this.#inFlight.delete(message.id);
        if (this.#inFlight.size === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
      });
  }

  #handleResponse(message: ResponseMessage): void {
    const pending = this.#pending.get(message.id);
    if (!pending) {
      this.#log.warn('dropped a response with an unknown id', { id: message.id });
      return;
    }
    this.#pending.delete(message.id);
    pending.cleanup();
    if ('error' in message) {
      pending.reject(new RpcError(message.error.code, message.error.message, message.error.data));
    } else {
      pending.resolve(message.result);
    }
  }

  #garbage(line: string, reason: string): void {
    this.#options.onGarbage?.(line, reason);
    this.#warnGarbage('ignored a line that is not a valid protocol message', {
      reason,
      line: line.slice(0, 120),
    });
  }
}
