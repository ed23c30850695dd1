import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';

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
 * length-prefixed frame each way and the status from the trailers. It runs on its own
 * connection, apart from the PullTasks stream: stepflow-server 0.13 does not set TCP_NODELAY,
 * and its writes on a connection shared with the stream waited on delayed ACKs (~40 ms a
 * task). Errors are ConnectErrors with gRPC codes, like the connect clients' errors.
 */
export class UnaryChannel {
  readonly #baseUrl: string;
  readonly #writeMaxBytes: number;
  #session: ClientHttp2Session | undefined;
  /** Calls with a deadline, checked by one sweeper instead of a timer per call. */
  readonly #deadlines = new Map<() => void, number>();
  #sweeper: NodeJS.Timeout | undefined;
  /** Calls under way: the connection keeps the process alive only while there are some. */
  #active = 0;

  constructor(baseUrl: string, options: { writeMaxBytes: number }) {
    this.#baseUrl = baseUrl;
    this.#writeMaxBytes = options.writeMaxBytes;
  }

  method<I extends DescMessage, O extends DescMessage>(
    service: string,
    name: string,
    input: I,
    output: O,
  ): UnaryCall<I, O> {
    const path = `/${service}/${name}`;
    return (request, options = {}) => this.#call(path, input, output, request, options);
  }

  #connection(): ClientHttp2Session {
    const current = this.#session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = connect(this.#baseUrl);
    session.on('error', () => {}); // surfaced through the streams
    session.on('close', () => {
      if (this.#session === session) this.#session = undefined;
    });
    session.setTimeout(60_000, () => session.close()); // idle connections go away
    if (this.#active === 0) session.unref();
    this.#session = session;
    return session;
  }

  #call<I extends DescMessage, O extends DescMessage>(
    path: string,
    input: I,
    output: O,
    request: MessageInitShape<I>,
    options: UnaryOptions,
  ): Promise<MessageShape<O>> {
    return new Promise((resolve, reject) => {
      const body = toBinary(input, create(input, request));
      if (body.length + 5 > this.#writeMaxBytes) {
        reject(
          new ConnectError(
            `message size ${body.length} is larger than configured writeMaxBytes ${this.#writeMaxBytes}`,
            Code.ResourceExhausted,
          ),
        );
        return;
      }
      const frame = Buffer.allocUnsafe(5 + body.length);
      frame[0] = 0;
      frame.writeUInt32BE(body.length, 1);
      frame.set(body, 5);
      const headers: Record<string, string> = {
        [HTTP2_HEADER_METHOD]: 'POST',
        [HTTP2_HEADER_PATH]: path,
        [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto',
        [HTTP2_HEADER_TE]: 'trailers',
      };
      if (options.timeoutMs) headers['grpc-timeout'] = `${Math.ceil(options.timeoutMs)}m`;
      let stream: ClientHttp2Stream;
      let session: ClientHttp2Session;
      try {
        session = this.#connection();
        stream = session.request(headers);
      } catch (err) {
        reject(new ConnectError(messageOf(err), Code.Unavailable));
        return;
      }
      if (this.#active++ === 0) session.ref();
      let settled = false;
      let status: number | undefined;
      let statusMessage = '';
      let httpStatus = 0;
      let failure: ConnectError | undefined;
      const chunks: Buffer[] = [];
      const fail = (error: ConnectError) => {
        failure ??= error;
        stream.close(NGHTTP2_CANCEL);
      };
      const expire = () => fail(new ConnectError('the call timed out', Code.DeadlineExceeded));
      if (options.timeoutMs !== undefined) this.#watch(expire, options.timeoutMs);
      const onAbort = () => fail(new ConnectError('the call was aborted', Code.Canceled));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const take = (h: Record<string, string | string[] | number | undefined>) => {
        if (typeof h[HTTP2_HEADER_STATUS] === 'number') httpStatus = h[HTTP2_HEADER_STATUS];
        const grpcStatus = h['grpc-status'];
        if (grpcStatus !== undefined) {
          status = Number(grpcStatus);
          const message = h['grpc-message'];
          statusMessage = typeof message === 'string' ? percentDecoded(message) : '';
        }
      };
      stream.on('response', take);
      stream.on('trailers', take);
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err) => {
        failure ??= new ConnectError(messageOf(err), Code.Unavailable);
      });
      stream.on('close', () => {
        if (settled) return;
        settled = true;
        this.#deadlines.delete(expire);
        if (--this.#active === 0) this.#session?.unref();
        options.signal?.removeEventListener('abort', onAbort);
        if (failure) return reject(failure);
        if (status === undefined) {
          return reject(
            new ConnectError(
              httpStatus ? `HTTP ${httpStatus} without a gRPC status` : 'the connection closed',
              Code.Unavailable,
            ),
          );
        }
        if (status !== 0) return reject(new ConnectError(statusMessage, status));
        try {
          resolve(fromBinary(output, unframe(chunks)));
        } catch (err) {
          reject(new ConnectError(messageOf(err), Code.Internal));
        }
      });
      stream.end(frame);
    });
  }

  #watch(expire: () => void, timeoutMs: number): void {
    this.#deadlines.set(expire, Date.now() + timeoutMs);
    if (this.#sweeper) return;
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      for (const [fire, deadline] of this.#deadlines) {
        if (deadline <= now) {
          this.#deadlines.delete(fire);
          fire();
        }
      }
    }, 100);
    this.#sweeper.unref();
  }

  close(): void {
    this.#session?.close();
  }
}

/** The message of one length-prefixed, uncompressed gRPC frame. */
function unframe(chunks: Buffer[]): Uint8Array {
  const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  if (all.length < 5) throw new Error('the reply has no gRPC frame');
  if (all[0] !== 0) throw new Error('the reply is compressed, which was not negotiated');
  const length = all.readUInt32BE(1);
  if (all.length < 5 + length) throw new Error('the reply frame is truncated');
  return all.subarray(5, 5 + length);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** grpc-message is percent-encoded; a malformed one is shown as sent. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
