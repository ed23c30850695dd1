import { create, type JsonObject } from '@bufbuild/protobuf';
import {
  ListValueSchema,
  NullValue,
  StructSchema,
  ValueSchema,
  type Struct,
  type Value,
} from '@bufbuild/protobuf/wkt';
import type { JsonValue } from '../../protocol.js';
import { formatPath } from '../../validation.js';

/**
 * A value a component produced that `google.protobuf.Value` cannot carry without loss.
 * `path` names where it sits (`output.rows[3].id`).
 */
export class UnrepresentableValueError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'UnrepresentableValueError';
  }
}

/** Orchestrator → worker. Every number arrives as a double; key order is arbitrary. */
export function fromValue(value: Value | undefined): JsonValue {
  const kind = value?.kind;
  switch (kind?.case) {
    case 'numberValue':
    case 'stringValue':
    case 'boolValue':
      return kind.value;
    case 'structValue':
      return fromStruct(kind.value);
    case 'listValue':
      return kind.value.values.map(fromValue);
    default:
      return null; // nullValue, or an unset kind
  }
}

function fromStruct(struct: Struct): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  for (const key of Object.keys(struct.fields)) {
    const field = struct.fields[key]!;
    // defineProperty keeps "__proto__" an ordinary key.
    if (key === '__proto__') {
      Object.defineProperty(out, key, {
        value: fromValue(field),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[key] = fromValue(field);
    }
  }
  return out;
}

/**
 * Worker → orchestrator. Refuses what the wire would change silently: integers beyond 2^53
 * (already rounded in a double), NaN and ±Infinity (the orchestrator turns them into null),
 * BigInt, functions, symbols and cycles. `undefined` members are omitted, as JSON.stringify does.
 */
export function toValue(value: unknown, root = 'output'): Value {
  return convert(value, [], root, new Set());
}

function convert(value: unknown, path: PropertyKey[], root: string, seen: Set<object>): Value {
  switch (typeof value) {
    case 'string':
      return create(ValueSchema, { kind: { case: 'stringValue', value } });
    case 'boolean':
      return create(ValueSchema, { kind: { case: 'boolValue', value } });
    case 'number':
      if (!Number.isFinite(value)) {
        throw new UnrepresentableValueError(
          formatPath(root, path),
          `${value} is not a finite number`,
        );
      }
      // Whole numbers between 2^53 and 2^63 are read back as 64-bit integers by the
      // orchestrator; as doubles they may already have been rounded (2^53 + 1 cannot exist).
      // Larger magnitudes (1e308) are plainly floating point and pass.
      if (Number.isInteger(value) && !Number.isSafeInteger(value) && Math.abs(value) < 2 ** 63) {
        throw new UnrepresentableValueError(
          formatPath(root, path),
          `the integer ${value} is beyond 2^53 and cannot be represented exactly; send it as a string`,
        );
      }
      return create(ValueSchema, { kind: { case: 'numberValue', value } });
    case 'bigint':
      throw new UnrepresentableValueError(
        formatPath(root, path),
        'a BigInt cannot be represented; send it as a string',
      );
    case 'undefined':
    case 'function':
    case 'symbol':
      throw new UnrepresentableValueError(
        formatPath(root, path),
        `a ${typeof value} is not a JSON value`,
      );
    default:
      break;
  }
  if (value === null)
    return create(ValueSchema, { kind: { case: 'nullValue', value: NullValue.NULL_VALUE } });
  const object = value as object;
  if (seen.has(object)) {
    throw new UnrepresentableValueError(
      formatPath(root, path),
      'a circular reference cannot be represented',
    );
  }
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      const values = object.map((item, i) =>
        // JSON.stringify writes null for undefined array elements; keep positions the same.
        item === undefined
          ? convert(null, [...path, i], root, seen)
          : convert(item, [...path, i], root, seen),
      );
      return create(ValueSchema, {
        kind: { case: 'listValue', value: create(ListValueSchema, { values }) },
      });
    }
    const json = (object as { toJSON?: () => unknown }).toJSON;
    if (typeof json === 'function') return convert(json.call(object), path, root, seen);
    return create(ValueSchema, {
      kind: { case: 'structValue', value: toStructMessage(object, path, root, seen) },
    });
  } finally {
    seen.delete(object);
  }
}

function toStructMessage(
  object: object,
  path: PropertyKey[],
  root: string,
  seen: Set<object>,
): Struct {
  // A null prototype keeps "__proto__" an own key instead of a prototype change.
  const fields = Object.create(null) as Record<string, Value>;
  for (const key of Object.keys(object)) {
    const member = (object as Record<string, unknown>)[key];
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol')
      continue;
    fields[key] = convert(member, [...path, key], root, seen);
  }
  return create(StructSchema, { fields });
}

/**
 * A `google.protobuf.Struct` field (error `data`): an object as is, anything else wrapped as
 * `{value: …}`. Checked like `toValue`.
 */
export function toStructJson(data: unknown, root = 'data'): JsonObject {
  const value = toValue(data, root);
  const object = fromValue(value);
  return object !== null && typeof object === 'object' && !Array.isArray(object)
    ? (object as JsonObject)
    : { value: object };
}
