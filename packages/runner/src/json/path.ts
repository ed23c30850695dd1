import { isFloatMember, isObject, type Json } from './value.js';

/** One step of a path: a field name or an array index. */
export type PathSegment = { field: string } | { index: number };
export type Path = readonly PathSegment[];

export class PathSyntaxError extends Error {
  constructor(path: string, detail: string) {
    super(`invalid path ${JSON.stringify(path)}: ${detail}`);
    this.name = 'PathSyntaxError';
  }
}

/**
 * Parse a path: empty = whole value; a string not starting with `$` is one
 * field name taken verbatim (`a.b` is the key "a.b"); `$` followed by `.name`, `["name"]`,
 * `['name']` and `[N]` is a restricted JSONPath. Nothing else is accepted.
 */
export function parsePath(text: string | null | undefined): Path {
  if (text === null || text === undefined || text === '') return [];
  if (!text.startsWith('$')) return [{ field: text }];
  const segments: PathSegment[] = [];
  let i = 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '.') {
      let end = i + 1;
      while (end < text.length && text[end] !== '.' && text[end] !== '[') end++;
      const name = text.slice(i + 1, end);
      if (name === '') throw new PathSyntaxError(text, `empty field name at offset ${i}`);
      if (name === '*') throw new PathSyntaxError(text, 'wildcards are not supported');
      segments.push({ field: name });
      i = end;
    } else if (ch === '[') {
      const close = text.indexOf(']', i);
      if (close < 0) throw new PathSyntaxError(text, `unclosed "[" at offset ${i}`);
      const inner = text.slice(i + 1, close);
      const quote = inner[0];
      if ((quote === '"' || quote === "'") && inner.length >= 2 && inner.endsWith(quote)) {
        segments.push({ field: inner.slice(1, -1) });
      } else if (/^\d+$/.test(inner)) {
        const index = Number(inner);
        if (!Number.isSafeInteger(index))
          throw new PathSyntaxError(text, `index ${inner} is too large`);
        segments.push({ index });
      } else {
        throw new PathSyntaxError(text, `expected [N], ["name"] or ['name'] at offset ${i}`);
      }
      i = close + 1;
    } else {
      throw new PathSyntaxError(
        text,
        `unexpected ${JSON.stringify(ch)} at offset ${i} (only .name, ["name"] and [N] are supported)`,
      );
    }
  }
  return segments;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Normalized form used in error messages: `$.field`, `$[0]`, `$["weird key"]`. */
export function formatPath(path: Path): string {
  let text = '$';
  for (const segment of path) {
    if ('index' in segment) text += `[${segment.index}]`;
    else
      text += IDENTIFIER.test(segment.field)
        ? `.${segment.field}`
        : `[${JSON.stringify(segment.field)}]`;
  }
  return text;
}

export type Lookup = { found: true; value: Json; float: boolean } | { found: false };

/** Follow a path; a field on a non-object or an index on a non-array is "not found". */
export function lookup(root: Json, path: Path, rootFloat = false): Lookup {
  let current = root;
  let float = rootFloat;
  for (const segment of path) {
    if ('index' in segment) {
      if (!Array.isArray(current) || segment.index >= current.length) return { found: false };
      float = isFloatMember(current, segment.index);
      current = current[segment.index]!;
    } else {
      if (!isObject(current) || !Object.prototype.hasOwnProperty.call(current, segment.field))
        return { found: false };
      float = isFloatMember(current, segment.field);
      current = current[segment.field]!;
    }
  }
  return { found: true, value: current, float };
}
