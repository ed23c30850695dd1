import type { JsonValue } from '@stepflow-packs/core';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  if (contentType === 'application/json') return true;
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json') || type === 'text/json';
}

export function parseJson(bytes: Buffer): { ok: true; value: JsonValue } | { ok: false } {
  try {
    // Buffer#toString is the fast UTF-8 path; invalid sequences become U+FFFD, which JSON
    // tolerates inside strings and rejects elsewhere.
    return { ok: true, value: JSON.parse(bytes.toString('utf8')) as JsonValue };
  } catch {
    return { ok: false };
  }
}

export function asText(bytes: Buffer): { text: string } {
  return { text: lenientUtf8.decode(bytes) };
}

/**
 * `auto` decoding: JSON when the Content-Type says so and it parses; `{text}` for any body that
 * is valid UTF-8; `{base64, content_type}` for binary bodies; null for an empty body.
 */
export function decodeAuto(bytes: Buffer, contentType: string | undefined): JsonValue {
  if (bytes.length === 0) return null;
  if (isJsonContentType(contentType)) {
    const parsed = parseJson(bytes);
    if (parsed.ok) return parsed.value;
  }
  try {
    return { text: utf8.decode(bytes) };
  } catch {
    return {
      base64: bytes.toString('base64'),
      content_type: contentType ?? 'application/octet-stream',
    };
  }
}
