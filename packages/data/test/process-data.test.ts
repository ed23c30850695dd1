import { describe, expect, it } from 'vitest';
import { dataKit, failure, json } from './helpers.js';

interface Output {
  processed_data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  processing_time_ms: number;
}

describe('process_data', () => {
  const kit = dataKit();

  it('title-cases names but keeps e-mail addresses, as the documentation’s unit test expects', async () => {
    const out = await kit.execute<Output>('process_data', {
      data: { name: 'john doe', email: 'john@example.com' },
      processing_rules: { title_case: true },
      include_metadata: true,
    });
    expect(out.processed_data).toEqual({ name: 'John Doe', email: 'john@example.com' });
    expect(out.metadata.component_version).toBe('1.0.0');
    expect(out.processing_time_ms).toBeGreaterThanOrEqual(0);
  });

  it('returns data unchanged and metadata {} without rules or metadata', async () => {
    const out = await kit.execute<Output>('process_data', {
      data: { name: 'john doe', status: 'active' },
      include_metadata: false,
    });
    expect(out.processed_data).toEqual({ name: 'john doe', status: 'active' });
    expect(out.metadata).toEqual({});
  });

  it('applies uppercase over lowercase over title_case', async () => {
    const data = { a: 'MiXed Case' };
    const run = async (rules: Record<string, boolean>) =>
      (await kit.execute<Output>('process_data', { data, processing_rules: rules })).processed_data
        .a;
    expect(await run({ uppercase: true, lowercase: true, title_case: true })).toBe('MIXED CASE');
    expect(await run({ lowercase: true, title_case: true })).toBe('mixed case');
    expect(await run({ title_case: true })).toBe('Mixed Case');
  });

  it('transforms only the listed fields and only top-level strings', async () => {
    const out = await kit.execute<Output>('process_data', {
      data: { a: 'x', b: 'y', n: 1, nested: { c: 'z' } },
      processing_rules: { uppercase: true, fields: ['a', 'nested'] },
    });
    expect(out.processed_data).toEqual({ a: 'X', b: 'y', n: 1, nested: { c: 'z' } });
  });

  it('describes the processing in metadata with an ISO 8601 time and both key lists', async () => {
    const out = await kit.execute<Output>('process_data', {
      data: { k: 'v' },
      processing_rules: null,
    });
    expect(new Date(out.metadata.processed_at as string).toISOString()).toBe(
      out.metadata.processed_at,
    );
    expect(out.metadata).toMatchObject({
      original_keys: ['k'],
      processed_keys: ['k'],
      rules_applied: {},
    });
  });

  it('title-cases by code point and leaves URLs alone', async () => {
    const out = await kit.execute<Output>('process_data', {
      data: { s: 'élan ÉCOLE 𝒶bc see https://Example.com/X', t: '  two\tspaces ' },
      processing_rules: { title_case: true },
    });
    expect(out.processed_data.s).toBe('Élan École 𝒶bc See https://Example.com/X');
    expect(out.processed_data.t).toBe('  Two\tSpaces ');
  });

  it('keeps __proto__, constructor and prototype keys as data', async () => {
    const out = await kit.execute<Output>('process_data', {
      data: json('{"__proto__":"a","constructor":"b","prototype":"c"}'),
      processing_rules: { uppercase: true },
    });
    expect(JSON.stringify(out.processed_data)).toBe(
      '{"__proto__":"A","constructor":"B","prototype":"C"}',
    );
    expect(out.metadata.original_keys).toEqual(['__proto__', 'constructor', 'prototype']);
  });

  it('answers -32003 naming input.data when data is not an object', async () => {
    const error = await failure(kit, 'process_data', { data: [1] });
    expect(error.code).toBe(-32003);
    expect(error.message).toMatch(/^input\.data: /);
  });

  it('answers -32003 naming the unknown rule', async () => {
    const error = await failure(kit, 'process_data', {
      data: {},
      processing_rules: { shout: true },
    });
    expect(error.code).toBe(-32003);
    expect(error.message).toContain('input.processing_rules.shout');
  });

  it('answers -32103 too_deep when data nests deeper than maxDepth', async () => {
    const error = await failure(dataKit({ maxDepth: 2 }), 'process_data', {
      data: { a: { b: { c: 1 } } },
    });
    expect(error).toMatchObject({
      code: -32103,
      data: { reason: 'too_deep', limit: 2, field: 'data' },
    });
  });
});
