import { describe, expect, it } from 'vitest';
import { jsonObject, toJsonSchema, z } from '../../src/index.js';

describe('jsonObject', () => {
  it('keeps an own __proto__ key that z.record would drop', () => {
    const value = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const kept = jsonObject().parse(value);
    expect(Object.keys(kept)).toEqual(['__proto__', 'a']);
    expect(Object.keys(z.record(z.string(), z.unknown()).parse(value))).toEqual(['a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects arrays and null', () => {
    expect(jsonObject().safeParse([1]).success).toBe(false);
    expect(jsonObject().safeParse(null).success).toBe(false);
  });

  it('publishes {type: object}', () => {
    expect(toJsonSchema(z.object({ data: jsonObject() }), 'input')).toMatchObject({
      properties: { data: { type: 'object' } },
    });
  });
});
