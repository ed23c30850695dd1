/**
 * Record access that is safe with hostile keys. Records arrive as parsed JSON, where
 * `__proto__`, `constructor` and `prototype` are ordinary own keys; every read checks own
 * properties only and every object this pack builds has a null prototype, so such keys are
 * copied like any other and can never reach (or be read from) `Object.prototype`.
 */

export type Fields = Record<string, unknown>;

export function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An empty object without a prototype: assigning `__proto__` creates an own key. */
export function emptyRecord(): Fields {
  return Object.create(null) as Fields;
}

/** Shallow copy into a null-prototype object, keeping every own key in order. */
export function copyRecord(source: Fields): Fields {
  const out = emptyRecord();
  for (const key of Object.keys(source)) out[key] = source[key];
  return out;
}

export function ownValue(source: Fields, key: string): unknown {
  return Object.hasOwn(source, key) ? source[key] : undefined;
}

/** A field reference: `"a.b"` is the path a → b; `["a.b"]` is the single key `a.b`. */
type FieldRef = string | readonly string[];

export function parseField(field: FieldRef): readonly string[] {
  return typeof field === 'string' ? field.split('.') : field;
}

/** Display form of a field reference (as written by users). */
export function fieldName(path: readonly string[]): string {
  return path.join('.');
}

const INDEX = /^(0|[1-9][0-9]{0,8})$/;

type Lookup = { found: true; value: unknown } | { found: false };

/** Follow a path through objects (own keys) and arrays (numeric segments). */
export function getPath(root: unknown, path: readonly string[]): Lookup {
  let current: unknown = root;
  for (const segment of path) {
    if (Array.isArray(current)) {
      if (!INDEX.test(segment)) return { found: false };
      const index = Number(segment);
      if (index >= current.length) return { found: false };
      current = current[index];
    } else if (isObject(current) && Object.hasOwn(current, segment)) {
      current = current[segment];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: current };
}

/**
 * Set a nested value in a record this pack owns. Intermediate objects are copied before they
 * are written (they may be shared with the input); missing ones are created. Returns a
 * description of the obstacle when a segment on the way is not an object.
 */
export function setPath(
  target: Fields,
  path: readonly string[],
  value: unknown,
): string | undefined {
  let current = target;
  for (let i = 0; i < path.length - 1; i += 1) {
    const segment = path[i]!;
    const next = Object.hasOwn(current, segment) ? current[segment] : undefined;
    if (next === undefined) {
      const created = emptyRecord();
      current[segment] = created;
      current = created;
    } else if (isObject(next)) {
      const copy = copyRecord(next);
      current[segment] = copy;
      current = copy;
    } else {
      return `cannot set ${fieldName(path)}: ${fieldName(path.slice(0, i + 1))} is ${typeName(next)}, not an object`;
    }
  }
  current[path[path.length - 1]!] = value;
  return undefined;
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'object':
      return 'an object';
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    default:
      return typeof value;
  }
}

/** True when `value` nests objects/arrays deeper than `max` levels (a flat record is level 1). */
export function exceedsDepth(value: unknown, max: number, level = 1): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (level > max) return true;
  const children = Array.isArray(value) ? value : Object.values(value);
  for (const child of children) {
    if (typeof child === 'object' && child !== null && exceedsDepth(child, max, level + 1))
      return true;
  }
  return false;
}

/**
 * Canonical JSON (RFC 8785 style): object keys sorted by UTF-16 code units, no whitespace,
 * numbers as JavaScript prints them. Equal JSON values give equal strings.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const source = value as Fields;
    const keys = Object.keys(source).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(source[key])}`).join(',')}}`;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  return JSON.stringify(value);
}

/** Compare two strings by Unicode code point (not UTF-16 code unit). */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixup(x) - fixup(y);
  }
  return a.length - b.length;
}

// Surrogates (astral code points) must sort after U+E000–U+FFFF.
const fixup = (unit: number): number =>
  unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit;

export type Scalar = string | number | boolean;

export function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

const RANK = { boolean: 0, number: 1, string: 2 } as const;

/** Total order over scalars: booleans < numbers < strings; strings by code point. */
export function compareScalars(a: Scalar, b: Scalar): number {
  const ta = typeof a as keyof typeof RANK;
  const tb = typeof b as keyof typeof RANK;
  if (ta !== tb) return RANK[ta] - RANK[tb];
  if (ta === 'string') return compareCodePoints(a as string, b as string);
  if (ta === 'number') return (a as number) - (b as number);
  return Number(a) - Number(b);
}
