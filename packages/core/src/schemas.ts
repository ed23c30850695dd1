import { z } from 'zod';
import type { JsonValue } from './protocol.js';

function isPlainObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An arbitrary JSON object passed through untouched. Unlike `z.record()`/`z.object()`, which
 * rebuild the object (and silently lose an own `__proto__` key), this keeps the parsed value as
 * is, so hostile keys can be handled explicitly by the component.
 */
export function jsonObject(): z.ZodType<Record<string, JsonValue>> {
  return z
    .custom<Record<string, JsonValue>>(isPlainObject, { message: 'Invalid input: expected object' })
    .meta({ type: 'object' });
}

/** Any JSON value, passed through untouched. */
export function jsonValue(): z.ZodType<JsonValue> {
  return z.custom<JsonValue>(() => true).meta({});
}
