import { describe, expect, it } from 'vitest';
import {
  oneSentence,
  redactCredentials,
  RpcError,
  toRpcErrorObject,
  TransportError,
} from '../../src/errors.js';

describe('redactCredentials', () => {
  it.each([
    ['connect postgres://admin:hunter2@db/prod failed', 'connect postgres://***@db/prod failed'],
    ['https://token@api.example.com/x', 'https://***@api.example.com/x'],
    ['host=db user=app password=hunter2 dbname=prod', 'host=db user=app password=*** dbname=prod'],
    ["host=db password='with space' port=5432", 'host=db password=*** port=5432'],
    ["password = 'it\\'s' x", 'password = *** x'],
    ['Server=db;Uid=app;Pwd=hunter2;Database=prod', 'Server=db;Uid=app;Pwd=***'],
    ['DB_PASSWORD="quoted secret" next', 'DB_PASSWORD=*** next'],
  ])('%s', (input, expected) => {
    expect(redactCredentials(input)).toBe(expected);
    expect(redactCredentials(input)).not.toMatch(/hunter2|with space|quoted secret/);
  });

  it('leaves text without credentials alone', () => {
    const text = 'password policy: at least 12 characters; see https://example.com/docs';
    expect(redactCredentials(text)).toBe(text);
  });

  it('is applied to unexpected errors on the wire', () => {
    const wire = toRpcErrorObject(new Error('cannot log in with password=hunter2\n  at x.js:1'));
    expect(wire.message).toBe('Unexpected error in the component: cannot log in with password=***');
    expect(oneSentence('a\nb')).toBe('a');
  });
});

describe('toRpcErrorObject', () => {
  it('turns a transport code thrown by component code into a retryable -32102, never -32300…-32399', () => {
    const wire = toRpcErrorObject(
      new TransportError('upstream worker went away', undefined, -32302),
    );
    expect(wire).toEqual({
      code: -32102,
      message: 'upstream worker went away',
      data: { retryable: true, reason: 'dependency_transport_error', transport_code: -32302 },
    });
  });

  it('keeps the code of other typed errors', () => {
    expect(toRpcErrorObject(new RpcError(-32103, 'no', { reason: 'x' }))).toEqual({
      code: -32103,
      message: 'no',
      data: { reason: 'x' },
    });
  });
});
