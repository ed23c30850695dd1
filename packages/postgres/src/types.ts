import pg from 'pg';

/**
 * How result values come back as JSON: pg's defaults except where they lose information or do
 * not serialise well. timestamps → ISO-8601 strings with full precision (no JS Date rounding),
 * int8 → number when safe (else string), numeric → string (exact), bytea → `\x…` hex string,
 * interval → PostgreSQL text, json/jsonb → parsed values, arrays of these → arrays.
 */
const OID = {
  int8: 20,
  bytea: 17,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  int8Array: 1016,
  dateArray: 1182,
  timestampArray: 1115,
  timestamptzArray: 1185,
  intervalArray: 1187,
  byteaArray: 1001,
  textArray: 1009,
} as const;

const identity = (value: string) => value;

function int8(value: string): number | string {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}

/** `2024-01-02 03:04:05.123456+00` → `2024-01-02T03:04:05.123456Z` (the session runs in UTC). */
export function isoTimestamp(value: string): string {
  if (value === 'infinity' || value === '-infinity') return value;
  const bc = value.endsWith(' BC');
  let text = bc ? value.slice(0, -3) : value;
  text = text.replace(' ', 'T');
  if (text.endsWith('+00')) text = `${text.slice(0, -3)}Z`;
  else text = text.replace(/([+-]\d\d)$/, '$1:00').replace(/([+-]\d\d)(\d\d)$/, '$1:$2');
  return bc ? `${text} BC` : text;
}

const parseTextArray = (pg.types.getTypeParser as (oid: number, format: string) => unknown)(
  OID.textArray,
  'text',
) as (value: string) => unknown;

function arrayOf(fn: (value: string) => unknown) {
  const map = (value: unknown): unknown =>
    Array.isArray(value) ? value.map(map) : value === null ? null : fn(value as string);
  return (value: string) => map(parseTextArray(value));
}

const overrides = new Map<number, (value: string) => unknown>([
  [OID.int8, int8],
  [OID.bytea, identity],
  [OID.date, identity],
  [OID.timestamp, isoTimestamp],
  [OID.timestamptz, isoTimestamp],
  [OID.interval, identity],
  [OID.int8Array, arrayOf(int8)],
  [OID.dateArray, arrayOf(identity)],
  [OID.timestampArray, arrayOf(isoTimestamp)],
  [OID.timestamptzArray, arrayOf(isoTimestamp)],
  [OID.intervalArray, arrayOf(identity)],
  [OID.byteaArray, arrayOf(identity)],
]);

export const resultTypes = {
  getTypeParser(oid: number, format?: string) {
    if (format !== 'binary') {
      const override = overrides.get(oid);
      if (override) return override;
    }
    return (pg.types.getTypeParser as (oid: number, format?: string) => unknown)(
      oid,
      format ?? 'text',
    );
  },
} as unknown as pg.CustomTypesConfig;
