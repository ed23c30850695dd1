import { z } from '@stepflow-packs/core';

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** Input fields shared by http_request and fetch_json. */
export const requestFields = {
  url: z
    .string()
    .min(1)
    .max(16_384)
    .refine((value) => URL.canParse(value), {
      message: 'must be an absolute URL such as https://api.example.com/items',
    })
    .describe(
      'Absolute http(s) URL. Userinfo (https://user:pass@host) is sent as Basic authentication and never echoed.',
    ),
  method: z
    .preprocess(
      (value) => (typeof value === 'string' ? value.toUpperCase() : value),
      z.enum(METHODS).default('GET'),
    )
    .describe('HTTP method (case-insensitive)'),
  headers: z
    .record(z.string(), z.string())
    .optional()
    .describe(
      'Request headers. CR/LF/NUL and hop-by-hop headers (Connection, Transfer-Encoding, Host…) are refused.',
    ),
  query: z
    .record(z.string(), z.union([scalar, z.array(scalar)]))
    .optional()
    .describe('Query parameters appended to the URL (arrays repeat the parameter)'),
  json_data: z
    .json()
    .optional()
    .describe('JSON request body (sets Content-Type: application/json)'),
  timeout: z
    .number()
    .positive()
    .default(30)
    .describe(
      'Total deadline in seconds for the whole call: connect, headers, body, redirects and retries',
    ),
  retries: z
    .number()
    .int()
    .min(0)
    .default(3)
    .describe('Extra attempts after the first on network errors and 408/429/5xx'),
  retry_non_idempotent: z
    .boolean()
    .default(false)
    .describe('Also retry POST and PATCH (only when the server handles duplicates safely)'),
};

export const bodyFields = {
  form: z
    .record(z.string(), scalar)
    .optional()
    .describe(
      'Form fields sent as application/x-www-form-urlencoded (alternative to json_data and body)',
    ),
  body: z
    .string()
    .optional()
    .describe('Raw request body (text/plain unless a Content-Type header is given)'),
};

type BodyInput = { method: string; json_data?: unknown; form?: unknown; body?: unknown };

/** At most one body, and none on GET/HEAD. */
export function checkBody(input: BodyInput, ctx: z.RefinementCtx): void {
  const given = (['json_data', 'form', 'body'] as const).filter(
    (key) => input[key] !== undefined && input[key] !== null,
  );
  if (given.length > 1) {
    ctx.addIssue({
      code: 'custom',
      path: [given[1]!],
      message: `only one of json_data, form and body may be given (got ${given.join(', ')})`,
    });
  } else if (given.length === 1 && (input.method === 'GET' || input.method === 'HEAD')) {
    ctx.addIssue({
      code: 'custom',
      path: [given[0]!],
      message: `a ${input.method} request cannot carry a body`,
    });
  }
}
