import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunnerConfig } from '../config/types.js';
import { canonicalJson } from '../json/canonical.js';
import { isObject, type JsonObject } from '../json/value.js';

/** A config file written for `stepflow-server --config`; `dispose` removes it. */
export interface ServerConfigFile {
  path: string;
  /** Plugins that launch a process (the server may wait 30 s for each). */
  processPlugins: number;
  dispose(): void;
}

/**
 * Write the config the runner resolved (file, inline `test.config`, or the 0.13 folder config
 * with an inline config's env) as JSON with an absolute `workingDirectory`, so the server
 * resolves relative commands and arguments where the runner would.
 */
export function writeServerConfig(config: RunnerConfig, label = 'config'): ServerConfigFile {
  const document: JsonObject = { ...config.document, workingDirectory: config.workingDirectory };
  const dir = mkdtempSync(join(tmpdir(), 'stepflow-packs-server-'));
  const path = join(dir, `${label.replace(/[^A-Za-z0-9_.-]+/g, '_')}.json`);
  writeFileSync(path, canonicalJson(document, { indent: 2 }) + '\n', { mode: 0o600 });
  return {
    path,
    processPlugins: countProcessPlugins(document),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function countProcessPlugins(document: JsonObject): number {
  const plugins = document.plugins;
  if (!isObject(plugins)) return 0;
  return Object.values(plugins as JsonObject).filter(
    (p) => isObject(p) && typeof (p as JsonObject).command === 'string',
  ).length;
}
