/**
 * The restricted path syntax Stepflow uses for `path`: a string not starting
 * with `$` is one field name; after `$`, any sequence of `.name`, `["name"]` / `['name']` and
 * `[N]`. No wildcards, filters, slices or negative indices.
 */
export type Segment = { key: string } | { index: number };

export function parsePath(path: string): Segment[] | undefined {
  if (path === '') return [];
  if (!path.startsWith('$')) return [{ key: path }];
  const segments: Segment[] = [];
  let i = 1;
  while (i < path.length) {
    const ch = path[i];
    if (ch === '.') {
      let j = i + 1;
      while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
      if (j === i + 1) return undefined;
      segments.push({ key: path.slice(i + 1, j) });
      i = j;
    } else if (ch === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) return undefined;
      const inner = path.slice(i + 1, close);
      const quoted = /^(["'])(.*)\1$/s.exec(inner);
      if (quoted) segments.push({ key: quoted[2]! });
      else if (/^\d+$/.test(inner)) segments.push({ index: Number(inner) });
      else return undefined;
      i = close + 1;
    } else {
      return undefined;
    }
  }
  return segments;
}

/** Follow a parsed path; `found: false` when a field or index is missing. */
export function selectPath(
  value: unknown,
  segments: Segment[],
): { found: true; value: unknown } | { found: false; at: number } {
  let current = value;
  for (let n = 0; n < segments.length; n++) {
    const segment = segments[n]!;
    if ('index' in segment) {
      if (!Array.isArray(current) || segment.index >= current.length)
        return { found: false, at: n };
      current = current[segment.index];
    } else {
      if (
        current === null ||
        typeof current !== 'object' ||
        Array.isArray(current) ||
        !Object.hasOwn(current, segment.key)
      ) {
        return { found: false, at: n };
      }
      current = (current as Record<string, unknown>)[segment.key];
    }
  }
  return { found: true, value: current };
}
