import { create } from '@bufbuild/protobuf';
import {
  ListValueSchema,
  NullValue,
  StructSchema,
  ValueSchema,
  type Struct,
  type Value,
} from '@bufbuild/protobuf/wkt';
import { ArrayBuilder, entriesOf, isObject, ObjectBuilder, type Json } from '../json/value.js';

/**
 * The orchestrator's side of `google.protobuf.Value`. Outbound every number
 * is a double; inbound, whole numbers read back as integers (JavaScript numbers already print
 * that way), non-finite numbers and unset kinds become null, and object keys are sorted by
 * byte order — so blob ids of worker data are deterministic.
 */
export function toWire(value: Json): Value {
  if (value === null)
    return create(ValueSchema, { kind: { case: 'nullValue', value: NullValue.NULL_VALUE } });
  switch (typeof value) {
    case 'string':
      return create(ValueSchema, { kind: { case: 'stringValue', value } });
    case 'boolean':
      return create(ValueSchema, { kind: { case: 'boolValue', value } });
    case 'number':
      return create(ValueSchema, { kind: { case: 'numberValue', value } });
    default:
      break;
  }
  if (Array.isArray(value))
    return create(ValueSchema, {
      kind: { case: 'listValue', value: create(ListValueSchema, { values: value.map(toWire) }) },
    });
  return create(ValueSchema, { kind: { case: 'structValue', value: toWireStruct(value) } });
}

export function toWireStruct(value: Json): Struct {
  const fields = Object.create(null) as Record<string, Value>;
  if (isObject(value)) for (const [key, member] of entriesOf(value)) fields[key] = toWire(member);
  return create(StructSchema, { fields });
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export function fromWire(value: Value | undefined): Json {
  const kind = value?.kind;
  switch (kind?.case) {
    case 'numberValue':
      return Number.isFinite(kind.value) ? kind.value : null;
    case 'stringValue':
    case 'boolValue':
      return kind.value;
    case 'structValue':
      return fromWireStruct(kind.value);
    case 'listValue': {
      const builder = new ArrayBuilder();
      for (const item of kind.value.values) builder.push(fromWire(item));
      return builder.build();
    }
    default:
      return null;
  }
}

export function fromWireStruct(struct: Struct): Json {
  const builder = new ObjectBuilder();
  for (const key of Object.keys(struct.fields).sort(byteOrder))
    builder.set(key, fromWire(struct.fields[key]));
  return builder.build();
}

/** A `Struct` already decoded to JSON by protobuf-es (error `data`): same normalisation. */
export function fromStructJson(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) {
    const builder = new ArrayBuilder();
    for (const item of value) builder.push(fromStructJson(item));
    return builder.build();
  }
  const builder = new ObjectBuilder();
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object).sort(byteOrder))
    builder.set(key, fromStructJson(object[key]));
  return builder.build();
}
