import { z } from 'zod';
import type { JsonValue } from './protocol.js';

function isPlainObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Guards equivalent to a schema's validation, for schemas whose check is a plain predicate:
 * validating many items (see `lazyArray()`) then costs a function call instead of a zod parse.
 */
export interface FastGuard {
  test(value: unknown): boolean;
  /** The schema's message for a value that fails. */
  message: string;
}

const fastGuards = new WeakMap<object, FastGuard>();

/** @internal The predicate equivalent to `schema`, when it has one. */
export function fastGuardOf(schema: z.ZodType): FastGuard | undefined {
  return fastGuards.get(schema._zod.def);
}

function withGuard<T extends z.ZodType>(schema: T, guard: FastGuard): T {
  fastGuards.set(schema._zod.def, guard);
  return schema;
}

const OBJECT_MESSAGE = 'Invalid input: expected object';

/**
 * An arbitrary JSON object passed through untouched. Unlike `z.record()`/`z.object()`, which
 * rebuild the object (and silently lose an own `__proto__` key), this keeps the parsed value as
 * is, so hostile keys can be handled explicitly by the component.
 */
export function jsonObject(): z.ZodType<Record<string, JsonValue>> {
  return withGuard(
    z
      .custom<Record<string, JsonValue>>(isPlainObject, { message: OBJECT_MESSAGE })
      .meta({ type: 'object' }),
    { test: isPlainObject, message: OBJECT_MESSAGE },
  );
}

/** Any JSON value, passed through untouched. */
export function jsonValue(): z.ZodType<JsonValue> {
  return withGuard(z.custom<JsonValue>(() => true).meta({}), { test: () => true, message: '' });
}
