import type { MemoryBlobStore } from '../blobs.js';
import { TransportError } from '../errors.js';
import { LineFramer } from '../framing.js';
import type { Logger } from '../logger.js';
import { FrameWriter } from '../frame-writer.js';
import { JsonRpcPeer } from '../peer.js';
import { answerCallback } from './callbacks.js';
import type { Channel, FrameTap, RequestOptions } from './channel.js';
import type { WorkerProcess } from './process.js';

const MAX_FRAME_BYTES = 1024 * 1024 * 1024;

/** JSON-RPC over the worker's stdin/stdout (v0.8 stdio transport, runtime side). */
export class StdioChannel implements Channel {
  readonly #peer: JsonRpcPeer;
  readonly #process: WorkerProcess;
  readonly #writer: FrameWriter;
  #junk = 0;

  constructor(
    proc: WorkerProcess,
    options: {
      log: Logger;
      blobStore?: MemoryBlobStore;
      tap?: FrameTap;
      onJunk?: (line: string) => void;
    },
  ) {
    this.#process = proc;
    const stdin = proc.child.stdin!;
    const writer = (this.#writer = new FrameWriter((chunk) =>
      stdin.writable ? stdin.write(chunk) : true,
    ));
    this.#peer = new JsonRpcPeer({
      log: options.log,
      idPrefix: 'r',
      send: (frame) => {
        options.tap?.('sent', frame);
        writer.push(frame);
      },
      onRequest: (message) => answerCallback(message, options.blobStore),
      onGarbage: (line) => {
        this.#junk++;
        options.onJunk?.(line);
      },
    });
    const framer = new LineFramer(MAX_FRAME_BYTES, {
      line: (text) => {
        options.tap?.('received', text);
        this.#peer.receiveLine(text);
      },
      oversize: (_head, size) => options.log.warn('worker wrote an oversize frame', { size }),
    });
    proc.child.stdout!.on('data', (chunk: Buffer) => framer.push(chunk));
    void proc.exited.then(() => {
      framer.end();
      this.#peer.close(proc.crashError('connection lost'));
    });
  }

  /** Stdout lines that were not protocol messages (skipped). */
  get junkLines(): number {
    return this.#junk;
  }

  async request(
    method: string,
    params: Record<string, unknown>,
    options: RequestOptions,
  ): Promise<unknown> {
    if (this.#process.exitInfo) throw this.#process.crashError(`cannot send ${method}`);
    return this.#peer.request(method, params, options);
  }

  async notify(method: string, params: Record<string, unknown>): Promise<void> {
    this.#peer.notify(method, params);
  }

  close(): void {
    this.#writer.flush();
    this.#peer.close(new TransportError('worker connection closed'));
    this.#process.child.stdin?.end();
  }
}
