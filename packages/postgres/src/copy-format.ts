import type { ColumnInfo, ColumnKind } from './identifiers.js';

/**
 * Values → PostgreSQL COPY text format (tab-separated, `\N` for NULL, backslash escapes).
 * Conversions are chosen per column from its catalog type:
 * - json/jsonb: the JSON value itself, always `JSON.stringify`-ed (a string stays a JSON string);
 * - arrays: JS arrays become array literals (`{…}`, elements quoted, nested arrays kept);
 * - everything else: strings as given (PostgreSQL parses timestamps, numerics, uuids…),
 *   numbers in JS notation, booleans as true/false, objects as JSON text;
 * - null or a missing key: SQL NULL.
 */
export type Encoder = (value: unknown) => string;

export const NULL_TEXT = '\\N';

const NEEDS_ESCAPE = /[\\\n\r\t]/;
const ESCAPES = /[\\\n\r\t]/g;
const ESCAPE_MAP: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function escapeCopy(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPES, (c) => ESCAPE_MAP[c]!) : text;
}

function scalarText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value)
        ? String(value)
        : value > 0
          ? 'Infinity'
          : value < 0
            ? '-Infinity'
            : 'NaN';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    default:
      return JSON.stringify(value);
  }
}

function elementText(value: unknown, kind: ColumnKind): string {
  if (value === null || value === undefined) return 'NULL';
  // json[]/jsonb[]: each element is one JSON value (a JS array inside is JSON, not a dimension).
  if (Array.isArray(value) && kind !== 'json') return arrayLiteral(value, kind);
  const text = kind === 'json' ? JSON.stringify(value) : scalarText(value);
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}

/** A PostgreSQL array literal: `{"a","b",NULL}`, nested for multidimensional arrays. */
export function arrayLiteral(values: readonly unknown[], kind: ColumnKind): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    out += elementText(values[i], kind);
  }
  return `${out}}`;
}

export function encoderFor(column: ColumnInfo): Encoder {
  switch (column.kind) {
    case 'json':
      return (value) =>
        value === null || value === undefined ? NULL_TEXT : escapeCopy(JSON.stringify(value));
    case 'array':
      return (value) =>
        value === null || value === undefined
          ? NULL_TEXT
          : escapeCopy(
              Array.isArray(value) ? arrayLiteral(value, column.elementKind) : scalarText(value),
            );
    default:
      return (value) =>
        value === null || value === undefined
          ? NULL_TEXT
          : typeof value === 'string'
            ? escapeCopy(value)
            : typeof value === 'number'
              ? scalarText(value)
              : escapeCopy(scalarText(value));
  }
}

/** Convert a value for a bound parameter of the extended protocol (json stringified explicitly). */
export function parameterValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object' && !Array.isArray(value)) return JSON.stringify(value);
  if (
    Array.isArray(value) &&
    value.some((v) => v !== null && typeof v === 'object' && !Array.isArray(v))
  ) {
    return JSON.stringify(value);
  }
  return value;
}
