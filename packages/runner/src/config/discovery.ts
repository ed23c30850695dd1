import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, defaultConfig, parseConfig, readConfigFile } from './load.js';
import { detectGeneration } from './load-v013.js';
import type { ConfigGeneration, RunnerConfig } from './types.js';
import { entriesOf, isObject, type Json, type JsonObject } from '../json/value.js';
import type { Version } from '../flow/model.js';

export const CONFIG_NAMES = [
  'stepflow-config.yml',
  'stepflow-config.yaml',
  'stepflow_config.yml',
  'stepflow_config.yaml',
];
/**
 * Runner convention: a folder serving several generations keeps its 0.13 config beside the
 * v0.8/v0.11 one under these names; they are preferred when emulating 0.13.
 */
export const V013_CONFIG_NAMES = ['stepflow-config.v0.13.yml', 'stepflow-config.v0.13.yaml'];
export const TEST_CONFIG_NAMES = [
  'stepflow-config.test.yml',
  'stepflow-config.test.yaml',
  'stepflow_config.test.yml',
  'stepflow_config.test.yaml',
];

/** The config file in `dir`, if any; more than one candidate is an error, as in `stepflow run`. */
export function configFileIn(dir: string, generation?: ConfigGeneration): string | undefined {
  if (generation === 'v0.13') {
    const v013 = V013_CONFIG_NAMES.map((name) => join(dir, name)).find((p) => existsSync(p));
    if (v013) return v013;
  }
  const found = CONFIG_NAMES.map((name) => join(dir, name)).filter((path) => existsSync(path));
  if (found.length > 1)
    throw new ConfigError(
      `${dir}: more than one config file (${found.map((f) => f.slice(dir.length + 1)).join(', ')}); keep one`,
    );
  return found[0];
}

/**
 * Config for `run`/`validate`/`list-components`: --config, the flow's dir, the cwd, default.
 * `generation` (from `--emulate`) forces the config format and, for 0.13, prefers
 * `stepflow-config.v0.13.yml`; without it the format is detected from the content.
 */
export function discoverConfig(options: {
  explicit?: string | undefined;
  flowFile?: string | undefined;
  cwd?: string;
  generation?: ConfigGeneration | undefined;
}): RunnerConfig {
  const cwd = options.cwd ?? process.cwd();
  const g = options.generation;
  if (options.explicit) return readConfigFile(resolve(cwd, options.explicit), g);
  if (options.flowFile) {
    const inFlowDir = configFileIn(dirname(resolve(cwd, options.flowFile)), g);
    if (inFlowDir) return readConfigFile(inFlowDir, g);
  }
  const inCwd = configFileIn(cwd, g);
  if (inCwd) return readConfigFile(inCwd, g);
  return defaultConfig(options.flowFile ? dirname(resolve(cwd, options.flowFile)) : cwd);
}

/** The config format a release reads. */
export function generationOf(version: Version): ConfigGeneration {
  return version === 'v0.13' ? 'v0.13' : 'legacy';
}

/**
 * Config for one flow file under `test`: --config; v0.11 `test.configFile`;
 * inline `test.config` (alias `stepflow_config`, after server substitution); a
 * `stepflow-config.test.yml` beside the flow; then normal discovery from the flow's dir.
 */
export function resolveTestConfig(options: {
  explicit?: string | undefined;
  flowFile: string;
  version: Version;
  /** Set when the release was chosen explicitly (`--emulate`): forces the config format. */
  generation?: ConfigGeneration | undefined;
  test: { config?: Json; configFile?: string } | undefined;
  cwd?: string;
  warn?: (message: string) => void;
}): RunnerConfig {
  const cwd = options.cwd ?? process.cwd();
  const g = options.generation;
  const flowDir = dirname(resolve(cwd, options.flowFile));
  if (options.explicit) return readConfigFile(resolve(cwd, options.explicit), g);
  const test = options.test;
  if (g === 'v0.13' && isObject(test?.config ?? null) && !isV013Doc(test!.config!)) {
    // A v0.11 inline config cannot be read by 0.13: use the folder's 0.13 config with the
    // inline config's literal `env` values (e.g. a test server's port) on the same plugins.
    const folder = discoverConfig({ flowFile: options.flowFile, cwd, generation: g });
    options.warn?.(
      `${options.flowFile}: test.config is a v0.11 config; emulating 0.13 with ${folder.source} and the inline config's literal env values`,
    );
    return withInlineEnv(folder, test!.config as JsonObject);
  }
  if (test?.configFile !== undefined) {
    if (options.version !== 'v0.8') {
      if (test.config !== undefined)
        throw new ConfigError(
          `${options.flowFile}: test.configFile and test.config are mutually exclusive`,
        );
      return readConfigFile(resolve(flowDir, test.configFile));
    }
    options.warn?.(
      `${options.flowFile}: test.configFile is a v0.11 key and is ignored in v0.8 mode`,
    );
  }
  if (test?.config !== undefined) {
    return parseConfig(test.config, {
      source: `${options.flowFile} (test.config)`,
      file: undefined,
      baseDir: flowDir,
      ...(g ? { generation: g } : {}),
    });
  }
  const testFile = TEST_CONFIG_NAMES.map((name) => join(flowDir, name)).find((path) =>
    existsSync(path),
  );
  if (testFile) return readConfigFile(testFile, g);
  return discoverConfig({ flowFile: options.flowFile, cwd, generation: g });
}

function isV013Doc(doc: Json): boolean {
  return isObject(doc) && detectGeneration(doc) === 'v0.13';
}

/** Copy literal (`${}`-free) `env` values of an inline config's plugins onto `config`'s. */
function withInlineEnv(config: RunnerConfig, inline: JsonObject): RunnerConfig {
  if (config.generation !== 'v0.13' || !isObject(inline.plugins ?? null)) return config;
  const plugins = new Map(config.plugins);
  const documentPlugins: JsonObject = isObject(config.document.plugins ?? null)
    ? { ...(config.document.plugins as JsonObject) }
    : {};
  for (const [name, spec] of entriesOf(inline.plugins as JsonObject)) {
    const target = plugins.get(name);
    if (target?.type !== 'grpc' || !isObject(spec) || !isObject(spec.env ?? null)) continue;
    const env = { ...target.env };
    for (const [key, value] of entriesOf(spec.env as JsonObject))
      if (typeof value === 'string' && !value.includes('${')) env[key] = value;
    plugins.set(name, { ...target, env });
    const written = documentPlugins[name];
    if (isObject(written ?? null)) documentPlugins[name] = { ...(written as JsonObject), env };
  }
  return { ...config, plugins, document: { ...config.document, plugins: documentPlugins } };
}
