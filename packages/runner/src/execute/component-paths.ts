import { didYouMean } from '../text/suggest.js';
import type { Environment } from './environment.js';
import { isObject, type Json } from '../json/value.js';
import { failedStepOf } from './result.js';

/** A component an environment offers, as a flow path (`/math/add`). */
export interface ComponentRow {
  path: string;
  plugin: string;
  component: string;
  description?: string;
}

/** Flow path of a listed component under a v0.8/v0.11 route pattern (`{component}` filled in). */
export function flowPath(pattern: string, name: string): string {
  if (/\{\*component\}/.test(pattern))
    return pattern.replace('{*component}', name.replace(/^\//, ''));
  return pattern.replace('{component}', name).replace(/\/\/+/g, '/');
}

/**
 * Every component of every started plugin under the routes that lead to it (`(unrouted)` when
 * none does). Plugins that cannot list within `timeoutMs` (a dead worker) are left out when
 * `tolerant`, otherwise their error is thrown.
 */
export async function componentRows(
  env: Environment,
  options: { tolerant?: boolean; timeoutMs?: number } = {},
): Promise<ComponentRow[]> {
  const { config, version } = env;
  const rows: ComponentRow[] = [];
  for (const [name, plugin] of env.plugins) {
    const patterns =
      version === 'v0.13'
        ? config.prefixRoutes.entries
            .filter((r) => r.rules.some((rule) => rule.plugin === name))
            .map((r) => r.prefix)
        : config.routes.patterns
            .filter((r) => r.rules.some((rule) => rule.plugin === name))
            .map((r) => r.pattern);
    let listed: Awaited<ReturnType<typeof plugin.list>>;
    try {
      listed = options.timeoutMs
        ? await Promise.race([
            plugin.list(),
            new Promise<never>((_, reject) =>
              setTimeout(() => reject(new Error('timed out')), options.timeoutMs).unref(),
            ),
          ])
        : await plugin.list();
    } catch (err) {
      if (options.tolerant) continue;
      throw err;
    }
    for (const info of listed) {
      for (const pattern of patterns.length ? patterns : ['(unrouted)']) {
        rows.push({
          path: !patterns.length
            ? '(unrouted)'
            : version === 'v0.13'
              ? `${pattern === '/' ? '' : pattern}${info.path ?? (info.component.startsWith('/') ? info.component : `/${info.component}`)}`
              : flowPath(pattern, info.component),
          plugin: name,
          component: info.component,
          ...(info.description ? { description: info.description } : {}),
        });
      }
    }
  }
  return rows;
}

/**
 * A one-line account of a failed FlowResult for people: the step it comes from, its component,
 * the error code and message, and, with the environment at hand, the nearest offered component
 * path when the step's is not offered ("did you mean …?").
 */
export async function describeFailure(
  env: Environment | undefined,
  flowResult: Json,
): Promise<string | undefined> {
  if (!isObject(flowResult) || flowResult.outcome !== 'failed' || !isObject(flowResult.error))
    return undefined;
  const { code, message } = flowResult.error;
  const what = `${typeof code === 'string' ? code : JSON.stringify(code ?? null)}: ${typeof message === 'string' ? message : JSON.stringify(message ?? null)}`;
  const step = failedStepOf(flowResult);
  if (!step) return `the flow failed: ${what}`;
  const known = env
    ? (await componentRows(env, { tolerant: true, timeoutMs: 2000 })).map((r) => r.path)
    : [];
  const hint =
    known.length === 0 || known.includes(step.component) ? '' : didYouMean(step.component, known);
  return `step "${step.stepId}" (component ${step.component}) failed: ${what}${hint}`;
}
