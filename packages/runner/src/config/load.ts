import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseYaml } from '../json/yaml.js';
import { entriesOf, isObject, typeName, type Json, type JsonObject } from '../json/value.js';
import { ConfigError, parseConditions, parseMock, stringList, stringMap, uint } from './fields.js';
import { detectGeneration, parsePluginV013, parsePrefixRoutes } from './load-v013.js';
import { PrefixRoutes } from './prefix-routes.js';
import { RouteError, RouteTable, type RouteRule } from './routes.js';
import {
  DEFAULT_RETRY,
  type Backoff,
  type BlobApiConfig,
  type ConfigGeneration,
  type HealthCheckConfig,
  type PluginConfig,
  type RetryConfig,
  type RunnerConfig,
} from './types.js';

export { ConfigError };

const TOP_KEYS = new Set([
  'workingDirectory',
  'plugins',
  'routes',
  'stateStore',
  'storageConfig',
  'blobApi',
  'retry',
  'recovery',
  'leaseManager',
]);
const SNAKE_HINTS: Record<string, string> = {
  working_directory: 'workingDirectory',
  state_store: 'stateStore',
  storage_config: 'storageConfig',
  blob_api: 'blobApi',
  lease_manager: 'leaseManager',
};

/** Read a config file; `generation` forces a format (else it is detected from the content). */
export function readConfigFile(file: string, generation?: ConfigGeneration): RunnerConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config ${file}: ${(err as Error).message}`);
  }
  const root = parseYaml(text, file);
  return parseConfig(root, {
    source: file,
    file,
    baseDir: dirname(resolve(file)),
    ...(generation ? { generation } : {}),
  });
}

/**
 * Interpret a config document (plugins, routes, state store, 0.13 settings). Unknown keys are
 * ignored like the runtime does, but reported as warnings. `baseDir` is the default working
 * directory. The format is detected from the content unless `generation` forces one.
 */
export function parseConfig(
  root: Json,
  where: {
    source: string;
    file: string | undefined;
    baseDir: string;
    generation?: ConfigGeneration;
  },
): RunnerConfig {
  const warnings: string[] = [];
  const fail = (key: string, message: string): never => {
    throw new ConfigError(`${where.source}: ${key}: ${message}`);
  };
  if (!isObject(root)) fail('(root)', `expected a mapping, got ${typeName(root)}`);
  const doc = root as JsonObject;
  for (const key of Object.keys(doc)) {
    if (!TOP_KEYS.has(key)) {
      const hint = SNAKE_HINTS[key];
      warnings.push(
        `${where.source}: unknown key "${key}" is ignored${hint ? ` (did you mean "${hint}"?)` : ''}`,
      );
    }
  }
  const workingDirectory =
    typeof doc.workingDirectory === 'string'
      ? resolve(doc.workingDirectory)
      : doc.workingDirectory === undefined
        ? where.baseDir
        : fail('workingDirectory', 'expected a string');

  const generation = where.generation ?? detectGeneration(doc);
  if (!isObject(doc.plugins)) fail('plugins', 'is required and must be a mapping');
  const plugins = new Map<string, PluginConfig>();
  for (const [name, value] of entriesOf(doc.plugins as JsonObject)) {
    plugins.set(
      name,
      generation === 'v0.13'
        ? parsePluginV013(name, value, where.source, warnings)
        : parsePlugin(name, value, where.source, warnings),
    );
  }

  if (!isObject(doc.routes)) fail('routes', 'is required and must be a mapping');
  const routes = new RouteTable();
  const prefixRoutes =
    generation === 'v0.13'
      ? parsePrefixRoutes(doc.routes as JsonObject, where.source, plugins)
      : new PrefixRoutes();
  for (const [pattern, value] of generation === 'v0.13'
    ? []
    : entriesOf(doc.routes as JsonObject)) {
    if (!Array.isArray(value)) fail(`routes["${pattern}"]`, 'expected a list of rules');
    const rules = (value as Json[]).map((rule, i) =>
      parseRule(rule, `routes["${pattern}"][${i}]`, where.source, plugins, warnings),
    );
    try {
      routes.add(pattern, rules);
    } catch (err) {
      if (err instanceof RouteError) fail(`routes["${pattern}"]`, err.message);
      throw err;
    }
  }

  for (const key of ['stateStore', 'storageConfig']) {
    const store = doc[key];
    if (isObject(store) && JSON.stringify(store).match(/"type":"(sqlite|filesystem)"/)) {
      warnings.push(
        `${where.source}: ${key} with a persistent store is accepted but ignored; the runner keeps everything in memory`,
      );
    }
  }

  return {
    file: where.file,
    source: where.source,
    workingDirectory,
    generation,
    plugins,
    routes,
    prefixRoutes,
    blobApi: parseBlobApi(doc.blobApi, where.source),
    retry: parseRetry(doc.retry, where.source),
    retryConfigured: doc.retry !== undefined,
    warnings,
    document: doc,
  };
}

/** The built-in default when no config file exists: a builtin plugin and no routes. */
export function defaultConfig(baseDir: string): RunnerConfig {
  return {
    file: undefined,
    source: '(default config)',
    workingDirectory: baseDir,
    generation: 'legacy',
    plugins: new Map([['builtin', { type: 'builtin' }]]),
    routes: new RouteTable(),
    prefixRoutes: new PrefixRoutes(),
    blobApi: { enabled: true, blobThreshold: 1_048_576 },
    retry: DEFAULT_RETRY,
    retryConfigured: false,
    warnings: [],
    document: { plugins: { builtin: { type: 'builtin' } } },
  };
}

const PLUGIN_KEYS: Record<string, Set<string>> = {
  builtin: new Set(['type']),
  stepflow: new Set([
    'type',
    'transport',
    'command',
    'args',
    'env',
    'url',
    'healthCheck',
    'requestTimeoutMs',
  ]),
  mock: new Set(['type', 'components']),
  mcp: new Set(['type', 'command', 'args', 'env']),
};

function parsePlugin(name: string, value: Json, source: string, warnings: string[]): PluginConfig {
  const key = `plugins.${name}`;
  if (!isObject(value)) throw new ConfigError(`${source}: ${key}: expected a mapping`);
  const type = value.type;
  if (typeof type !== 'string' || !PLUGIN_KEYS[type]) {
    const hint =
      type === 'grpc' || type === 'nats'
        ? ` (a Stepflow 0.13 plugin type: use --emulate v0.13)`
        : '';
    throw new ConfigError(
      `${source}: ${key}.type: expected one of builtin, stepflow, mock, mcp; got ${JSON.stringify(type ?? null)}${hint}`,
    );
  }
  for (const member of Object.keys(value)) {
    if (!PLUGIN_KEYS[type]!.has(member))
      warnings.push(`${source}: unknown key "${key}.${member}" is ignored`);
  }
  if (type === 'builtin') return { type: 'builtin' };
  if (type === 'mcp') return { type: 'mcp' };
  if (type === 'mock') return parseMock(value, key, source, 'legacy');
  const str = (member: string): string | undefined => {
    const v = value[member];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string')
      throw new ConfigError(`${source}: ${key}.${member}: expected a string`);
    return v;
  };
  let healthCheck: HealthCheckConfig | undefined;
  if (value.healthCheck !== undefined && value.healthCheck !== null) {
    const hc = value.healthCheck;
    if (!isObject(hc)) throw new ConfigError(`${source}: ${key}.healthCheck: expected a mapping`);
    healthCheck = {
      path: typeof hc.path === 'string' ? hc.path : '/health',
      timeoutMs: uint(hc.timeoutMs, `${key}.healthCheck.timeoutMs`, source, 60_000),
      retryDelayMs: uint(hc.retryDelayMs, `${key}.healthCheck.retryDelayMs`, source, 100),
    };
  }
  const requestTimeoutMs =
    value.requestTimeoutMs === undefined
      ? undefined
      : uint(value.requestTimeoutMs, `${key}.requestTimeoutMs`, source, 0);
  if (requestTimeoutMs === 0)
    throw new ConfigError(
      `${source}: ${key}.requestTimeoutMs: must be positive (timeouts are never infinite)`,
    );
  const config = {
    type: 'stepflow' as const,
    transport: str('transport'),
    command: str('command'),
    args: stringList(value.args, `${key}.args`, source),
    env: stringMap(value.env, `${key}.env`, source),
    url: str('url'),
    healthCheck,
    requestTimeoutMs,
  };
  if (config.command === undefined && config.url === undefined) {
    throw new ConfigError(
      `${source}: ${key}: a stepflow plugin needs "command" (subprocess) or "url" (remote worker)`,
    );
  }
  return config;
}

function parseRule(
  value: Json,
  key: string,
  source: string,
  plugins: Map<string, PluginConfig>,
  warnings: string[],
): RouteRule {
  if (!isObject(value))
    throw new ConfigError(`${source}: ${key}: expected a mapping with "plugin"`);
  for (const member of Object.keys(value)) {
    if (
      !['plugin', 'conditions', 'componentAllow', 'componentDeny', 'component'].includes(member)
    ) {
      warnings.push(`${source}: unknown key "${key}.${member}" is ignored`);
    }
  }
  if (typeof value.plugin !== 'string')
    throw new ConfigError(`${source}: ${key}.plugin: is required`);
  if (!plugins.has(value.plugin))
    throw new ConfigError(
      `${source}: ${key}.plugin: no plugin named "${value.plugin}" is configured`,
    );
  const conditions = parseConditions(value.conditions, key, source);
  const rule: RouteRule = { plugin: value.plugin, conditions };
  const allow = stringList(value.componentAllow, `${key}.componentAllow`, source);
  const deny = stringList(value.componentDeny, `${key}.componentDeny`, source);
  if (allow) rule.componentAllow = allow;
  if (deny) rule.componentDeny = deny;
  if (typeof value.component === 'string') rule.component = value.component;
  return rule;
}

function parseBlobApi(value: Json | undefined, source: string): BlobApiConfig {
  if (value === undefined || value === null) return { enabled: true, blobThreshold: 1_048_576 };
  if (!isObject(value)) throw new ConfigError(`${source}: blobApi: expected a mapping`);
  const config: BlobApiConfig = {
    enabled: value.enabled !== false,
    blobThreshold: uint(value.blobThreshold, 'blobApi.blobThreshold', source, 1_048_576),
  };
  if (typeof value.url === 'string') config.url = value.url;
  return config;
}

function parseRetry(value: Json | undefined, source: string): RetryConfig {
  if (value === undefined || value === null) return DEFAULT_RETRY;
  if (!isObject(value)) throw new ConfigError(`${source}: retry: expected a mapping`);
  return {
    transportMaxRetries: uint(value.transportMaxRetries, 'retry.transportMaxRetries', source, 3),
    backoff: parseBackoff(value.backoff, source),
  };
}

function parseBackoff(value: Json | undefined, source: string): Backoff {
  if (value === undefined || value === null) return DEFAULT_RETRY.backoff;
  if (!isObject(value)) throw new ConfigError(`${source}: retry.backoff: expected a mapping`);
  const type = value.type ?? 'fibonacci';
  const min = uint(value.minDelayMs, 'retry.backoff.minDelayMs', source, 1000);
  const max = uint(value.maxDelayMs, 'retry.backoff.maxDelayMs', source, 10_000);
  if (type === 'fibonacci') return { type, minDelayMs: min, maxDelayMs: max };
  if (type === 'constant')
    return { type, delayMs: uint(value.delayMs, 'retry.backoff.delayMs', source, 1000) };
  if (type === 'exponential') {
    const factor = value.factor ?? 2;
    if (typeof factor !== 'number' || factor < 1)
      throw new ConfigError(`${source}: retry.backoff.factor: expected a number >= 1`);
    return { type, minDelayMs: min, maxDelayMs: max, factor };
  }
  throw new ConfigError(
    `${source}: retry.backoff.type: expected fibonacci, constant or exponential; got ${JSON.stringify(type)}`,
  );
}

/** Delay before retry number `n` (1-based) of a budget. */
export function backoffDelay(backoff: Backoff, n: number): number {
  switch (backoff.type) {
    case 'constant':
      return backoff.delayMs;
    case 'exponential':
      return Math.min(backoff.maxDelayMs, backoff.minDelayMs * backoff.factor ** (n - 1));
    case 'fibonacci': {
      let [a, b] = [backoff.minDelayMs, backoff.minDelayMs];
      for (let i = 1; i < n; i++) [a, b] = [b, a + b];
      return Math.min(backoff.maxDelayMs, a);
    }
  }
}
