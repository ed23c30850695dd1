import { RpcError } from '@stepflow-packs/core';
import { describe, expect, it } from 'vitest';
import {
  checkIdentifier,
  parseQualifiedName,
  quoteIdent,
  quoteQualified,
} from '../src/identifiers.js';

function refusal(fn: () => unknown): {
  code: number;
  data: Record<string, unknown>;
  message: string;
} {
  try {
    fn();
  } catch (err) {
    if (err instanceof RpcError)
      return { code: err.code, data: err.data as Record<string, unknown>, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('table names', () => {
  it('folds bare names to lower case like SQL and keeps quoted names exact', () => {
    expect(parseQualifiedName('Users')).toEqual({ schema: undefined, name: 'users' });
    expect(parseQualifiedName('Sales.Orders')).toEqual({ schema: 'sales', name: 'orders' });
    expect(parseQualifiedName('"Sales"."My Orders"')).toEqual({
      schema: 'Sales',
      name: 'My Orders',
    });
    expect(parseQualifiedName('public."a.b"')).toEqual({ schema: 'public', name: 'a.b' });
    expect(parseQualifiedName('"say ""hi"""')).toEqual({ schema: undefined, name: 'say "hi"' });
    expect(parseQualifiedName('tëst_1$')).toEqual({ schema: undefined, name: 'tëst_1$' });
  });

  it.each([
    ['t"; DROP TABLE canary; --'],
    ['t; DROP TABLE canary'],
    ['a b'],
    ['a.b.c'],
    ['.t'],
    ['t.'],
    ['"unterminated'],
    ['"a"b'],
    ['1abc'],
    [''],
    ['a..b'],
  ])('refuses %j with -32103 invalid_identifier naming it', (text) => {
    const err = refusal(() => parseQualifiedName(text));
    expect(err.code).toBe(-32103);
    expect(err.data.reason).toBe('invalid_identifier');
    expect(err.data.identifier).toBe(text);
  });

  it('refuses names over 63 bytes (counted in UTF-8) with limit and actual', () => {
    expect(parseQualifiedName('a'.repeat(63)).name).toHaveLength(63);
    const err = refusal(() => parseQualifiedName('a'.repeat(64)));
    expect(err.code).toBe(-32103);
    expect(err.data).toMatchObject({ reason: 'identifier_too_long', limit: 63, actual: 64 });
    // 32 × "é" = 64 bytes although only 32 characters
    expect(refusal(() => checkIdentifier('é'.repeat(32), 'records')).data).toMatchObject({
      actual: 64,
    });
    expect(refusal(() => parseQualifiedName(`"${'x'.repeat(64)}"`)).data.reason).toBe(
      'identifier_too_long',
    );
  });

  it('refuses empty names and NUL characters in column names', () => {
    expect(refusal(() => checkIdentifier('', 'records')).data.reason).toBe('invalid_identifier');
    expect(refusal(() => checkIdentifier('a\u0000b', 'records')).data.reason).toBe(
      'invalid_identifier',
    );
  });

  it('quotes each part, doubling embedded quotes', () => {
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(quoteQualified({ schema: 's"x', name: 't' })).toBe('"s""x"."t"');
    expect(quoteQualified({ schema: undefined, name: 'T' })).toBe('"T"');
  });
});
