import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  parseYaml,
  substituteInJson,
  type Json,
  type JsonObject,
  type Placeholders,
} from '@stepflow-packs/runner';
import type { FlowFile } from './folder.js';
import { configFileName, type Generation } from './generation.js';

/** The config a server is started with; `dispose` removes a generated file. */
export interface ServerConfig {
  /** Absolute path given to `--config`. */
  path: string;
  /** Plugins that launch a process (each may take up to 30 s to start). */
  processPlugins: number;
  dispose(): void;
}

const isObject = (v: Json | undefined): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function countProcessPlugins(config: Json): number {
  if (!isObject(config) || !isObject(config.plugins)) return 0;
  return Object.values(config.plugins).filter((p) => isObject(p) && typeof p.command === 'string')
    .length;
}

function existing(path: string): ServerConfig {
  return {
    path,
    processPlugins: countProcessPlugins(parseYaml(readFileSync(path, 'utf8'), path)),
    dispose: () => {},
  };
}

function generated(config: JsonObject, label: string): ServerConfig {
  const dir = mkdtempSync(join(tmpdir(), 'stepflow-interop-'));
  const path = join(dir, `${label.replace(/[^A-Za-z0-9_.-]+/g, '_')}.json`);
  writeFileSync(path, JSON.stringify(config, null, 2));
  return {
    path,
    processPlugins: countProcessPlugins(config),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Whether a flow file needs a config of its own (inline `test.config` or `test.configFile`). */
export function hasOwnConfig(flow: FlowFile): boolean {
  return flow.test.config !== undefined || flow.test.configFile !== undefined;
}

/** The folder's config for a generation: `stepflow-config.yml` (0.11) or `stepflow-config.v0.13.yml`. */
export function folderConfig(folder: string, generation: Generation): ServerConfig {
  return existing(resolve(folder, configFileName(generation)));
}

/**
 * Config of a flow file with its own config, after `test.servers` placeholder substitution.
 * 0.11.1 reads the inline v0.11 `test.config` as written (generated as JSON with
 * `workingDirectory` = the flow's folder, so relative `args` resolve as they would beside the
 * flow). 0.13 cannot read it (`type: stepflow`), so the folder's v0.13 config is used, with the
 * inline config's literal `env` values (e.g. a `DATABASE_URL` naming the test server's port)
 * copied onto the plugins of the same name.
 */
export function fileConfig(
  flow: FlowFile,
  folder: string,
  generation: Generation,
  placeholders: Placeholders,
): ServerConfig {
  const flowDir = dirname(flow.file);
  if (flow.test.config === undefined) {
    if (generation === '0.11.1') return existing(resolve(flowDir, flow.test.configFile!));
    return folderConfig(folder, generation);
  }
  const inline = substituteInJson(flow.test.config, placeholders);
  if (!isObject(inline)) throw new Error(`${flow.name}: test.config is not a mapping`);
  if (generation === '0.11.1')
    return generated({ workingDirectory: flowDir, ...inline }, flow.name);
  const basePath = resolve(folder, configFileName(generation));
  const base = parseYaml(readFileSync(basePath, 'utf8'), basePath);
  if (!isObject(base) || !isObject(base.plugins)) throw new Error(`${basePath}: no plugins`);
  const plugins: JsonObject = {};
  for (const [name, plugin] of Object.entries(base.plugins)) {
    const from = isObject(inline.plugins) ? inline.plugins[name] : undefined;
    if (!isObject(plugin) || !isObject(from) || !isObject(from.env)) {
      plugins[name] = plugin;
      continue;
    }
    const env: JsonObject = isObject(plugin.env) ? { ...plugin.env } : {};
    for (const [key, value] of Object.entries(from.env))
      if (typeof value === 'string' && !value.includes('${')) env[key] = value;
    plugins[name] = { ...plugin, env };
  }
  return generated({ ...base, workingDirectory: folder, plugins }, flow.name);
}
