import {
  ComponentValueError,
  defineComponent,
  ResourceUnavailableError,
  z,
} from '@stepflow-packs/core';
import { parseJson } from '../decode.js';
import { describeUrl, engineFor } from '../engine.js';
import { parsePath, selectPath } from '../jsonpath.js';
import { prepareCall } from '../prepare.js';
import { checkBody, requestFields } from '../schemas.js';
import { settings } from '../settings.js';

const input = z
  .strictObject({
    ...requestFields,
    select: z
      .string()
      .refine((path) => parsePath(path) !== undefined, {
        message: 'must be a field name or a path like $.items[0].name ($, .name, ["name"], [N])',
      })
      .optional()
      .describe(
        'Part of the JSON to return: a field name or $.a.b[0] / $["key"] (Stepflow path syntax)',
      ),
  })
  .superRefine(checkBody);

const output = z.object({
  data: z.json().describe('The response JSON, or the part named by select'),
  status_code: z.number().int().describe('HTTP status of the final response'),
});

/** GET (or the given method) a URL and return its JSON; every failure is an error. */
export const fetchJson = defineComponent({
  name: 'fetch_json',
  description:
    'Fetch a URL and return its JSON (optionally one part of it via select). Non-JSON bodies, 4xx (-32101), 5xx, timeouts and network failures (-32102) are errors.',
  input,
  output,
  settings,
  idempotent: false,
  async execute(request, ctx) {
    const engine = engineFor(ctx.config, ctx.pack.version);
    const call = prepareCall(request, ctx, { followRedirects: true, accept: 'application/json' });
    const outcome = await engine.perform(call);
    if (!outcome.ok) {
      throw new ResourceUnavailableError(outcome.message, {
        reason: outcome.kind === 'timeout' ? 'timeout' : 'network_error',
        ...(outcome.code ? { code: outcome.code } : {}),
        attempts_made: outcome.attempts,
      });
    }
    const { response } = outcome;
    const status = response.status;
    const where = describeUrl(response.url);
    const details = { reason: 'http_status', status_code: status, attempts_made: outcome.attempts };
    if (status >= 500 || status === 408 || status === 429)
      throw new ResourceUnavailableError(`HTTP ${status} from ${where}`, details);
    if (status >= 400) throw new ComponentValueError(`HTTP ${status} from ${where}`, details);
    const parsed = parseJson(response.body);
    if (!parsed.ok) {
      throw new ComponentValueError(`The response from ${where} is not valid JSON`, {
        reason: 'invalid_json',
        status_code: status,
        content_type: response.headers['content-type'] ?? null,
      });
    }
    if (request.select === undefined) return { data: parsed.value, status_code: status };
    const segments = parsePath(request.select)!;
    const selected = selectPath(parsed.value, segments);
    if (!selected.found) {
      throw new ComponentValueError(
        `select path ${request.select} was not found in the response from ${where}`,
        {
          reason: 'select_not_found',
          field: 'select',
          path: request.select,
          missing_segment: selected.at,
        },
      );
    }
    return { data: selected.value as z.infer<ReturnType<typeof z.json>>, status_code: status };
  },
});
