import { constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { Code } from '@connectrpc/connect';
import { connectH2 } from './h2.js';
import { codeOfHttpStatus, percentDecoded } from './unary.js';

const {
  HTTP2_HEADER_METHOD,
  HTTP2_HEADER_PATH,
  HTTP2_HEADER_CONTENT_TYPE,
  HTTP2_HEADER_TE,
  HTTP2_HEADER_STATUS,
  NGHTTP2_CANCEL,
} = constants;

/** How a PullTasks call ended: the server closed it cleanly, or it failed with a gRPC code. */
export type PullOutcome = { kind: 'ended' } | { kind: 'failed'; code: Code; message: string };

export interface PullHandlers {
  /** The response headers arrived: the stream is open. */
  onOpen(): void;
  /**
   * One message (a TaskAssignment, undecoded). Returning a promise stops reading until it
   * settles: later messages, already received or not, wait (the slots are full).
   */
  onMessage(message: Uint8Array): Promise<void> | undefined;
}

const PING_INTERVAL_MS = 10_000;
/**
 * The stream's and the connection's receive window. With HTTP/2's 64 KiB the worker sends a
 * WINDOW_UPDATE every ~32 KiB of tasks (about 200); a write right after a read makes Linux
 * treat the connection as interactive and delay its ACKs, and stepflow-server 0.13 (Nagle's
 * algorithm on) then holds its next task until the delayed ACK, ~40 ms. With 4 MiB the worker
 * writes on this connection once per ~2 MiB of tasks, and flow control still holds back a
 * server that sends far more than the slots take.
 */
const PULL_WINDOW_BYTES = 4 * 1024 * 1024;
const PING_TIMEOUT_MS = 5_000;

/**
 * The PullTasks server stream on plain `node:http2`, on a connection of its own: gRPC frames
 * are cut out of the response as they arrive and handed over one at a time. While a call is
 * open the connection is pinged every 10 s and dropped when a ping is not answered within 5 s
 * (a half-open connection would otherwise never deliver another task).
 */
export class PullChannel {
  readonly #baseUrl: string;
  #session: ClientHttp2Session | undefined;

  constructor(baseUrl: string) {
    this.#baseUrl = baseUrl;
  }

  #connection(): ClientHttp2Session {
    const current = this.#session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = connectH2(this.#baseUrl, PULL_WINDOW_BYTES);
    session.on('error', () => {}); // surfaced through the stream
    session.on('close', () => {
      if (this.#session === session) this.#session = undefined;
    });
    this.#session = session;
    return session;
  }

  /** Open PullTasks with a framed request; resolves when the call is over. */
  pull(
    path: string,
    frame: Buffer,
    handlers: PullHandlers,
    signal: AbortSignal,
  ): Promise<PullOutcome> {
    return new Promise((resolve) => {
      let session: ClientHttp2Session;
      let stream: ClientHttp2Stream;
      try {
        session = this.#connection();
        stream = session.request({
          [HTTP2_HEADER_METHOD]: 'POST',
          [HTTP2_HEADER_PATH]: path,
          [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto',
          [HTTP2_HEADER_TE]: 'trailers',
        });
      } catch (err) {
        resolve({ kind: 'failed', code: Code.Unavailable, message: messageOf(err) });
        return;
      }
      let status: number | undefined;
      let statusMessage = '';
      let httpStatus = 0;
      let failure: { code: Code; message: string } | undefined;
      const fail = (code: Code, message: string) => {
        failure ??= { code, message };
        if (!stream.closed) stream.close(NGHTTP2_CANCEL);
      };

      // keep-alive pings while the call is open
      // Only a quiet connection is pinged: tasks arriving prove it alive, and a ping sent while
      // they arrive would make the kernel delay its ACKs (see PULL_WINDOW_BYTES).
      let pingTimer: NodeJS.Timeout | undefined;
      let lastData = Date.now();
      const keepAlive = setInterval(() => {
        if (session.destroyed || pingTimer || Date.now() - lastData < PING_INTERVAL_MS) return;
        pingTimer = setTimeout(() => {
          fail(Code.Unavailable, 'the orchestrator did not answer a ping');
          session.destroy();
        }, PING_TIMEOUT_MS);
        try {
          session.ping(() => {
            clearTimeout(pingTimer);
            pingTimer = undefined;
          });
        } catch {
          // the session is closing; the stream reports it
        }
      }, PING_INTERVAL_MS);

      const onAbort = () => fail(Code.Canceled, 'the pull was stopped');
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });

      const take = (h: Record<string, string | string[] | number | undefined>) => {
        if (typeof h[HTTP2_HEADER_STATUS] === 'number') httpStatus = h[HTTP2_HEADER_STATUS];
        const grpcStatus = h['grpc-status'];
        if (grpcStatus !== undefined) {
          status = Number(grpcStatus);
          const message = h['grpc-message'];
          statusMessage = typeof message === 'string' ? percentDecoded(message) : '';
        }
      };
      stream.on('response', (headers) => {
        take(headers);
        if (httpStatus === 200 && (status === undefined || status === 0)) handlers.onOpen();
      });
      stream.on('trailers', take);

      // gRPC frames, cut out of the data as it arrives
      let buffered: Buffer | undefined;
      let waiting: Buffer[] = [];
      let blocked = false;
      const deliver = () => {
        while (!blocked && !failure && waiting.length > 0) {
          const message = waiting.shift()!;
          let wait: Promise<void> | undefined;
          try {
            wait = handlers.onMessage(message);
          } catch (err) {
            fail(Code.Internal, `cannot decode a task: ${messageOf(err)}`);
            return;
          }
          if (wait) {
            blocked = true;
            stream.pause();
            void wait.then(() => {
              blocked = false;
              if (!failure) stream.resume();
              deliver();
            });
          }
        }
      };
      stream.on('data', (chunk: Buffer) => {
        lastData = Date.now();
        let data = buffered ? Buffer.concat([buffered, chunk]) : chunk;
        buffered = undefined;
        while (data.length >= 5) {
          if (data[0] !== 0) {
            fail(
              Code.Internal,
              'the orchestrator sent a compressed message, which was not negotiated',
            );
            return;
          }
          const length = data.readUInt32BE(1);
          if (data.length < 5 + length) break;
          waiting.push(data.subarray(5, 5 + length));
          data = data.subarray(5 + length);
        }
        if (data.length > 0) buffered = data;
        deliver();
      });
      stream.on('error', (err) => fail(Code.Unavailable, messageOf(err)));
      stream.on('close', () => {
        clearInterval(keepAlive);
        clearTimeout(pingTimer);
        signal.removeEventListener('abort', onAbort);
        waiting = [];
        if (failure) return resolve({ kind: 'failed', ...failure });
        if (status === undefined) {
          return resolve({
            kind: 'failed',
            code:
              httpStatus && httpStatus !== 200 ? codeOfHttpStatus(httpStatus) : Code.Unavailable,
            message: httpStatus
              ? `HTTP ${httpStatus} without a gRPC status`
              : 'the connection closed',
          });
        }
        if (status !== 0) return resolve({ kind: 'failed', code: status, message: statusMessage });
        if (buffered) {
          return resolve({
            kind: 'failed',
            code: Code.Internal,
            message: 'the stream ended inside a message',
          });
        }
        resolve({ kind: 'ended' });
      });
      stream.end(frame);
    });
  }

  close(): void {
    this.#session?.close();
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
