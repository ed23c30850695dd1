import {
  ComponentValueError,
  defineComponent,
  ResourceUnavailableError,
  z,
  type ComponentContext,
  type JsonValue,
} from '@stepflow-packs/core';
import { asText, decodeAuto, parseJson } from '../decode.js';
import { describeUrl, engineFor, type HttpResponse, type Outcome } from '../engine.js';
import { headerValue, publicResponseHeaders } from '../headers.js';
import { prepareCall } from '../prepare.js';
import { bodyFields, checkBody, requestFields } from '../schemas.js';
import { settings, type HttpSettings } from '../settings.js';

const input = z
  .strictObject({
    ...requestFields,
    ...bodyFields,
    raise_on_failure: z
      .boolean()
      .default(false)
      .describe(
        'Turn failures into errors so onError applies: -32101 for 4xx, -32102 for network errors, timeouts and 5xx',
      ),
    response_type: z
      .enum(['auto', 'json', 'text', 'blob'])
      .default('auto')
      .describe(
        'auto: JSON if the Content-Type says so, else {text}; json: must parse; text: {text}; blob: store the decoded body with putBlob and return {blob_id, content_type, size_bytes}',
      ),
    follow_redirects: z
      .boolean()
      .default(true)
      .describe('Follow up to the server limit of redirects (5 by default)'),
  })
  .superRefine(checkBody);

const output = z.object({
  success: z.boolean().describe('True when a response arrived with status < 400'),
  status_code: z
    .number()
    .int()
    .describe('HTTP status of the final response; 0 when no response arrived'),
  data: z
    .json()
    .nullable()
    .describe(
      'Parsed JSON, {text}, {base64, content_type} or {blob_id, …}; null when empty or failed',
    ),
  error_message: z
    .string()
    .nullable()
    .describe('"HTTP 404", or why no response arrived; null on success'),
  response_time_ms: z.number().describe('Wall time of the whole call, retries included'),
  attempts_made: z.number().int().describe('Attempts made (1 + retries used)'),
  headers: z
    .record(z.string(), z.string())
    .describe('Response headers, lowercase names (Set-Cookie removed)'),
  final_url: z
    .string()
    .nullable()
    .describe('Origin and path of the final URL after redirects (no query, no userinfo)'),
  redirects: z.number().int().describe('Redirects followed'),
});

type Input = z.output<typeof input>;
type Output = z.input<typeof output>;

function failureError(outcome: Outcome, status: number): Error {
  if (!outcome.ok) {
    return new ResourceUnavailableError(outcome.message, {
      reason: outcome.kind === 'timeout' ? 'timeout' : 'network_error',
      ...(outcome.code ? { code: outcome.code } : {}),
      status_code: 0,
      attempts_made: outcome.attempts,
    });
  }
  const where = describeUrl(outcome.response.url);
  const data = { reason: 'http_status', status_code: status, attempts_made: outcome.attempts };
  return status >= 500 || status === 408 || status === 429
    ? new ResourceUnavailableError(`HTTP ${status} from ${where}`, data)
    : new ComponentValueError(`HTTP ${status} from ${where}`, data);
}

function decodeResponse(
  response: HttpResponse,
  type: Input['response_type'],
): { data: JsonValue; decodeError?: string } {
  const contentType = headerValue(response.headers, 'content-type');
  switch (type) {
    case 'text':
      return { data: asText(response.body) };
    case 'json': {
      const parsed = parseJson(response.body);
      return parsed.ok
        ? { data: parsed.value }
        : { data: null, decodeError: 'The response body is not valid JSON' };
    }
    default:
      return { data: decodeAuto(response.body, contentType) };
  }
}

/** `blob`: store the decoded body with putBlob and return a reference to it. */
async function storeBlob(
  response: HttpResponse,
  ctx: ComponentContext<HttpSettings>,
): Promise<{ data: JsonValue; decodeError?: string }> {
  const contentType = headerValue(response.headers, 'content-type');
  const blobId = await ctx.putBlob(decodeAuto(response.body, contentType));
  return {
    data: {
      blob_id: blobId,
      content_type: contentType ?? null,
      size_bytes: response.body.length,
    },
  };
}

/** The `http_request` contract from Stepflow's custom-component documentation, hardened. */
export const httpRequest = defineComponent({
  name: 'http_request',
  description:
    'Make an HTTP request. HTTP error statuses and network failures are results (success: false) unless raise_on_failure is set; blocked URLs are always errors (-32103).',
  input,
  output,
  settings,
  idempotent: false,
  async execute(request, ctx): Promise<Output> {
    const engine = engineFor(ctx.config, ctx.pack.version);
    const call = prepareCall(request, ctx, { followRedirects: request.follow_redirects });
    const outcome = await engine.perform(call);
    if (!outcome.ok) {
      if (request.raise_on_failure) throw failureError(outcome, 0);
      return {
        success: false,
        status_code: 0,
        data: null,
        error_message: outcome.message,
        response_time_ms: outcome.elapsedMs,
        attempts_made: outcome.attempts,
        headers: {},
        final_url: null,
        redirects: 0,
      };
    }
    const { response } = outcome;
    const status = response.status;
    // Only blob responses wait for anything: the common case stays synchronous.
    const { data, decodeError } =
      request.response_type === 'blob'
        ? await storeBlob(response, ctx)
        : decodeResponse(response, request.response_type);
    const success = status < 400 && decodeError === undefined;
    if (!success && request.raise_on_failure) {
      if (decodeError) {
        throw new ComponentValueError(`${decodeError} (${describeUrl(response.url)})`, {
          reason: 'invalid_json',
          status_code: status,
        });
      }
      throw failureError(outcome, status);
    }
    return {
      success,
      status_code: status,
      data,
      error_message: decodeError ?? (status >= 400 ? `HTTP ${status}` : null),
      response_time_ms: outcome.elapsedMs,
      attempts_made: outcome.attempts,
      headers: publicResponseHeaders(response.headers),
      final_url: describeUrl(response.url),
      redirects: response.redirects,
    };
  },
});
