import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = new URL('../../../', import.meta.url);
const schemas = new URL('packages/core/test/fixtures/schemas/', root);
const folder = fileURLToPath(new URL('workflows/http/', root));
const ajv = new Ajv2020({ strict: false, validateFormats: false });
const load = (name: string) => JSON.parse(readFileSync(new URL(name, schemas), 'utf8')) as object;
const validators = {
  'v0.8': ajv.compile(load('flow-v0.8.json')),
  'v0.11': ajv.compile(load('flow-v0.11.json')),
};
const flows = readdirSync(folder).filter((f) => f.endsWith('.yaml'));
const yaml = (file: string) =>
  parse(readFileSync(`${folder}/${file}`, 'utf8'), { version: '1.2', schema: 'core' });

describe('workflows/http', () => {
  it('covers JSON, text, redirects, 404 as data, retries, raise_on_failure with onError, blobs and SSRF', () => {
    const all = flows.map((f) => readFileSync(`${folder}/${f}`, 'utf8')).join('\n');
    for (const needle of [
      '/json',
      '/text',
      '/redirect',
      '/status/404',
      '/flaky/',
      'raise_on_failure: true',
      'action: retry',
      'action: useDefault',
      'response_type: blob',
      'code: -32103',
      '$from',
    ]) {
      expect(all, needle).toContain(needle);
    }
  });

  it.each(flows)(
    '%s validates against the official flow schema of its syntax and has test cases',
    (file) => {
      const text = readFileSync(`${folder}/${file}`, 'utf8');
      const flow = yaml(file) as {
        test?: { cases?: unknown[]; servers?: Record<string, unknown> };
      };
      const validate = text.includes('$from') ? validators['v0.8'] : validators['v0.11'];
      // `test.servers` is a v0.8 key our runner also accepts for v0.11 flows; v0.11 ignores unknown keys.
      const { servers: _servers, ...test } = flow.test ?? {};
      expect(validate({ ...flow, test }), ajv.errorsText(validate.errors)).toBe(true);
      expect(flow.test?.cases?.length).toBeGreaterThan(0);
      expect(flow.test?.servers).toHaveProperty('fixture');
    },
  );

  it('routes /http/{component} to the pack with 127.0.0.1 allowlisted in stepflow-config.yml', () => {
    const validate = ajv.compile(load('stepflow-config-v0.11.json'));
    const config = parse(readFileSync(`${folder}/stepflow-config.yml`, 'utf8'), {
      version: '1.2',
      schema: 'core',
    }) as {
      plugins: { http: { env: Record<string, string>; args: string[] } };
      routes: Record<string, unknown>;
    };
    expect(validate(config), ajv.errorsText(validate.errors)).toBe(true);
    expect(config.routes).toHaveProperty('/http/{component}');
    expect(config.plugins.http.env.STEPFLOW_HTTP_ALLOW_HOSTS).toBe('127.0.0.1');
    expect(config.plugins.http.args).toEqual([
      '../../packages/http/dist/bin.js',
      '--transport',
      'auto',
    ]);
  });
});
