import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/protocol.js';
import { TaskErrorCode } from '../../src/transport/grpc/gen/stepflow/v1/common_pb.js';
import { grpcOptionsFrom, launchedForGrpc } from '../../src/transport/grpc/options.js';
import { normalizeGrpcUrl } from '../../src/transport/grpc/channels.js';
import {
  taskErrorCodeOf,
  taskErrorName,
  toTaskError,
} from '../../src/transport/grpc/task-errors.js';
import { fromValue, toStructJson, toValue } from '../../src/transport/grpc/values.js';
import { ComponentError, ResourceUnavailableError } from '../../src/errors.js';

describe('protobuf Value conversion', () => {
  it('round-trips JSON without loss within what Value carries', () => {
    const json = {
      a: 1,
      b: -2.5,
      c: 'x',
      d: true,
      e: null,
      f: [1, [2, { g: 'h' }]],
      h: {},
      i: [],
      big: 2 ** 53 - 1,
    };
    expect(fromValue(toValue(json))).toEqual(json);
  });

  it('omits undefined members and writes null for undefined array items, as JSON does', () => {
    expect(fromValue(toValue({ a: undefined, b: [undefined, 1] }))).toEqual({ b: [null, 1] });
  });

  it('keeps "__proto__" an ordinary key', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}}') as object;
    const back = fromValue(toValue(parsed)) as Record<string, unknown>;
    expect(Object.keys(back)).toEqual(['__proto__']);
    const wire = fromValue(
      fromBinary(ValueSchema, toBinary(ValueSchema, toValue(parsed))),
    ) as object;
    expect(Object.keys(wire)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    [{ n: 2 ** 53 }, 'output.n', /beyond 2\^53/],
    [{ n: [Infinity] }, 'output.n[0]', /not a finite number/],
    [{ n: 1n }, 'output.n', /BigInt/],
  ])('refuses %o naming %s', (value, path, reason) => {
    expect(() => toValue(value)).toThrow(path);
    expect(() => toValue(value)).toThrow(reason);
  });

  it('passes doubles too large to be integers (1e308) and the largest safe integer', () => {
    expect(fromValue(toValue({ big: 1e308, max: Number.MAX_SAFE_INTEGER, neg: -1e300 }))).toEqual({
      big: 1e308,
      max: Number.MAX_SAFE_INTEGER,
      neg: -1e300,
    });
  });

  it('refuses cycles but accepts the same object twice', () => {
    const shared = { x: 1 };
    expect(fromValue(toValue({ a: shared, b: shared }))).toEqual({ a: { x: 1 }, b: { x: 1 } });
    const cycle: Record<string, unknown> = {};
    cycle.me = cycle;
    expect(() => toValue(cycle)).toThrow(/circular/);
  });

  it('reads an unset kind as null', () => {
    expect(fromValue(create(ValueSchema, {}))).toBeNull();
    expect(fromValue(undefined)).toBeNull();
  });

  it('wraps non-object error data as {value}', () => {
    expect(toStructJson([1, 2])).toEqual({ value: [1, 2] });
    expect(toStructJson({ k: 'v' })).toEqual({ k: 'v' });
  });
});

describe('error codes onto TaskErrorCode', () => {
  it.each([
    [ErrorCodes.INVALID_INPUT_SCHEMA, 'INVALID_INPUT'],
    [ErrorCodes.COMPONENT_BAD_REQUEST, 'INVALID_INPUT'],
    [ErrorCodes.COMPONENT_NOT_FOUND, 'COMPONENT_NOT_FOUND'],
    [ErrorCodes.COMPONENT_EXECUTION_FAILED, 'COMPONENT_FAILED'],
    [ErrorCodes.COMPONENT_VALUE_ERROR, 'COMPONENT_FAILED'],
    [-32150, 'COMPONENT_FAILED'],
    [ErrorCodes.COMPONENT_RESOURCE_UNAVAILABLE, 'RESOURCE_UNAVAILABLE'],
    [ErrorCodes.TRANSPORT_TIMEOUT, 'RESOURCE_UNAVAILABLE'],
    [ErrorCodes.WORKER_ERROR, 'WORKER_ERROR'],
    [ErrorCodes.INTERNAL_ERROR, 'WORKER_ERROR'],
  ])('%i → %s', (code, name) => {
    expect(taskErrorName(taskErrorCodeOf(code))).toBe(name);
  });

  it('never produces TIMEOUT or UNREACHABLE, which would restart the worker', () => {
    for (let code = -32800; code <= -31999; code++) {
      expect([
        TaskErrorCode.TIMEOUT,
        TaskErrorCode.UNREACHABLE,
        TaskErrorCode.UNSPECIFIED,
      ]).not.toContain(taskErrorCodeOf(code));
    }
  });

  it('keeps data and a single-line message', () => {
    expect(toTaskError(new ResourceUnavailableError('db down', { reason: 'x' }))).toEqual({
      code: TaskErrorCode.RESOURCE_UNAVAILABLE,
      message: 'db down',
      data: { retryable: true, reason: 'x' },
    });
    expect(toTaskError(new ComponentError('first\nsecond')).message).toBe('first');
  });
});

describe('gRPC settings', () => {
  const defaults = { queueName: 'math', shutdownGraceMs: 10_000, blobTimeoutMs: 30_000 };

  it('accepts URLs with or without http://, keeps https://', () => {
    expect(normalizeGrpcUrl('127.0.0.1:41873')).toBe('http://127.0.0.1:41873');
    expect(normalizeGrpcUrl('http://127.0.0.1:41873/')).toBe('http://127.0.0.1:41873');
    expect(normalizeGrpcUrl('https://orch.example:443')).toBe('https://orch.example');
    expect(() => normalizeGrpcUrl('nats://x:4222')).toThrow(/http:\/\/ or https:\/\//);
  });

  it('reads the launch environment, flags winning, with documented defaults', () => {
    const env = {
      STEPFLOW_TASKS_URL: '127.0.0.1:1',
      STEPFLOW_QUEUE_NAME: 'q',
      STEPFLOW_MAX_CONCURRENT: '3',
    };
    expect(grpcOptionsFrom({}, env, defaults)).toMatchObject({
      tasksUrl: 'http://127.0.0.1:1',
      blobUrl: 'http://127.0.0.1:1',
      queueName: 'q',
      maxConcurrent: 3,
      reconnectTimeoutMs: 60_000,
      maxMessageBytes: 4 * 1024 * 1024,
    });
    expect(
      grpcOptionsFrom({ 'queue-name': 'flag', 'max-concurrent': '9' }, env, defaults),
    ).toMatchObject({ queueName: 'flag', maxConcurrent: 9 });
    expect(grpcOptionsFrom({}, {}, defaults)).toMatchObject({
      tasksUrl: 'http://127.0.0.1:7840',
      queueName: 'math',
      maxConcurrent: 16,
    });
  });

  it('names the variable of a bad value', () => {
    expect(() => grpcOptionsFrom({}, { STEPFLOW_MAX_CONCURRENT: '0' }, defaults)).toThrow(
      /STEPFLOW_MAX_CONCURRENT/,
    );
    expect(() => grpcOptionsFrom({}, { STEPFLOW_TASKS_URL: 'ftp://x' }, defaults)).toThrow(
      /STEPFLOW_TASKS_URL/,
    );
  });

  it('auto picks gRPC only from the launch environment', () => {
    expect(launchedForGrpc({ STEPFLOW_TRANSPORT: 'grpc' })).toBe(true);
    expect(launchedForGrpc({ STEPFLOW_TASKS_URL: '127.0.0.1:1' })).toBe(true);
    expect(launchedForGrpc({ STEPFLOW_PORT: '7840', STEPFLOW_LOG_LEVEL: 'info' })).toBe(false);
  });
});
