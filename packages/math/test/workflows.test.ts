import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = new URL('../../../', import.meta.url);
const schemas = new URL('packages/core/test/fixtures/schemas/', root);
const folder = fileURLToPath(new URL('workflows/math/', root));
const ajv = new Ajv2020({ strict: false, validateFormats: false });
const validators = {
  'v0.8': ajv.compile(JSON.parse(readFileSync(new URL('flow-v0.8.json', schemas), 'utf8'))),
  'v0.11': ajv.compile(JSON.parse(readFileSync(new URL('flow-v0.11.json', schemas), 'utf8'))),
};
const flows = readdirSync(folder).filter((f) => f.endsWith('.yaml'));

describe('workflows/math', () => {
  it('has flows in both syntaxes', () => {
    const texts = flows.map((f) => readFileSync(`${folder}/${f}`, 'utf8'));
    expect(texts.some((t) => t.includes('$from'))).toBe(true);
    expect(texts.some((t) => t.includes('$step'))).toBe(true);
  });

  it.each(flows)(
    '%s validates against the official flow schema of its syntax and has test cases',
    (file) => {
      const text = readFileSync(`${folder}/${file}`, 'utf8');
      const flow = parse(text, { version: '1.2', schema: 'core' }) as {
        test?: { cases?: unknown[] };
      };
      const validate = text.includes('$from') ? validators['v0.8'] : validators['v0.11'];
      expect(validate(flow), ajv.errorsText(validate.errors)).toBe(true);
      expect(flow.test?.cases?.length).toBeGreaterThan(0);
    },
  );
});
