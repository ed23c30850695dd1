import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import type { MemoryBlobStore } from '../blobs.js';
import { RpcError, TransportError } from '../errors.js';
import {
  classifyMessage,
  ErrorCodes,
  type RequestMessage,
  type ResponseMessage,
} from '../protocol.js';
import type { Logger } from '../logger.js';
import { answerCallback } from './callbacks.js';
import type { Channel, FrameTap, RequestOptions } from './channel.js';

const HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};

/**
 * JSON-RPC over HTTP POST, runtime side: a request is answered with JSON or with an
 * SSE stream carrying worker→runtime callbacks (answered by separate POSTs) and the final
 * response. Notifications must be acknowledged with 202.
 */
export class HttpChannel implements Channel {
  readonly #url: URL;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 256 });
  readonly #log: Logger;
  readonly #blobStore: MemoryBlobStore | undefined;
  readonly #tap: FrameTap | undefined;
  #closed = false;

  constructor(url: string, options: { log: Logger; blobStore?: MemoryBlobStore; tap?: FrameTap }) {
    this.#url = new URL(url);
    this.#log = options.log;
    this.#blobStore = options.blobStore;
    this.#tap = options.tap;
  }

  async request(
    method: string,
    params: Record<string, unknown>,
    options: RequestOptions,
  ): Promise<unknown> {
    const id = randomUUID();
    const frame = JSON.stringify({ jsonrpc: '2.0', id, method, params });
    const response = await this.#post(frame, options, method);
    const type = String(response.headers['content-type'] ?? '');
    const message = type.startsWith('text/event-stream')
      ? await this.#readSse(response, id, method, options)
      : await this.#readJson(response, method);
    if (message.id !== id) {
      throw new TransportError(
        `the worker answered ${method} with a different id`,
        { expected: id, got: message.id },
        ErrorCodes.TRANSPORT_PROTOCOL_ERROR,
      );
    }
    if ('error' in message)
      throw new RpcError(message.error.code, message.error.message, message.error.data);
    return message.result;
  }

  async notify(method: string, params: Record<string, unknown>): Promise<void> {
    const response = await this.#post(
      JSON.stringify({ jsonrpc: '2.0', method, params }),
      { timeoutMs: 30_000 },
      method,
    );
    response.resume();
    if (response.statusCode !== 202) {
      throw new TransportError(
        `the worker answered the ${method} notification with HTTP ${response.statusCode} instead of 202`,
        undefined,
        ErrorCodes.TRANSPORT_PROTOCOL_ERROR,
      );
    }
  }

  close(): void {
    this.#closed = true;
    this.#agent.destroy();
  }

  #post(
    frame: string,
    options: RequestOptions,
    method: string,
    extraHeaders: Record<string, string> = {},
  ): Promise<IncomingMessage> {
    if (this.#closed)
      return Promise.reject(new TransportError(`cannot send ${method}: the connection is closed`));
    this.#tap?.('sent', frame);
    return new Promise((resolve, reject) => {
      const body = Buffer.from(frame);
      const req = httpRequest(
        this.#url,
        {
          method: 'POST',
          agent: this.#agent,
          headers: { ...HEADERS, ...extraHeaders, 'content-length': body.length },
          signal: options.signal,
        },
        (res) => {
          clearTimeout(timer);
          resolve(res);
        },
      );
      const timer = setTimeout(() => {
        req.destroy(
          new TransportError(
            `${method} got no HTTP response within ${options.timeoutMs} ms`,
            undefined,
            ErrorCodes.TRANSPORT_TIMEOUT,
          ),
        );
      }, options.timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(
          err instanceof TransportError
            ? err
            : new TransportError(`${method} failed: ${err.message}`, {
                cause: (err as NodeJS.ErrnoException).code,
              }),
        );
      });
      req.end(body);
    });
  }

  async #readJson(response: IncomingMessage, method: string): Promise<ResponseMessage> {
    const text = await readAll(response);
    this.#tap?.('received', text);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new TransportError(
        `the worker answered ${method} with HTTP ${response.statusCode} and a body that is not JSON`,
        { status: response.statusCode, body: text.slice(0, 200) },
        ErrorCodes.TRANSPORT_PROTOCOL_ERROR,
      );
    }
    const incoming = classifyMessage(value);
    if (incoming.kind !== 'response') {
      throw new TransportError(
        `the worker answered ${method} with something that is not a JSON-RPC response (HTTP ${response.statusCode})`,
        { status: response.statusCode },
        ErrorCodes.TRANSPORT_PROTOCOL_ERROR,
      );
    }
    return incoming.message;
  }

  #readSse(
    response: IncomingMessage,
    id: string,
    method: string,
    options: RequestOptions,
  ): Promise<ResponseMessage> {
    const instanceId = response.headers['stepflow-instance-id'];
    return new Promise((resolve, reject) => {
      let buffer = '';
      let done = false;
      const timer = setTimeout(
        () =>
          finish(
            new TransportError(
              `${method} got no final SSE event within ${options.timeoutMs} ms`,
              undefined,
              ErrorCodes.TRANSPORT_TIMEOUT,
            ),
          ),
        options.timeoutMs,
      );
      const finish = (result: ResponseMessage | Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        response.destroy();
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      response.setEncoding('utf8');
      response.on('data', (text: string) => {
        buffer += text;
        let split: number;
        while ((split = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, split);
          buffer = buffer.slice(split + 2);
          const data = event.split('\n').find((line) => line.startsWith('data: '));
          if (!data) continue;
          const payload = data.slice(6);
          this.#tap?.('received', payload);
          let value: unknown;
          try {
            value = JSON.parse(payload);
          } catch {
            this.#log.warn('skipped an SSE event that is not JSON', {
              event: payload.slice(0, 120),
            });
            continue;
          }
          const incoming = classifyMessage(value);
          if (incoming.kind === 'response' && incoming.message.id === id)
            return finish(incoming.message);
          if (incoming.kind === 'request') {
            void this.#answer(
              incoming.message,
              typeof instanceId === 'string' ? instanceId : undefined,
              options,
            );
          } else {
            this.#log.warn('skipped an unexpected SSE event', { kind: incoming.kind });
          }
        }
      });
      response.on('end', () =>
        finish(
          new TransportError(
            `the SSE stream for ${method} ended without a final response`,
            undefined,
            ErrorCodes.TRANSPORT_PROTOCOL_ERROR,
          ),
        ),
      );
      response.on('error', (err) =>
        finish(new TransportError(`the SSE stream for ${method} failed: ${err.message}`)),
      );
    });
  }

  async #answer(
    message: RequestMessage,
    instanceId: string | undefined,
    options: RequestOptions,
  ): Promise<void> {
    const frame = await answerCallback(message, this.#blobStore);
    try {
      const response = await this.#post(
        frame,
        options,
        message.method,
        instanceId ? { 'stepflow-instance-id': instanceId } : {},
      );
      response.resume();
    } catch (err) {
      this.#log.warn('could not deliver a callback answer', {
        method: message.method,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}
