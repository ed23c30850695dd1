import { entriesOf, isObject, type Json, type JsonObject } from '../json/value.js';
import { ConfigError, parseConditions, parseMock, stringList, stringMap, uint } from './fields.js';
import { PrefixRoutes, type PrefixRule } from './prefix-routes.js';
import { RouteError } from './routes.js';
import type { ConfigGeneration, PluginConfig } from './types.js';

const PLUGIN_TYPES = ['builtin', 'mock', 'mcp', 'grpc', 'nats'];
const PLUGIN_KEYS: Record<string, Set<string>> = {
  builtin: new Set(['type']),
  mock: new Set(['type', 'components']),
  mcp: new Set(['type', 'command', 'args', 'env']),
  grpc: new Set([
    'type',
    'queueName',
    'command',
    'args',
    'env',
    'queueTimeoutSecs',
    'executionTimeoutSecs',
  ]),
  nats: new Set([
    'type',
    'url',
    'consumer',
    'stream',
    'command',
    'args',
    'env',
    'queueTimeoutSecs',
    'executionTimeoutSecs',
  ]),
};
const RULE_KEYS = new Set(['plugin', 'conditions', 'componentAllow', 'componentDeny']);

/**
 * Which format a config document is in: 0.13 when a plugin is `grpc` or
 * `nats`, a mock behaviour has a string error code, or every route key is `"/"` or one segment
 * and no plugin is `type: stepflow`; otherwise v0.8/v0.11.
 */
export function detectGeneration(doc: JsonObject): ConfigGeneration {
  const plugins = isObject(doc.plugins) ? Object.values(doc.plugins) : [];
  const types = plugins.map((p) => (isObject(p) ? p.type : undefined));
  if (types.some((t) => t === 'grpc' || t === 'nats')) return 'v0.13';
  if (types.includes('stepflow')) return 'legacy';
  const stringCode = plugins.some(
    (p) =>
      isObject(p) &&
      p.type === 'mock' &&
      isObject(p.components) &&
      Object.values(p.components).some(
        (c) =>
          isObject(c) &&
          isObject(c.behaviors) &&
          Object.values(c.behaviors).some(
            (b) => isObject(b) && isObject(b.error) && typeof b.error.code === 'string',
          ),
      ),
  );
  if (stringCode) return 'v0.13';
  const keys = isObject(doc.routes) ? Object.keys(doc.routes) : [];
  if (keys.length > 0 && keys.every((k) => k === '/' || /^\/[^/{}]+$/.test(k))) return 'v0.13';
  return 'legacy';
}

/** A 0.13 plugin (`grpc`, `nats`, `builtin`, `mock`, …). */
export function parsePluginV013(
  name: string,
  value: Json,
  source: string,
  warnings: string[],
): PluginConfig {
  const key = `plugins.${name}`;
  if (!isObject(value)) throw new ConfigError(`${source}: ${key}: expected a mapping`);
  const type = value.type;
  if (typeof type !== 'string' || !PLUGIN_TYPES.includes(type)) {
    // serde's message, as stepflow-server 0.13.0 prints it.
    throw new ConfigError(
      `${source}: ${key}: unknown variant \`${String(type)}\`, expected one of ${PLUGIN_TYPES.map((t) => `\`${t}\``).join(', ')}`,
    );
  }
  for (const member of Object.keys(value)) {
    if (!PLUGIN_KEYS[type]!.has(member))
      warnings.push(`${source}: unknown key "${key}.${member}" is ignored`);
  }
  switch (type) {
    case 'builtin':
      return { type: 'builtin' };
    case 'mock':
      return parseMock(value, key, source, 'v0.13');
    case 'mcp':
      if (typeof value.command !== 'string')
        throw new ConfigError(`${source}: ${key}: missing field \`command\``);
      if (!Array.isArray(value.args))
        throw new ConfigError(`${source}: ${key}: missing field \`args\``);
      return { type: 'mcp' };
    case 'nats':
      return parseNats(value, key, source);
    default:
      return parseGrpc(value, key, source);
  }
}

function parseNats(value: JsonObject, key: string, source: string): PluginConfig {
  if (typeof value.url !== 'string')
    throw new ConfigError(`${source}: ${key}: missing field \`url\``);
  if (typeof value.consumer !== 'string' || value.consumer === '')
    throw new ConfigError(
      `${source}: ${key}: consumer is required for NATS plugins (the durable consumer name)`,
    );
  if (value.stream !== undefined && value.stream !== null && typeof value.stream !== 'string')
    throw new ConfigError(`${source}: ${key}.stream: expected a string`);
  if (value.command !== undefined && value.command !== null && typeof value.command !== 'string')
    throw new ConfigError(`${source}: ${key}.command: expected a string`);
  const { queueTimeoutSecs, executionTimeoutSecs } = timeouts(value, key, source);
  return {
    type: 'nats',
    url: value.url,
    consumer: value.consumer,
    ...(typeof value.stream === 'string' && value.stream !== '' ? { stream: value.stream } : {}),
    ...(typeof value.command === 'string' ? { command: value.command } : {}),
    args: stringList(value.args, `${key}.args`, source) ?? [],
    env: stringMap(value.env, `${key}.env`, source) ?? {},
    queueTimeoutSecs,
    ...(executionTimeoutSecs !== undefined ? { executionTimeoutSecs } : {}),
  };
}

function timeouts(
  value: JsonObject,
  key: string,
  source: string,
): { queueTimeoutSecs: number; executionTimeoutSecs: number | undefined } {
  const queueTimeoutSecs = uint(value.queueTimeoutSecs, `${key}.queueTimeoutSecs`, source, 30);
  if (queueTimeoutSecs === 0)
    throw new ConfigError(`${source}: ${key}: queue_timeout_secs must be greater than 0`);
  const executionTimeoutSecs =
    value.executionTimeoutSecs === undefined || value.executionTimeoutSecs === null
      ? undefined
      : uint(value.executionTimeoutSecs, `${key}.executionTimeoutSecs`, source, 0);
  return { queueTimeoutSecs, executionTimeoutSecs };
}

function parseGrpc(value: JsonObject, key: string, source: string): PluginConfig {
  if (typeof value.queueName !== 'string' || value.queueName === '')
    throw new ConfigError(
      `${source}: ${key}: queueName is required for gRPC plugins (set it to the plugin name)`,
    );
  if (value.command !== undefined && value.command !== null && typeof value.command !== 'string')
    throw new ConfigError(`${source}: ${key}.command: expected a string`);
  const { queueTimeoutSecs, executionTimeoutSecs } = timeouts(value, key, source);
  return {
    type: 'grpc',
    queueName: value.queueName,
    ...(typeof value.command === 'string' ? { command: value.command } : {}),
    args: stringList(value.args, `${key}.args`, source) ?? [],
    env: stringMap(value.env, `${key}.env`, source) ?? {},
    queueTimeoutSecs,
    ...(executionTimeoutSecs !== undefined ? { executionTimeoutSecs } : {}),
  };
}

/** 0.13 `routes:`: prefixes → ordered rules; other keys are params. */
export function parsePrefixRoutes(
  routes: JsonObject,
  source: string,
  plugins: Map<string, PluginConfig>,
): PrefixRoutes {
  const table = new PrefixRoutes();
  for (const [prefix, value] of entriesOf(routes)) {
    const at = `routes["${prefix}"]`;
    if (!Array.isArray(value)) throw new ConfigError(`${source}: ${at}: expected a list of rules`);
    const rules = value.map((rule, i) => parseRuleV013(rule, `${at}[${i}]`, source, plugins));
    try {
      table.add(prefix, rules);
    } catch (err) {
      if (err instanceof RouteError) throw new ConfigError(`${source}: ${err.message}`);
      throw err;
    }
  }
  return table;
}

function parseRuleV013(
  value: Json,
  key: string,
  source: string,
  plugins: Map<string, PluginConfig>,
): PrefixRule {
  if (!isObject(value))
    throw new ConfigError(`${source}: ${key}: expected a mapping with "plugin"`);
  if (typeof value.plugin !== 'string')
    throw new ConfigError(`${source}: ${key}.plugin: is required`);
  if (!plugins.has(value.plugin))
    throw new ConfigError(
      `${source}: ${key}.plugin: no plugin named "${value.plugin}" is configured`,
    );
  const params: JsonObject = {};
  for (const [member, v] of entriesOf(value)) if (!RULE_KEYS.has(member)) params[member] = v;
  const rule: PrefixRule = {
    plugin: value.plugin,
    conditions: parseConditions(value.conditions, key, source),
    params,
  };
  const allow = stringList(value.componentAllow, `${key}.componentAllow`, source);
  const deny = stringList(value.componentDeny, `${key}.componentDeny`, source);
  if (allow) rule.componentAllow = allow;
  if (deny) rule.componentDeny = deny;
  return rule;
}
