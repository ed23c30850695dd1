import { constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { connectH2 } from './h2.js';

export interface UnaryOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export type UnaryCall<I extends DescMessage, O extends DescMessage> = (
  request: MessageInitShape<I>,
  options?: UnaryOptions,
) => Promise<MessageShape<O>>;

const {
  HTTP2_HEADER_METHOD,
  HTTP2_HEADER_PATH,
  HTTP2_HEADER_CONTENT_TYPE,
  HTTP2_HEADER_TE,
  HTTP2_HEADER_STATUS,
  NGHTTP2_CANCEL,
} = constants;

/**
 * gRPC unary calls on plain `node:http2`, for the two calls every task makes (TaskHeartbeat,
 * CompleteTask). connect-es costs about a millisecond of CPU per call (a linked
 * AbortController, async iterables and errors built per call); this is one HTTP/2 stream, one
 * length-prefixed frame each way (encoded by wire.ts) and the status from the trailers, with
 * shared listener functions and cached request headers instead of closures per call. It runs on its own
 * connection, apart from the PullTasks stream: stepflow-server 0.13 does not set TCP_NODELAY,
 * and its writes on a connection shared with the stream waited on delayed ACKs (~40 ms a
 * task). Errors are ConnectErrors with gRPC codes, like the connect clients' errors.
 */
export class UnaryChannel {
  readonly #baseUrl: string;
  readonly #writeMaxBytes: number;
  readonly #windowBytes: number | undefined;
  #session: ClientHttp2Session | undefined;
  /** Calls with a deadline, checked by one sweeper instead of a timer per call. */
  readonly #deadlines = new Map<Call, number>();
  #sweeper: NodeJS.Timeout | undefined;
  /** Calls under way: the connection keeps the process alive only while there are some. */
  #active = 0;
  /** When a reply last arrived, and the timer that nudges a stalled connection. */
  #lastReply = 0;
  /** When the server last sent anything on the current connection (headers or data). */
  lastHeard = 0;
  #nudger: NodeJS.Timeout | undefined;
  /** Request headers by path and timeout (`request()` copies them; they never change). */
  readonly #headers = new Map<string, Map<number, Record<string, string>>>();

  /** `windowBytes`: the receive window, for connections whose replies can be large (blobs). */
  constructor(baseUrl: string, options: { writeMaxBytes: number; windowBytes?: number }) {
    this.#baseUrl = baseUrl;
    this.#writeMaxBytes = options.writeMaxBytes;
    this.#windowBytes = options.windowBytes;
  }

  /** A call with protobuf-es messages (for the rare calls: discovery answers). */
  method<I extends DescMessage, O extends DescMessage>(
    service: string,
    name: string,
    input: I,
    output: O,
  ): UnaryCall<I, O> {
    const path = `/${service}/${name}`;
    const decode = (bytes: Uint8Array) => fromBinary(output, bytes);
    return (request, options = {}) => {
      let frame: Buffer;
      try {
        const body = toBinary(input, create(input, request));
        frame = Buffer.allocUnsafe(5 + body.length);
        frame[0] = 0;
        frame.writeUInt32BE(body.length, 1);
        frame.set(body, 5);
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      return this.call(path, frame, options, decode);
    };
  }

  /**
   * One unary call: `frame` is the request as a gRPC frame, `decode` turns the reply message
   * into the result. Rejects with a ConnectError carrying the gRPC code.
   */
  call<T>(
    path: string,
    frame: Buffer,
    options: UnaryOptions,
    decode: (message: Uint8Array) => T,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (frame.length > this.#writeMaxBytes) {
        reject(
          new ConnectError(
            `message size ${frame.length - 5} is larger than configured writeMaxBytes ${this.#writeMaxBytes}`,
            Code.ResourceExhausted,
          ),
        );
        return;
      }
      let stream: ClientHttp2Stream;
      let session: ClientHttp2Session;
      try {
        session = this.#connection();
        stream = session.request(this.#headersFor(path, options.timeoutMs));
      } catch (err) {
        reject(new ConnectError(messageOf(err), Code.Unavailable));
        return;
      }
      if (this.#active++ === 0) {
        session.ref();
        this.#lastReply = performance.now();
      }
      if (this.#nudger === undefined) this.#nudger = setTimeout(this.#nudge, NUDGE_MS).unref();
      const call = new Call(
        this,
        stream,
        decode as (message: Uint8Array) => unknown,
        resolve as (value: unknown) => void,
        reject,
        options.signal,
      );
      (stream as CallStream)[CALL] = call;
      if (options.timeoutMs !== undefined) this.#watch(call, options.timeoutMs);
      stream.on('response', onHeaders);
      stream.on('trailers', onHeaders);
      stream.on('data', onData);
      stream.on('error', onError);
      stream.on('close', onClose);
      stream.end(frame);
    });
  }

  /**
   * stepflow-server 0.13 does not set TCP_NODELAY, and this connection carries requests right
   * after replies, so Linux delays the worker's ACKs (up to 40 ms). When the server writes
   * something small that needs no answer (a connection WINDOW_UPDATE, every ~22 KB of
   * requests), Nagle's algorithm holds its next reply until that ACK: one call in ~150 took
   * 40 ms longer. When calls are under way and no reply has come for NUDGE_MS, the worker
   * sends a frame that carries the ACK at once and that the server does not answer: a PRIORITY
   * frame for a call under way (a PING would be answered by a PING ACK, another small write
   * that holds the next reply back in turn).
   */
  readonly #nudge = () => {
    this.#nudger = undefined;
    if (this.#active === 0) return;
    if (performance.now() - this.#lastReply >= NUDGE_MS) {
      // any call under way (every call has a deadline) names the stream
      for (const call of this.#deadlines.keys()) {
        const stream = call.stream;
        if (stream.closed || typeof stream.priority !== 'function') continue;
        try {
          stream.priority(SAME_PRIORITY);
        } catch {
          // closing: nothing to nudge
        }
        break;
      }
      this.#lastReply = performance.now();
    }
    this.#nudger = setTimeout(this.#nudge, NUDGE_MS).unref();
  };

  /** A call is over (from its close event). */
  settled(call: Call): void {
    this.#lastReply = performance.now();
    this.#deadlines.delete(call);
    if (--this.#active === 0) this.#session?.unref();
  }

  #headersFor(path: string, timeoutMs: number | undefined): Record<string, string> {
    const key = timeoutMs ?? 0;
    let byTimeout = this.#headers.get(path);
    if (!byTimeout) this.#headers.set(path, (byTimeout = new Map()));
    let headers = byTimeout.get(key);
    if (!headers) {
      headers = {
        [HTTP2_HEADER_METHOD]: 'POST',
        [HTTP2_HEADER_PATH]: path,
        [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto',
        [HTTP2_HEADER_TE]: 'trailers',
      };
      if (timeoutMs) headers['grpc-timeout'] = `${Math.ceil(timeoutMs)}m`;
      byTimeout.set(key, headers);
    }
    return headers;
  }

  #connection(): ClientHttp2Session {
    const current = this.#session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = connectH2(this.#baseUrl, this.#windowBytes);
    session.on('error', () => {}); // surfaced through the streams
    session.on('close', () => {
      if (this.#session === session) this.#session = undefined;
    });
    session.setTimeout(60_000, () => session.close()); // idle connections go away
    if (this.#active === 0) session.unref();
    this.#session = session;
    return session;
  }

  #watch(call: Call, timeoutMs: number): void {
    this.#deadlines.set(call, Date.now() + timeoutMs);
    if (this.#sweeper) return;
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      let silent = false;
      for (const [expired, deadline] of this.#deadlines) {
        if (deadline <= now) {
          this.#deadlines.delete(expired);
          // Nothing from the server since this call began: the connection is presumed dead
          // (half-open after a host or NAT dropped it; TCP alone would keep it for minutes).
          if (this.lastHeard < expired.startedAt && expired.stream.session === this.#session)
            silent = true;
          expired.fail(new ConnectError('the call timed out', Code.DeadlineExceeded));
        }
      }
      if (silent) this.#drop();
    }, 100);
    this.#sweeper.unref();
  }

  /** Give up the current connection: calls under way fail, the next call connects anew. */
  #drop(): void {
    const session = this.#session;
    if (!session) return;
    this.#session = undefined;
    session.destroy(new Error('no answer from the server within the call deadline'));
  }

  close(): void {
    this.#session?.close();
  }
}

/** How long calls may go without a reply before the connection is nudged (see #nudge). */
const NUDGE_MS = 2;
/** RFC 7540's default priority (what every stream has): the frame changes nothing. */
const SAME_PRIORITY = { parent: 0, weight: 16, exclusive: false, silent: false };

const CALL = Symbol('grpc unary call');
type CallStream = ClientHttp2Stream & { [CALL]: Call };
type Headers = Record<string, string | string[] | number | undefined>;

/**
 * The state of one unary call. The stream's listeners are shared functions that find it on
 * the stream (no closures per call).
 */
class Call {
  readonly channel: UnaryChannel;
  readonly stream: ClientHttp2Stream;
  readonly startedAt = performance.now();
  readonly decode: (message: Uint8Array) => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: ConnectError) => void;
  readonly signal: AbortSignal | undefined;
  status: number | undefined = undefined;
  statusMessage = '';
  httpStatus = 0;
  failure: ConnectError | undefined = undefined;
  chunk: Buffer | undefined = undefined;
  chunks: Buffer[] | undefined = undefined;
  settled = false;

  constructor(
    channel: UnaryChannel,
    stream: ClientHttp2Stream,
    decode: (message: Uint8Array) => unknown,
    resolve: (value: unknown) => void,
    reject: (error: ConnectError) => void,
    signal: AbortSignal | undefined,
  ) {
    this.channel = channel;
    this.stream = stream;
    this.decode = decode;
    this.resolve = resolve;
    this.reject = reject;
    this.signal = signal;
    if (signal) {
      if (signal.aborted) this.abort();
      else signal.addEventListener('abort', this, { once: true });
    }
  }

  /** The signal's abort event (the call is its listener object). */
  handleEvent(): void {
    this.abort();
  }

  abort(): void {
    this.fail(new ConnectError('the call was aborted', Code.Canceled));
  }

  fail(error: ConnectError): void {
    this.failure ??= error;
    if (!this.stream.closed) this.stream.close(NGHTTP2_CANCEL);
  }

  close(): void {
    if (this.settled) return;
    this.settled = true;
    this.channel.settled(this);
    this.signal?.removeEventListener('abort', this);
    if (this.failure) return this.reject(this.failure);
    if (this.status === undefined) {
      return this.reject(
        new ConnectError(
          this.httpStatus
            ? `HTTP ${this.httpStatus} without a gRPC status`
            : 'the connection closed',
          Code.Unavailable,
        ),
      );
    }
    if (this.status !== 0) return this.reject(new ConnectError(this.statusMessage, this.status));
    let result: unknown;
    try {
      const all = this.chunks ? Buffer.concat(this.chunks) : this.chunk;
      result = this.decode(unframe(all));
    } catch (err) {
      return this.reject(new ConnectError(messageOf(err), Code.Internal));
    }
    this.resolve(result);
  }
}

function onHeaders(this: CallStream, h: Headers): void {
  const call = this[CALL];
  call.channel.lastHeard = performance.now();
  if (typeof h[HTTP2_HEADER_STATUS] === 'number') call.httpStatus = h[HTTP2_HEADER_STATUS];
  const grpcStatus = h['grpc-status'];
  if (grpcStatus !== undefined) {
    call.status = Number(grpcStatus);
    const message = h['grpc-message'];
    call.statusMessage = typeof message === 'string' ? percentDecoded(message) : '';
  }
}

function onData(this: CallStream, chunk: Buffer): void {
  const call = this[CALL];
  call.channel.lastHeard = performance.now();
  if (call.chunks) call.chunks.push(chunk);
  else if (call.chunk) call.chunks = [call.chunk, chunk];
  else call.chunk = chunk;
}

function onError(this: CallStream, err: Error): void {
  this[CALL].failure ??= new ConnectError(messageOf(err), Code.Unavailable);
}

function onClose(this: CallStream): void {
  this[CALL].close();
}

/** The gRPC code connect gives a response without a gRPC status, by HTTP status. */
export function codeOfHttpStatus(status: number): Code {
  switch (status) {
    case 400:
      return Code.Internal;
    case 401:
      return Code.Unauthenticated;
    case 403:
      return Code.PermissionDenied;
    case 404:
      return Code.Unimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return Code.Unavailable;
    default:
      return Code.Unknown;
  }
}

/** The message of one length-prefixed, uncompressed gRPC frame. */
function unframe(all: Buffer | undefined): Uint8Array {
  if (!all || all.length < 5) throw new Error('the reply has no gRPC frame');
  if (all[0] !== 0) throw new Error('the reply is compressed, which was not negotiated');
  const length = all.readUInt32BE(1);
  if (all.length < 5 + length) throw new Error('the reply frame is truncated');
  return all.subarray(5, 5 + length);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** grpc-message is percent-encoded; a malformed one is shown as sent. */
export function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
