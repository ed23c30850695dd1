import type { Version } from '../flow/model.js';
import { builtinComponents } from '../plugins/builtin/index.js';
import { didYouMean } from '../text/suggest.js';
import { ComponentTrie, RouteError } from './routes.js';
import type { RunnerConfig } from './types.js';

/**
 * Check a step's component path against the config without starting anything: the route (v0.8 /
 * v0.11 patterns, 0.13 prefixes) and, for `builtin` and `mock` plugins, whose components are
 * known statically, the component itself. Returns the problem (with a "did you mean" when a
 * close path exists) or undefined. Worker components are only known once started.
 */
export function checkComponentPath(
  config: RunnerConfig,
  version: Version,
  path: string,
): string | undefined {
  return version === 'v0.13' ? checkV013(config, path) : checkLegacy(config, version, path);
}

/** Component names a plugin offers, when they are known without starting it. */
function staticComponents(
  config: RunnerConfig,
  plugin: string,
  version: Version,
): string[] | undefined {
  const spec = config.plugins.get(plugin);
  if (spec?.type === 'builtin') return builtinComponents(version);
  if (spec?.type === 'mock')
    return [...spec.components.keys()].map((c) => (c.startsWith('/') ? c : `/${c}`));
  return undefined;
}

function checkLegacy(config: RunnerConfig, version: Version, path: string): string | undefined {
  let resolution;
  try {
    resolution = config.routes.resolve(path, null);
  } catch (err) {
    if (!(err instanceof RouteError) || /condition path/.test(err.message)) return undefined;
    return `${err.message}${didYouMean(path, legacyCandidates(config, version, path))}`;
  }
  const names = staticComponents(config, resolution.plugin, version);
  const name = resolution.component.startsWith('/')
    ? resolution.component
    : `/${resolution.component}`;
  if (!names || names.includes(name)) return undefined;
  return `plugin "${resolution.plugin}" has no component ${name}${didYouMean(path, legacyCandidates(config, version, path))}`;
}

/** Flow paths a v0.8/v0.11 config can reach that look like `path`. */
function legacyCandidates(config: RunnerConfig, version: Version, path: string): string[] {
  const segments = path.split('/');
  const out: string[] = [];
  for (const { pattern, rules } of config.routes.patterns) {
    if (!pattern.includes('{')) {
      out.push(pattern);
      continue;
    }
    // The pattern with its parameters filled from the path's own segments.
    const parts = pattern.split('/');
    if (parts.length === segments.length)
      out.push(parts.map((p, i) => (/^\{\*?\w+\}$/.test(p) ? segments[i] : p)).join('/'));
    for (const rule of rules) {
      for (const name of staticComponents(config, rule.plugin, version) ?? [])
        out.push(
          pattern.replace(/\{\*?component\}/, name.replace(/^\//, '')).replace(/\/\/+/g, '/'),
        );
    }
  }
  return out;
}

function checkV013(config: RunnerConfig, path: string): string | undefined {
  const second = path.indexOf('/', 1);
  const prefix = second < 0 ? path : path.slice(0, second);
  const rest = second < 0 ? '/' : path.slice(second);
  const entries = config.prefixRoutes.entries;
  const keys = entries.map((e) => e.prefix);
  const candidates = (): string[] =>
    entries.flatMap(({ prefix: key, rules }) => {
      const known = rules.flatMap((r) => staticComponents(config, r.plugin, 'v0.13') ?? []);
      const base = key === '/' ? '' : key;
      return [`${base}${rest}`, ...known.map((c) => `${base}${c}`)];
    });
  const rules = entries.find((e) => e.prefix === prefix)?.rules;
  if (!rules) {
    if (keys.includes('/')) return undefined; // the "/" route takes the full path
    return `No matching prefix for path: ${path}${didYouMean(path, candidates())}`;
  }
  for (const rule of rules) {
    const names = staticComponents(config, rule.plugin, 'v0.13');
    if (!names) return undefined; // a worker's components are discovered at start
    const hit = new ComponentTrie(names.map((n) => ({ path: n, id: n }))).match(rest);
    if (hit) return undefined;
  }
  return `No matching component for path: ${path} (prefix: ${prefix})${didYouMean(path, candidates())}`;
}
