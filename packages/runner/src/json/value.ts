/**
 * The runner's JSON value model: plain JavaScript values, plus two invisible annotations on
 * containers that let us reproduce the Rust runtime's serialization (serde_json) byte for
 * byte: the source order of objects that have integer-like keys (JavaScript would move them
 * first) and which members are integral floats (`1.0`, which JavaScript reads as 1). Annotated containers behave like ordinary JSON everywhere else; values are never
 * mutated.
 */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

const KEY_ORDER = Symbol('stepflow-packs.keyOrder');
const FLOATS = Symbol('stepflow-packs.floats');

interface Annotated {
  [KEY_ORDER]?: string[];
  [FLOATS]?: Set<string>;
}

const ARRAY_INDEX = /^(?:0|[1-9]\d{0,9})$/;

/** Keys JavaScript objects reorder (array indices below 2^32 - 1). */
export function isIntegerLikeKey(key: string): boolean {
  return ARRAY_INDEX.test(key) && Number(key) < 4294967295;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Object keys in source order. */
export function keysOf(obj: JsonObject): string[] {
  return (obj as Annotated)[KEY_ORDER] ?? Object.keys(obj);
}

export function entriesOf(obj: JsonObject): [string, Json][] {
  return keysOf(obj).map((key) => [key, obj[key]!]);
}

/** Whether member `key` of a container is an integral number written as a float. */
export function isFloatMember(container: JsonObject | Json[], key: string | number): boolean {
  return (container as Annotated)[FLOATS]?.has(String(key)) ?? false;
}

function annotate(
  target: object,
  order: string[] | undefined,
  floats: Set<string> | undefined,
): void {
  if (order) Object.defineProperty(target, KEY_ORDER, { value: order, enumerable: false });
  if (floats && floats.size > 0)
    Object.defineProperty(target, FLOATS, { value: floats, enumerable: false });
}

/** Builds an object member by member, keeping source order and float markers. */
export class ObjectBuilder {
  readonly #obj: JsonObject = {};
  readonly #order: string[] = [];
  #integerLike = false;
  #floats: Set<string> | undefined;

  set(key: string, value: Json, float = false): this {
    if (!Object.prototype.hasOwnProperty.call(this.#obj, key)) {
      this.#order.push(key);
      if (isIntegerLikeKey(key)) this.#integerLike = true;
    }
    Object.defineProperty(this.#obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    if (float && typeof value === 'number' && Number.isInteger(value))
      (this.#floats ??= new Set()).add(key);
    else this.#floats?.delete(key);
    return this;
  }

  build(): JsonObject {
    annotate(this.#obj, this.#integerLike ? this.#order : undefined, this.#floats);
    return this.#obj;
  }
}

/** Builds an array, keeping float markers. */
export class ArrayBuilder {
  readonly #items: Json[] = [];
  #floats: Set<string> | undefined;

  push(value: Json, float = false): this {
    if (float && typeof value === 'number' && Number.isInteger(value))
      (this.#floats ??= new Set()).add(String(this.#items.length));
    this.#items.push(value);
    return this;
  }

  build(): Json[] {
    annotate(this.#items, undefined, this.#floats);
    return this.#items;
  }
}

/** JSON equality (object key order irrelevant; numbers by value). */
export function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a))
    return (
      Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]!))
    );
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every(
      (key) => Object.prototype.hasOwnProperty.call(b, key) && jsonEqual(a[key]!, b[key]!),
    );
  }
  return false;
}

/** Convert an arbitrary parsed JSON value (e.g. from a worker) into the model; drops non-JSON. */
export function fromUnknown(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(fromUnknown);
  if (typeof value === 'object') {
    const builder = new ObjectBuilder();
    for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
      if (member !== undefined) builder.set(key, fromUnknown(member));
    }
    return builder.build();
  }
  return null;
}

/** Short type name used in error messages. */
export function typeName(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
