import { BadRequestError, type ComponentContext } from '@stepflow-packs/core';
import type { HttpCall, Method } from './engine.js';
import { checkRequestHeaders } from './headers.js';
import type { HttpSettings } from './settings.js';

export interface RequestInput {
  url: string;
  method: Method;
  headers?: Record<string, string> | undefined;
  query?: Record<string, string | number | boolean | (string | number | boolean)[]> | undefined;
  json_data?: unknown;
  form?: Record<string, string | number | boolean> | undefined;
  body?: string | undefined;
  timeout: number;
  retries: number;
  retry_non_idempotent: boolean;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Turn validated component input into an engine call: limits from the server settings,
 * headers checked, URL userinfo moved into an Authorization header, query and body encoded.
 */
export function prepareCall(
  input: RequestInput,
  ctx: ComponentContext<HttpSettings>,
  options: { followRedirects: boolean; accept?: string },
): HttpCall {
  const settings = ctx.config;
  if (input.timeout > settings.maxTimeoutSeconds) {
    throw new BadRequestError(
      `timeout ${input.timeout} s exceeds the server limit of ${settings.maxTimeoutSeconds} s`,
      {
        reason: 'timeout_too_large',
        field: 'timeout',
        limit: settings.maxTimeoutSeconds,
        actual: input.timeout,
      },
    );
  }
  if (input.retries > settings.maxRetries) {
    throw new BadRequestError(
      `retries ${input.retries} exceeds the server limit of ${settings.maxRetries}`,
      {
        reason: 'retries_too_large',
        field: 'retries',
        limit: settings.maxRetries,
        actual: input.retries,
      },
    );
  }
  const headers = checkRequestHeaders(input.headers);
  const url = new URL(input.url);
  if (url.username || url.password) {
    if (!('authorization' in headers)) {
      const credentials = `${decode(url.username)}:${decode(url.password)}`;
      headers.authorization = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
    }
    url.username = '';
    url.password = '';
  }
  if (url.hash) url.hash = '';
  if (input.query) {
    for (const [name, value] of Object.entries(input.query)) {
      for (const item of Array.isArray(value) ? value : [value])
        url.searchParams.append(name, String(item));
    }
  }
  let body: string | undefined;
  if (input.json_data !== undefined && input.json_data !== null) {
    body = JSON.stringify(input.json_data);
    headers['content-type'] ??= 'application/json';
  } else if (input.form !== undefined) {
    body = new URLSearchParams(
      Object.entries(input.form).map(([k, v]): [string, string] => [k, String(v)]),
    ).toString();
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
  } else if (input.body !== undefined) {
    body = input.body;
    headers['content-type'] ??= 'text/plain;charset=utf-8';
  }
  if (options.accept) headers.accept ??= options.accept;
  return {
    url,
    method: input.method,
    headers,
    body,
    timeoutMs: Math.round(input.timeout * 1000),
    retries: input.retries,
    retryNonIdempotent: input.retry_non_idempotent,
    followRedirects: options.followRedirects,
    signal: ctx.signal,
    log: () => ctx.log,
  };
}
