import { isFloatMember, isObject, keysOf, type Json } from './value.js';

/**
 * Serialize like serde_json does in the Rust runtime: members in source
 * order, minimal string escaping, integers as written, floats in shortest round-trip form that
 * always keeps a fraction or an exponent (ryu layout: `1.0`, `0.001`, `1e-7`, `1.5e22`).
 * With `indent`, the layout of serde_json's pretty printer (two spaces by default).
 */
export function canonicalJson(
  value: Json,
  options: { float?: boolean; indent?: number } = {},
): string {
  const parts: string[] = [];
  write(value, options.float ?? false, parts, options.indent ?? 0, 0);
  return parts.join('');
}

function write(value: Json, float: boolean, out: string[], indent: number, depth: number): void {
  if (value === null) {
    out.push('null');
  } else if (typeof value === 'boolean') {
    out.push(value ? 'true' : 'false');
  } else if (typeof value === 'number') {
    out.push(formatNumber(value, float));
  } else if (typeof value === 'string') {
    out.push(JSON.stringify(value));
  } else if (Array.isArray(value)) {
    if (value.length === 0) return void out.push('[]');
    out.push('[');
    value.forEach((item, i) => {
      if (i > 0) out.push(',');
      newline(out, indent, depth + 1);
      write(item, isFloatMember(value, i), out, indent, depth + 1);
    });
    newline(out, indent, depth);
    out.push(']');
  } else if (isObject(value)) {
    const keys = keysOf(value);
    if (keys.length === 0) return void out.push('{}');
    out.push('{');
    keys.forEach((key, i) => {
      if (i > 0) out.push(',');
      newline(out, indent, depth + 1);
      out.push(JSON.stringify(key), indent > 0 ? ': ' : ':');
      write(value[key]!, isFloatMember(value, key), out, indent, depth + 1);
    });
    newline(out, indent, depth);
    out.push('}');
  }
}

function newline(out: string[], indent: number, depth: number): void {
  if (indent > 0) out.push('\n', ' '.repeat(indent * depth));
}

const U64_LIMIT = 2 ** 64;
const I64_MIN = -(2 ** 63);

/** Integers print as integers unless marked float or outside i64/u64 (serde reads those as f64). */
export function formatNumber(value: number, float = false): string {
  if (!Number.isFinite(value)) return 'null';
  if (Number.isInteger(value) && !float && value >= I64_MIN && value < U64_LIMIT) {
    return Object.is(value, -0) ? '0' : BigInt(value).toString();
  }
  return formatFloat(value);
}

/** ryu's layout of the shortest round-trip digits (what serde_json prints for an f64). */
export function formatFloat(value: number): string {
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const sign = value < 0 ? '-' : '';
  const [mantissa, exponent] = Math.abs(value).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const length = digits.length;
  const point = Number(exponent) + 1; // value = 0.<digits> × 10^point
  const k = point - length; // value = <digits> × 10^k
  let text: string;
  if (k >= 0 && point <= 16) text = `${digits}${'0'.repeat(k)}.0`;
  else if (point > 0 && point <= 16) text = `${digits.slice(0, point)}.${digits.slice(point)}`;
  else if (point > -5 && point <= 0) text = `0.${'0'.repeat(-point)}${digits}`;
  else if (length === 1) text = `${digits}e${point - 1}`;
  else text = `${digits[0]}.${digits.slice(1)}e${point - 1}`;
  return sign + text;
}
