import type { IncomingHttpHeaders } from 'node:http';
import {
  BadRequestError,
  ComponentError,
  ComponentValueError,
  type Logger,
} from '@stepflow-packs/core';
import type { Agent } from 'undici';
import { CallControl, DeadlineExceeded, linkSignal } from './deadline.js';
import { Exchange } from './exchange.js';
import { CREDENTIAL_HEADERS, headerValue } from './headers.js';
import { createSafeAgent, type Resolver } from './net/agent.js';
import { BlockedError, UrlPolicy } from './net/policy.js';
import {
  backoffDelay,
  IDEMPOTENT_METHODS,
  isConnectError,
  isTransientError,
  parseRetryAfter,
  RETRY_STATUSES,
} from './retry.js';
import type { HttpSettings } from './settings.js';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

export interface HttpCall {
  /** Target URL without userinfo (credentials travel in headers only). */
  url: URL;
  method: Method;
  /** Validated, lowercase names (the engine adds User-Agent and Accept-Encoding when absent). */
  headers: Record<string, string>;
  body?: string | Buffer | undefined;
  timeoutMs: number;
  retries: number;
  retryNonIdempotent: boolean;
  followRedirects: boolean;
  signal?: AbortSignal | undefined;
  /** The step's logger, fetched only when something is logged (creating it has a cost). */
  log?: (() => Logger) | undefined;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Final URL after redirects (no userinfo). */
  url: URL;
  redirects: number;
}

export type Outcome =
  | { ok: true; response: HttpResponse; attempts: number; elapsedMs: number }
  | {
      ok: false;
      kind: 'network' | 'timeout';
      code: string | undefined;
      message: string;
      attempts: number;
      elapsedMs: number;
      /** The last HTTP response seen before the failure, if any. */
      response?: HttpResponse;
    };

/** Origin and path only: no userinfo, no query (either may carry secrets). */
export function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function errorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string')
    return err.code;
  return undefined;
}

const NETWORK_TEXT: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'the host name could not be resolved',
  EAI_AGAIN: 'the host name could not be resolved (temporary DNS failure)',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  EPIPE: 'the connection was closed while sending',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connecting timed out',
  UND_ERR_SOCKET: 'the server closed the connection',
  UND_ERR_CLOSED: 'the connection was closed',
};

function networkMessage(url: URL, err: unknown): string {
  const code = errorCode(err);
  const text = (code && NETWORK_TEXT[code]) ?? 'the request failed';
  return `Request to ${describeUrl(url)} failed: ${text}${code ? ` (${code})` : ''}`;
}

function sleep(ms: number, control: CallControl): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    control.track({
      cancel(reason) {
        clearTimeout(timer);
        reject(reason);
      },
    });
  });
}

/**
 * Performs HTTP calls for the pack: SSRF policy at every hop and on every connected address,
 * one deadline per call (queueing for a socket, connect, headers, body, redirects and retries;
 * the call settles at the deadline whatever stage it is in), bounded decoded bodies, retries
 * with backoff + jitter for idempotent methods, Retry-After within the deadline. Requests go
 * through `Exchange` dispatch handlers on the shared Agent.
 */
export class HttpEngine {
  readonly policy: UrlPolicy;
  readonly agent: Agent;
  readonly settings: HttpSettings;
  readonly userAgent: string;
  readonly #sensitive: string[];

  constructor(settings: HttpSettings, options: { version?: string; resolver?: Resolver } = {}) {
    this.settings = settings;
    this.policy = new UrlPolicy(settings.allowHosts);
    this.agent = createSafeAgent({
      policy: this.policy,
      ...(options.resolver ? { resolver: options.resolver } : {}),
      ...(settings.connectionsPerOrigin > 0 ? { connections: settings.connectionsPerOrigin } : {}),
      connectTimeoutMs: settings.connectTimeoutMs,
      backstopTimeoutMs: settings.maxTimeoutSeconds * 1000 + 5_000,
    });
    this.userAgent = settings.userAgent ?? `stepflow-pack-http/${options.version ?? '0'}`;
    this.#sensitive = [
      ...CREDENTIAL_HEADERS,
      ...settings.sensitiveHeaders.map((h) => h.toLowerCase()),
    ];
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /**
   * Run a call. Policy refusals throw BadRequestError (-32103); HTTP statuses and network
   * failures are returned as an Outcome for the component to map.
   */
  async perform(call: HttpCall): Promise<Outcome> {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
    const deadlineAt = started + call.timeoutMs;
    const control = new CallControl(call.timeoutMs);
    const unlink = linkSignal(call.signal, control);
    const headers = call.headers;
    if (!('user-agent' in headers)) headers['user-agent'] = this.userAgent;
    if (!('accept-encoding' in headers)) headers['accept-encoding'] = 'gzip, deflate, br';
    const retryable = IDEMPOTENT_METHODS.has(call.method) || call.retryNonIdempotent;
    let attempts = 0;
    let lastResponse: HttpResponse | undefined;
    try {
      for (;;) {
        attempts++;
        let delayHint: number | undefined;
        let failure: Extract<Outcome, { ok: false }> | undefined;
        try {
          const response = await this.#attempt(call, control);
          lastResponse = response;
          if (!RETRY_STATUSES.has(response.status) || !retryable || attempts > call.retries) {
            return { ok: true, response, attempts, elapsedMs: elapsed() };
          }
          const retryAfter = parseRetryAfter(headerValue(response.headers, 'retry-after'));
          if (retryAfter !== undefined) {
            if (
              retryAfter > this.settings.maxRetryAfterSeconds * 1000 ||
              performance.now() + retryAfter >= deadlineAt
            ) {
              // The server asks for a wait we cannot honour: answer now instead of hammering it.
              return { ok: true, response, attempts, elapsedMs: elapsed() };
            }
            delayHint = retryAfter;
          }
        } catch (err) {
          if (err instanceof BadRequestError || err instanceof ComponentValueError) throw err;
          if (control.aborted) {
            if (!(control.reason instanceof DeadlineExceeded)) {
              throw new ComponentError(
                'The HTTP call was cancelled because the request was abandoned',
                { reason: 'cancelled' },
              );
            }
            return {
              ok: false,
              kind: 'timeout',
              code: 'TIMEOUT',
              message: `No complete response from ${describeUrl(call.url)} within the ${call.timeoutMs / 1000} s deadline (connect, headers, body and retries)`,
              attempts,
              elapsedMs: elapsed(),
              ...(lastResponse ? { response: lastResponse } : {}),
            };
          }
          const code = errorCode(err);
          failure = {
            ok: false,
            kind: 'network',
            code,
            message: networkMessage(call.url, err),
            attempts,
            elapsedMs: 0,
          };
          const again = isConnectError(code) || (retryable && isTransientError(code));
          if (!again || attempts > call.retries) return { ...failure, elapsedMs: elapsed() };
        }
        const delay = Math.max(
          delayHint ?? 0,
          backoffDelay(attempts, this.settings.retryBaseDelayMs, this.settings.retryMaxDelayMs),
        );
        if (performance.now() + delay >= deadlineAt) {
          if (failure) return { ...failure, elapsedMs: elapsed() };
          return { ok: true, response: lastResponse!, attempts, elapsedMs: elapsed() };
        }
        call.log?.().debug('retrying HTTP request', {
          attempt: attempts + 1,
          delay_ms: delay,
          origin: call.url.origin,
        });
        try {
          await sleep(delay, control);
        } catch {
          if (!(control.reason instanceof DeadlineExceeded)) {
            throw new ComponentError(
              'The HTTP call was cancelled because the request was abandoned',
              { reason: 'cancelled' },
            );
          }
          if (failure) return { ...failure, elapsedMs: elapsed() };
          return { ok: true, response: lastResponse!, attempts, elapsedMs: elapsed() };
        }
      }
    } finally {
      control.dispose();
      unlink();
    }
  }

  /** One attempt: the request and its redirect chain, ending with a fully read body. */
  async #attempt(call: HttpCall, control: CallControl): Promise<HttpResponse> {
    let url = call.url;
    let method: Method = call.method;
    let body = call.body;
    let headers = call.headers;
    for (let redirects = 0; ; redirects++) {
      this.policy.checkUrl(url);
      const exchange = new Exchange({
        limit: this.settings.maxResponseBytes,
        followRedirects: call.followRedirects,
        head: method === 'HEAD',
      });
      control.track(exchange);
      this.agent.dispatch(
        {
          origin: url.origin,
          path: url.search ? url.pathname + url.search : url.pathname,
          method,
          headers,
          body: body ?? null,
        },
        exchange,
      );
      const response = await exchange.promise;
      const location = response.location;
      if (location === undefined) {
        return {
          status: response.status,
          headers: response.headers,
          body: response.body,
          url,
          redirects,
        };
      }
      if (redirects >= this.settings.maxRedirects) {
        throw new BadRequestError(
          `Too many redirects: more than ${this.settings.maxRedirects} starting at ${describeUrl(call.url)}`,
          {
            reason: 'too_many_redirects',
            limit: this.settings.maxRedirects,
          },
        );
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new BadRequestError(`The server at ${url.origin} redirected to an invalid URL`, {
          reason: 'invalid_redirect',
        });
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new BlockedError(
          `Redirect from ${url.origin} to a ${next.protocol.replace(/:$/, '')} URL refused: only http and https are allowed`,
          {
            reason: 'scheme_not_allowed',
            scheme: next.protocol.replace(/:$/, ''),
            redirect: true,
          },
        );
      }
      // Credentials never come from a Location header, and never follow to another origin.
      next.username = '';
      next.password = '';
      if (next.origin !== url.origin) {
        headers = Object.fromEntries(
          Object.entries(headers).filter(([name]) => !this.#sensitive.includes(name)),
        );
      }
      const status = response.status;
      if (
        status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST'
      ) {
        method = 'GET';
        body = undefined;
        headers = Object.fromEntries(
          Object.entries(headers).filter(([name]) => !name.startsWith('content-')),
        );
      }
      call.log?.().debug('following redirect', { status, from: url.origin, to: next.origin });
      url = next;
    }
  }
}

const engines = new Map<object, HttpEngine>();

/** The engine (and shared keep-alive Agent) for a pack configuration, created once. */
export function engineFor(settings: HttpSettings, version: string): HttpEngine {
  let engine = engines.get(settings);
  if (!engine) {
    engine = new HttpEngine(settings, { version });
    engines.set(settings, engine);
  }
  return engine;
}

/** Close every engine's Agent (keep-alive sockets); the pack's close hook. */
export async function closeEngines(): Promise<void> {
  const all = [...engines.values()];
  engines.clear();
  await Promise.all(all.map((engine) => engine.close().catch(() => {})));
}
