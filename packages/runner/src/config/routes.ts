import { lookup, parsePath, type Path } from '../json/path.js';
import { jsonEqual, type Json } from '../json/value.js';

/**
 * Route patterns and rules with matchit 0.8 semantics: `{name}` matches one
 * non-empty segment, `{*name}` the non-empty rest of the path; static text beats `{name}`, which
 * beats `{*name}`; patterns ambiguous with each other are rejected.
 */
export interface RouteCondition {
  path: Path;
  pathText: string;
  value: Json;
}

export interface RouteRule {
  plugin: string;
  conditions: RouteCondition[];
  componentAllow?: string[];
  componentDeny?: string[];
  component?: string;
}

type Token = { kind: 'static'; text: string } | { kind: 'param' | 'catchAll'; name: string };

export interface Route {
  pattern: string;
  tokens: Token[];
  rules: RouteRule[];
}

export class RouteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RouteError';
  }
}

export interface Resolution {
  plugin: string;
  /** Name sent to the plugin (`components/execute.component`). */
  component: string;
  pattern: string;
  params: Record<string, string>;
}

export function parsePattern(pattern: string): Token[] {
  if (!pattern.startsWith('/'))
    throw new RouteError(`route pattern ${JSON.stringify(pattern)} must start with "/"`);
  const tokens: Token[] = [];
  let i = 0;
  let text = '';
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === '{') {
      const close = pattern.indexOf('}', i);
      if (close < 0)
        throw new RouteError(`route pattern ${JSON.stringify(pattern)} has an unclosed "{"`);
      let name = pattern.slice(i + 1, close);
      const catchAll = name.startsWith('*');
      if (catchAll) name = name.slice(1);
      if (!/^[A-Za-z0-9_]+$/.test(name))
        throw new RouteError(
          `route pattern ${JSON.stringify(pattern)} has an invalid parameter name ${JSON.stringify(name)}`,
        );
      if (text) tokens.push({ kind: 'static', text });
      text = '';
      if (catchAll) {
        if (close !== pattern.length - 1)
          throw new RouteError(
            `route pattern ${JSON.stringify(pattern)}: a catch-all {*${name}} must be last`,
          );
        if (pattern[i - 1] !== '/')
          throw new RouteError(
            `route pattern ${JSON.stringify(pattern)}: a catch-all must follow "/"`,
          );
        tokens.push({ kind: 'catchAll', name });
      } else {
        const previous = tokens[tokens.length - 1];
        if (previous && previous.kind !== 'static')
          throw new RouteError(
            `route pattern ${JSON.stringify(pattern)} has two parameters in a row`,
          );
        tokens.push({ kind: 'param', name });
      }
      i = close + 1;
    } else if (ch === '}') {
      throw new RouteError(`route pattern ${JSON.stringify(pattern)} has an unmatched "}"`);
    } else {
      text += ch;
      i++;
    }
  }
  if (text) tokens.push({ kind: 'static', text });
  return tokens;
}

/** Per-character kinds (0 static, 1 param, 2 catch-all) used to rank matches, plus captures. */
export function match(
  tokens: Token[],
  path: string,
): { rank: number[]; params: Record<string, string> } | undefined {
  const rank: number[] = [];
  const params: Record<string, string> = {};
  const go = (t: number, pos: number): boolean => {
    if (t === tokens.length) return pos === path.length;
    const token = tokens[t]!;
    if (token.kind === 'static') {
      if (!path.startsWith(token.text, pos)) return false;
      const mark = rank.length;
      for (let k = 0; k < token.text.length; k++) rank.push(0);
      if (go(t + 1, pos + token.text.length)) return true;
      rank.length = mark;
      return false;
    }
    if (token.kind === 'catchAll') {
      if (pos >= path.length) return false;
      params[token.name] = path.slice(pos);
      for (let k = pos; k < path.length; k++) rank.push(2);
      return true;
    }
    let end = path.indexOf('/', pos);
    if (end < 0) end = path.length;
    // A parameter takes the whole segment unless static text follows inside the segment.
    for (let stop = end; stop > pos; stop--) {
      const mark = rank.length;
      for (let k = pos; k < stop; k++) rank.push(1);
      params[token.name] = path.slice(pos, stop);
      if (go(t + 1, stop)) return true;
      rank.length = mark;
      delete params[token.name];
    }
    return false;
  };
  return go(0, 0) ? { rank, params } : undefined;
}

export function compareRank(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Shape with parameter names erased, e.g. `/math/{}`; used to detect conflicts. */
function shape(tokens: Token[]): string {
  return tokens
    .map((t) =>
      t.kind === 'static' ? t.text.replace(/[{}]/g, '\\$&') : t.kind === 'param' ? '{}' : '{*}',
    )
    .join('');
}

export function conflict(a: Route, b: Route): string | undefined {
  const sa = shape(a.tokens);
  const sb = shape(b.tokens);
  if (sa === sb)
    return `route patterns ${JSON.stringify(a.pattern)} and ${JSON.stringify(b.pattern)} match the same paths`;
  // matchit requires parameters at the same position of a shared prefix to have the same name.
  const n = Math.min(a.tokens.length, b.tokens.length);
  for (let i = 0; i < n; i++) {
    const ta = a.tokens[i]!;
    const tb = b.tokens[i]!;
    if (ta.kind === 'static' || tb.kind === 'static') {
      if (ta.kind === 'static' && tb.kind === 'static' && ta.text === tb.text) continue;
      return undefined;
    }
    if (ta.kind !== tb.kind) return undefined;
    if (ta.name !== tb.name) {
      return `route patterns ${JSON.stringify(a.pattern)} and ${JSON.stringify(b.pattern)} are ambiguous: {${ta.name}} and {${tb.name}} occupy the same position`;
    }
  }
  return undefined;
}

export class RouteTable {
  readonly #routes: Route[] = [];

  add(pattern: string, rules: RouteRule[]): void {
    const route: Route = { pattern, tokens: parsePattern(pattern), rules };
    for (const other of this.#routes) {
      const problem = conflict(route, other);
      if (problem) throw new RouteError(problem);
    }
    this.#routes.push(route);
  }

  get patterns(): { pattern: string; rules: RouteRule[] }[] {
    return this.#routes.map(({ pattern, rules }) => ({ pattern, rules }));
  }

  /** Resolve a step's component path and input to a plugin and the name sent to it. */
  resolve(path: string, input: Json): Resolution {
    let best: { route: Route; rank: number[]; params: Record<string, string> } | undefined;
    for (const route of this.#routes) {
      const m = match(route.tokens, path);
      if (m && (!best || compareRank(m.rank, best.rank) < 0)) best = { route, ...m };
    }
    if (!best) throw new RouteError(`no route matches component ${JSON.stringify(path)}`);
    const { route, params } = best;
    const nameFor = (rule: RouteRule): string => {
      if (rule.component !== undefined)
        return rule.component.replace(
          /\{\*?([A-Za-z0-9_]+)\}/g,
          (whole, name: string) => params[name] ?? whole,
        );
      if (params.component === undefined)
        throw new RouteError(
          `route ${JSON.stringify(route.pattern)} has no {component} parameter and its rule sets no component template`,
        );
      return `/${params.component}`;
    };
    const only = route.rules[0];
    if (route.rules.length === 1 && only && only.conditions.length === 0) {
      return { plugin: only.plugin, component: nameFor(only), pattern: route.pattern, params };
    }
    for (const rule of route.rules) {
      const applies = rule.conditions.every((condition) => {
        const found = lookup(input, condition.path);
        if (!found.found) {
          throw new RouteError(
            `route ${JSON.stringify(route.pattern)}: condition path ${condition.pathText} is not present in the step input`,
          );
        }
        return jsonEqual(found.value, condition.value);
      });
      if (!applies) continue;
      const name = nameFor(rule);
      if (rule.componentDeny?.includes(name)) continue;
      if (rule.componentAllow && !rule.componentAllow.includes(name)) continue;
      return { plugin: rule.plugin, component: name, pattern: route.pattern, params };
    }
    throw new RouteError(
      `no rule of route ${JSON.stringify(route.pattern)} applies to component ${JSON.stringify(path)}`,
    );
  }
}

export function conditionOf(pathText: string, value: Json): RouteCondition {
  return { path: parsePath(pathText), pathText, value };
}

/**
 * A 0.13 plugin's component paths: matchit patterns reported in
 * discovery (`/add`, `/{name}`, `/core/{*rest}`) → `component_id`. Conflicting paths make the
 * whole build fail, as upstream's `ComponentInsertionFailed`.
 */
export class ComponentTrie {
  readonly #routes: { route: Route; id: string }[] = [];

  constructor(entries: readonly { path: string; id: string }[]) {
    for (const { path, id } of entries) {
      const route: Route = { pattern: path, tokens: parsePattern(path), rules: [] };
      for (const other of this.#routes) {
        const problem = conflict(route, other.route);
        if (problem) throw new RouteError(problem);
      }
      this.#routes.push({ route, id });
    }
  }

  get size(): number {
    return this.#routes.length;
  }

  /** The component id and captures for a path below the route prefix, if any. */
  match(path: string): { id: string; params: Record<string, string> } | undefined {
    let best: { id: string; rank: number[]; params: Record<string, string> } | undefined;
    for (const { route, id } of this.#routes) {
      const m = match(route.tokens, path);
      if (m && (!best || compareRank(m.rank, best.rank) < 0)) best = { id, ...m };
    }
    return best ? { id: best.id, params: best.params } : undefined;
  }
}
