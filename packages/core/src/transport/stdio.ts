import type { Readable, Writable } from 'node:stream';
import type { Dispatcher, Session } from '../dispatcher.js';
import { DEFAULT_MAX_MESSAGE_BYTES, LineFramer } from '../framing.js';
import type { Logger } from '../logger.js';
import { FrameWriter } from '../frame-writer.js';
import { JsonRpcPeer } from '../peer.js';

export interface StdioServerOptions {
  input?: Readable;
  output?: Writable;
  log: Logger;
  maxMessageBytes?: number;
  /** How long in-flight work may take to finish after stdin EOF or SIGTERM. */
  shutdownGraceMs?: number;
  /** Timeout for callbacks to the runtime (blobs/*). */
  callbackTimeoutMs?: number;
  /** Frame writer; defaults to the output's own write (stdout is reserved for frames first). */
  write?: (chunk: string) => boolean;
}

export interface StdioServer {
  /** Resolves with the process exit code once the server has stopped. */
  readonly done: Promise<number>;
  /** Stop reading, let in-flight requests finish (bounded by the grace period), then stop. */
  shutdown(): void;
}

/**
 * Route `console.*` and stray `process.stdout.write` calls to stderr so that stdout carries
 * protocol frames only (the runtime reads stdout as frames). Returns the original writer for
 * frames.
 */
export function reserveStdout(): (
  chunk: string,
  callback?: (err?: Error | null) => void,
) => boolean {
  const stdout = process.stdout;
  const original = stdout.write.bind(stdout) as (
    chunk: string,
    cb?: (err?: Error | null) => void,
  ) => boolean;
  const toStderr = ((chunk: unknown, ...rest: unknown[]) =>
    (process.stderr.write as (...args: unknown[]) => boolean)(
      chunk,
      ...rest,
    )) as typeof stdout.write;
  stdout.write = toStderr;
  return original;
}

/** Serve the protocol over newline-delimited JSON on stdin/stdout (v0.8 stdio transport). */
export function serveStdio(dispatcher: Dispatcher, options: StdioServerOptions): StdioServer {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const log = options.log;
  const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const grace = options.shutdownGraceMs ?? 10_000;
  const write =
    options.write ??
    (output === process.stdout
      ? reserveStdout()
      : (output.write.bind(output) as (chunk: string) => boolean));
  const shutdownController = new AbortController();

  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));
  let stopping = false;
  let finished = false;
  const end = (code: number) => {
    if (finished) return;
    finished = true;
    input.removeListener('data', onData);
    input.pause();
    if (code === 0) writer.flush();
    peer.close();
    // Let buffered frames reach the pipe before reporting completion.
    if (code === 0 && output.writableLength > 0) output.once('drain', () => finish(code));
    else finish(code);
  };

  // Respect back-pressure: stop reading new requests until the pipe drains.
  const writer = new FrameWriter(
    (chunk) => (output.destroyed ? true : write(chunk)),
    () => {
      input.pause();
      output.once('drain', () => {
        if (!stopping) input.resume();
      });
    },
  );
  const peer: JsonRpcPeer = new JsonRpcPeer({
    log,
    answerInvalid: true,
    idPrefix: `${dispatcher.instanceId.slice(0, 8)}`,
    requestTimeoutMs: options.callbackTimeoutMs ?? 30_000,
    send: (frame) => writer.push(frame),
    parse: dispatcher.parseFrame,
    onRequest: (message) => dispatcher.respond(message, session),
    onNotification: (message) => dispatcher.notify(message),
  });
  const session: Session = {
    transport: 'stdio',
    signal: shutdownController.signal,
    call: (method, params, signal) => peer.request(method, params, signal ? { signal } : {}),
  };

  const framer = new LineFramer(maxBytes, {
    line: (text) => peer.receiveLine(text),
    oversize: (head, size) => peer.receiveOversize(head, size, maxBytes),
  });
  const onData = (chunk: Buffer) => framer.push(chunk);

  const drainThenExit = (why: string) => {
    if (stopping) return;
    stopping = true;
    input.removeListener('data', onData);
    log.debug('stopping', { reason: why, inFlight: peer.inFlight });
    const timer = setTimeout(() => {
      log.warn('in-flight requests did not finish within the grace period', {
        inFlight: peer.inFlight,
        graceMs: grace,
      });
      shutdownController.abort(new Error('server shutting down'));
      end(0);
    }, grace);
    timer.unref();
    void peer.whenIdle().then(() => {
      clearTimeout(timer);
      end(0);
    });
  };

  input.on('data', onData);
  input.on('end', () => {
    framer.end();
    drainThenExit('stdin closed');
  });
  input.on('error', (err) => {
    log.error('stdin failed', { error: err.message });
    end(1);
  });
  output.on('error', (err: NodeJS.ErrnoException) => {
    // EPIPE: the runtime stopped reading; nothing we write can arrive any more.
    log.error('stdout failed; exiting', { code: err.code });
    shutdownController.abort(err);
    end(1);
  });

  return { done, shutdown: () => drainThenExit('shutdown requested') };
}
