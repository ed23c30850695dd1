import { describe, expect, it } from 'vitest';
import { formatPath, lookup, parsePath } from '../src/json/path.js';

describe('paths', () => {
  it('treats a string without $ as one field name', () => {
    expect(parsePath('a.b')).toEqual([{ field: 'a.b' }]);
    expect(lookup({ 'a.b': 1, a: { b: 2 } }, parsePath('a.b'))).toMatchObject({
      found: true,
      value: 1,
    });
  });

  it('parses .name, ["name"], [\'name\'] and [N]', () => {
    expect(parsePath('$.x[0]["weird key"][\'q\']')).toEqual([
      { field: 'x' },
      { index: 0 },
      { field: 'weird key' },
      { field: 'q' },
    ]);
    expect(parsePath('')).toEqual([]);
    expect(parsePath('$')).toEqual([]);
  });

  it('rejects wildcards, recursive descent, negative indices and filters', () => {
    for (const bad of ['$.*', '$..a', '$[-1]', '$[?(@.a)]', '$[0:2]', '$x'])
      expect(() => parsePath(bad), bad).toThrow(/invalid path/);
  });

  it('reports a field on a non-object or an index on a non-array as not found', () => {
    expect(lookup([1], parsePath('$.a')).found).toBe(false);
    expect(lookup({ a: 1 }, parsePath('$[0]')).found).toBe(false);
    expect(lookup({ a: [1] }, parsePath('$.a[1]')).found).toBe(false);
  });

  it('prints normalized paths', () => {
    expect(formatPath(parsePath('$.a[2]["weird key"]'))).toBe('$.a[2]["weird key"]');
  });
});
