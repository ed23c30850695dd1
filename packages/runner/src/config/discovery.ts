import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, defaultConfig, parseConfig, readConfigFile } from './load.js';
import type { RunnerConfig } from './types.js';
import type { Json } from '../json/value.js';
import type { Version } from '../flow/model.js';

export const CONFIG_NAMES = [
  'stepflow-config.yml',
  'stepflow-config.yaml',
  'stepflow_config.yml',
  'stepflow_config.yaml',
];
export const TEST_CONFIG_NAMES = [
  'stepflow-config.test.yml',
  'stepflow-config.test.yaml',
  'stepflow_config.test.yml',
  'stepflow_config.test.yaml',
];

/** The config file in `dir`, if any; more than one candidate is an error (spec config.md §1.1). */
export function configFileIn(dir: string): string | undefined {
  const found = CONFIG_NAMES.map((name) => join(dir, name)).filter((path) => existsSync(path));
  if (found.length > 1)
    throw new ConfigError(
      `${dir}: more than one config file (${found.map((f) => f.slice(dir.length + 1)).join(', ')}); keep one`,
    );
  return found[0];
}

/** Config for `run`/`validate`/`list-components`: --config, the flow's dir, the cwd, default. */
export function discoverConfig(options: {
  explicit?: string | undefined;
  flowFile?: string | undefined;
  cwd?: string;
}): RunnerConfig {
  const cwd = options.cwd ?? process.cwd();
  if (options.explicit) return readConfigFile(resolve(cwd, options.explicit));
  if (options.flowFile) {
    const inFlowDir = configFileIn(dirname(resolve(cwd, options.flowFile)));
    if (inFlowDir) return readConfigFile(inFlowDir);
  }
  const inCwd = configFileIn(cwd);
  if (inCwd) return readConfigFile(inCwd);
  return defaultConfig(options.flowFile ? dirname(resolve(cwd, options.flowFile)) : cwd);
}

/**
 * Config for one flow file under `test` (spec config.md §1.2): --config; v0.11 `test.configFile`;
 * inline `test.config` (alias `stepflow_config`, after server substitution); a
 * `stepflow-config.test.yml` beside the flow; then normal discovery from the flow's dir.
 */
export function resolveTestConfig(options: {
  explicit?: string | undefined;
  flowFile: string;
  version: Version;
  test: { config?: Json; configFile?: string } | undefined;
  cwd?: string;
  warn?: (message: string) => void;
}): RunnerConfig {
  const cwd = options.cwd ?? process.cwd();
  const flowDir = dirname(resolve(cwd, options.flowFile));
  if (options.explicit) return readConfigFile(resolve(cwd, options.explicit));
  const test = options.test;
  if (test?.configFile !== undefined) {
    if (options.version === 'v0.11') {
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
    });
  }
  const testFile = TEST_CONFIG_NAMES.map((name) => join(flowDir, name)).find((path) =>
    existsSync(path),
  );
  if (testFile) return readConfigFile(testFile);
  return discoverConfig({ flowFile: options.flowFile, cwd });
}
