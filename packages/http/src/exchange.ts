import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { BodyDecodeError, decodersFor, ResponseTooLargeError, type Decoder } from './body.js';

/** What one request/response exchange produced. */
export interface Received {
  status: number;
  /** Lowercase names; repeated headers as arrays. */
  headers: IncomingHttpHeaders;
  /** The decoded body; empty when it was discarded (redirects, HEAD, 204, 304). */
  body: Buffer;
  /** Set when the response is a redirect to follow (its body was discarded). */
  location: string | undefined;
}

export interface ExchangeOptions {
  /** Largest body accepted, counted after Content-Encoding is decoded. */
  limit: number;
  /** Treat 301/302/303/307/308 with a Location as a redirect to follow (body discarded). */
  followRedirects: boolean;
  /** A HEAD request: whatever the headers announce, there is no body. */
  head: boolean;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** A redirect body larger than this is not read for keep-alive: the socket is closed instead. */
const DISCARD_LIMIT = 64 * 1024;
const EMPTY = Buffer.alloc(0);
const COLLECT = 0;
const DISCARD = 1;
const DECODE = 2;

/**
 * One request and its response over the shared Agent, as a plain undici dispatch handler:
 * no Readable stream and no async resource per response (undici.request creates both, which
 * costs about a third of the client-side CPU of a small request).
 *
 * The body is either collected (bounded by `limit` on decoded bytes, Content-Length checked
 * up front), decoded through zlib with back-pressure, or discarded. It is always read to its
 * end (the socket returns to the pool) or the request is aborted (the socket is destroyed).
 * `cancel` settles at once, whatever undici is doing: a call never waits past its deadline
 * for a connect or a response to finish.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  readonly promise: Promise<Received>;
  #resolve!: (value: Received) => void;
  #reject!: (reason: unknown) => void;
  readonly #options: ExchangeOptions;
  #controller: Dispatcher.DispatchController | undefined;
  #done = false;
  #reason: Error | undefined;
  #status = 0;
  #headers: IncomingHttpHeaders = {};
  #location: string | undefined;
  #mode = COLLECT;
  #chunks: Buffer[] = [];
  #size = 0;
  #decoder: Decoder | undefined;

  constructor(options: ExchangeOptions) {
    this.#options = options;
    this.promise = new Promise<Received>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Settle now with `reason` and abort the request (closing its socket) if it started. */
  cancel(reason: Error): void {
    if (this.#done) return;
    this.#fail(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    // Cancelled while queued or connecting: stop before anything is written.
    if (this.#done) controller.abort(this.#reason ?? new Error('cancelled'));
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    status: number,
    headers: IncomingHttpHeaders,
  ): void {
    if (this.#done || status < 200) return; // 1xx: informational, the real response follows
    this.#controller = controller;
    this.#status = status;
    this.#headers = headers;
    const location = headers.location;
    if (this.#options.followRedirects && REDIRECTS.has(status) && location !== undefined) {
      this.#location = Array.isArray(location) ? location.join(', ') : location;
      this.#mode = DISCARD;
      return;
    }
    // HEAD, 204 and 304 have no body whatever Content-Length / Content-Encoding announce.
    if (this.#options.head || status === 204 || status === 304) {
      this.#mode = DISCARD;
      return;
    }
    const encoding = headers['content-encoding'];
    if (encoding !== undefined) {
      const decoder = decodersFor(Array.isArray(encoding) ? encoding.join(', ') : encoding);
      if (decoder) {
        this.#mode = DECODE;
        this.#decoder = decoder;
        decoder.output.on('data', (chunk: Buffer) => this.#collect(chunk));
        decoder.output.once('end', () => this.#finish());
        decoder.onError = (err) => this.#fail(err);
        return;
      }
    }
    const declared = Number(headers['content-length']);
    if (declared > this.#options.limit) {
      this.#fail(new ResponseTooLargeError(this.#options.limit, declared, true));
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#done) return;
    switch (this.#mode) {
      case COLLECT:
        this.#collect(chunk);
        return;
      case DISCARD:
        this.#size += chunk.length;
        if (this.#size > DISCARD_LIMIT) {
          // Not worth reading for keep-alive: close the socket and go on.
          this.#size = 0;
          this.#finish();
          controller.abort(new Error('discarded'));
        }
        return;
      default: {
        const decoder = this.#decoder!;
        if (!decoder.input.write(chunk) && !decoder.waiting) {
          decoder.waiting = true;
          controller.pause();
          decoder.input.once('drain', () => {
            decoder.waiting = false;
            if (!this.#done) controller.resume();
          });
        }
      }
    }
  }

  onResponseEnd(): void {
    if (this.#done) return;
    if (this.#mode === DECODE) this.#decoder!.input.end();
    else this.#finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#done) return;
    this.#fail(error);
  }

  #collect(chunk: Buffer): void {
    if (this.#done) return;
    this.#size += chunk.length;
    if (this.#size > this.#options.limit) {
      this.#fail(new ResponseTooLargeError(this.#options.limit, this.#size, false));
      return;
    }
    this.#chunks.push(chunk);
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    const chunks = this.#chunks;
    this.#chunks = [];
    const body =
      this.#mode === DISCARD || chunks.length === 0
        ? EMPTY
        : chunks.length === 1
          ? chunks[0]!
          : Buffer.concat(chunks, this.#size);
    this.#resolve({
      status: this.#status,
      headers: this.#headers,
      body,
      location: this.#location,
    });
  }

  #fail(error: Error): void {
    if (this.#done) return;
    this.#done = true;
    this.#reason = error;
    this.#chunks = [];
    const decoder = this.#decoder;
    if (decoder) {
      decoder.destroy();
      // zlib reports corrupt input as Z_DATA_ERROR / Z_BUF_ERROR / ERR_BROTLI_*: a value
      // error of the response, not a network failure.
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && /^(Z_|ERR_BROTLI|ERR__ZLIB)/.test(code))
        error = new BodyDecodeError(decoder.codings);
    }
    this.#reject(error);
    // Aborting destroys the socket: an unfinished body is never left in the pool.
    this.#controller?.abort(error);
  }
}
