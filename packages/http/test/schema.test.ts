import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { fetchJson, httpRequest } from '../src/index.js';

type Schema = { properties: Record<string, { default?: unknown }>; required?: string[] };

describe('published schemas', () => {
  it('carry the documented http_request contract with its defaults', () => {
    const input = httpRequest.inputJsonSchema as Schema;
    expect(input.required).toEqual(['url']);
    expect(input.properties.method?.default).toBe('GET');
    expect(input.properties.timeout?.default).toBe(30);
    expect(input.properties.retries?.default).toBe(3);
    for (const key of ['headers', 'json_data']) expect(input.properties[key]).toBeDefined();
    const output = httpRequest.outputJsonSchema as Schema;
    expect(output.required).toEqual(
      expect.arrayContaining([
        'success',
        'status_code',
        'data',
        'error_message',
        'response_time_ms',
        'attempts_made',
      ]),
    );
  });

  it('compile as JSON Schema 2020-12 and accept the documented example input', () => {
    const ajv = new Ajv2020({ strict: false });
    for (const component of [httpRequest, fetchJson]) {
      const validate = ajv.compile(component.inputJsonSchema);
      expect(validate({ url: 'https://api.example.com/x', method: 'GET', timeout: 5 })).toBe(true);
      expect(validate({ url: 'https://api.example.com/x', nope: 1 })).toBe(false);
      ajv.compile(component.outputJsonSchema);
    }
  });
});
