import { lookup } from '../json/path.js';
import { jsonEqual, type Json, type JsonObject } from '../json/value.js';
import { RouteError, type ComponentTrie, type RouteCondition } from './routes.js';

/** One rule of a 0.13 route: a plugin, optional conditions and params. */
export interface PrefixRule {
  plugin: string;
  conditions: RouteCondition[];
  componentAllow?: string[];
  componentDeny?: string[];
  /** Every other key of the rule (`queueName`, `stream`, a leftover `component`, …). */
  params: JsonObject;
}

export interface PrefixResolution {
  plugin: string;
  /** The `component_id` the plugin reported. */
  component: string;
  prefix: string;
  /** matchit captures of the component path (`path_params`). */
  params: Record<string, string>;
  routeParams: JsonObject;
}

const ONE_SEGMENT = /^\/[^/]+$/;

/**
 * Stepflow 0.13 routing: a key is `"/"` or one segment; the rest of the
 * step's path is matched against the component paths each plugin reported in discovery.
 */
export class PrefixRoutes {
  readonly #prefixes = new Map<string, PrefixRule[]>();

  add(prefix: string, rules: PrefixRule[]): void {
    if (prefix !== '/' && !ONE_SEGMENT.test(prefix))
      throw new RouteError(
        `Invalid prefix '${prefix}': must be "/" or a single-segment prefix like "/python" (no nested segments)`,
      );
    this.#prefixes.set(prefix, rules);
  }

  get entries(): { prefix: string; rules: PrefixRule[] }[] {
    return [...this.#prefixes].map(([prefix, rules]) => ({ prefix, rules }));
  }

  get size(): number {
    return this.#prefixes.size;
  }

  /** Upstream's `resolve`: the prefix, then the `"/"` fallback with the full path. */
  resolve(
    path: string,
    input: Json,
    trieOf: (plugin: string) => ComponentTrie | undefined,
  ): PrefixResolution {
    const second = path.indexOf('/', 1);
    const prefix = second < 0 ? path : path.slice(0, second);
    const remainder = second < 0 ? '/' : path.slice(second);
    const attempts: [string, string][] = [[prefix, remainder]];
    if (prefix !== '/' && this.#prefixes.has('/')) attempts.push(['/', path]);
    let tried: string | undefined;
    for (const [key, rest] of attempts) {
      const rules = this.#prefixes.get(key);
      if (!rules) continue;
      tried ??= key;
      for (const rule of rules) {
        const holds = rule.conditions.every((condition) => {
          const found = lookup(input, condition.path);
          if (!found.found)
            throw new RouteError(
              `Condition path ${condition.pathText} not found in the input of component ${path}`,
            );
          return jsonEqual(found.value, condition.value);
        });
        if (!holds) continue;
        const hit = trieOf(rule.plugin)?.match(rest);
        if (!hit) continue;
        if (rule.componentDeny?.includes(hit.id)) continue;
        if (rule.componentAllow && !rule.componentAllow.includes(hit.id)) continue;
        return {
          plugin: rule.plugin,
          component: hit.id,
          prefix: key,
          params: hit.params,
          routeParams: rule.params,
        };
      }
    }
    if (tried === undefined) throw new RouteError(`No matching prefix for path: ${path}`);
    throw new RouteError(`No matching component for path: ${path} (prefix: ${tried})`);
  }
}
