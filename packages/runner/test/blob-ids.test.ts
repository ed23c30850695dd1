import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RunnerBlobStore } from '../src/blobs/store.js';
import { canonicalJson, formatFloat } from '../src/json/canonical.js';
import { parseYaml } from '../src/json/yaml.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('blob ids match the Rust runtime (serde_json serialization)', () => {
  it('reproduces the id verified against the real fixtures, keeping the timestamp a string', () => {
    const value = parseYaml(
      'message: Hello, blobs!\nnumber: 42\ntimestamp: 2024-01-01T00:00:00Z\n',
    );
    expect(new RunnerBlobStore().putSync(value)).toBe(
      '2b566ff16f11d28c29521759abde29e5762fb10b7a1c4dec05c09d9057b41d7c',
    );
  });

  it('reproduces the ids pinned in the upstream blob_test fixture', () => {
    const store = new RunnerBlobStore();
    const complex = parseYaml(
      'message: Hello, blobs!\nnumber: 42\nnested:\n  array: [1, 2, 3]\n  boolean: true\n',
    );
    expect(store.putSync(complex)).toBe(
      '868591347a854ba1d0f4875b2dd44e1e8335052af03725a9819f89e0142318b0',
    );
  });

  it('keeps integer-like keys in source order instead of moving them first', () => {
    const value = parseYaml('b: 1\n"1": x\na: 2\n"0": y\n');
    expect(canonicalJson(value)).toBe('{"b":1,"1":"x","a":2,"0":"y"}');
    expect(new RunnerBlobStore().putSync(value)).toBe(sha('{"b":1,"1":"x","a":2,"0":"y"}'));
  });

  it('prints integral floats with .0 and keeps integers as written', () => {
    const value = parseYaml('f: 1.0\ni: 1\ng: 2.50\ne: 1e3\nlist: [3.0, 3]\n');
    expect(canonicalJson(value)).toBe('{"f":1.0,"i":1,"g":2.5,"e":1000.0,"list":[3.0,3]}');
  });

  it('reads JSON text with the same rules (1.0 stays a float)', () => {
    expect(canonicalJson(parseYaml('{"a": 1.0, "b": [0.5, 7]}'))).toBe('{"a":1.0,"b":[0.5,7]}');
  });

  it('lays out floats like ryu', () => {
    expect([1, 0.1, 1e-7, 1e16, 1.5e22, 123456.75, -2, 1e15, 0.00001].map(formatFloat)).toEqual([
      '1.0',
      '0.1',
      '1e-7',
      '1e16',
      '1.5e22',
      '123456.75',
      '-2.0',
      '1000000000000000.0',
      '0.00001',
    ]);
  });

  it('escapes strings minimally (no / or non-ASCII escapes)', () => {
    expect(canonicalJson({ s: 'a/b "é" \n\u0001' })).toBe('{"s":"a/b \\"é\\" \\n\\u0001"}');
  });
});
