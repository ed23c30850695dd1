import { readFileSync } from 'node:fs';
import { parseYaml, type Json, type JsonObject } from '@stepflow-packs/runner';

export const PACKS = ['math', 'data', 'http', 'postgres', 'image', 'cache'] as const;
export type Pack = (typeof PACKS)[number];

/** The ```yaml blocks of a Markdown file, in order. */
export function yamlBlocks(markdownPath: string): string[] {
  const text = readFileSync(markdownPath, 'utf8');
  return [...text.matchAll(/^```yaml\n([\s\S]*?)^```/gm)].map((m) => m[1] ?? '');
}

export const isObject = (v: Json | undefined): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Where a README config starts the pack (installed) and where workflows/<pack> starts it. */
export const installedBin = (pack: Pack) => `node_modules/@stepflow-packs/${pack}/dist/bin.js`;
export const repoBin = (pack: Pack) => `../../packages/${pack}/dist/bin.js`;

/**
 * What only the workflows/<pack> configs carry, because their test cases need it; a README
 * config, written for users, leaves it out:
 * - `retry`: a fast constant backoff so failing cases do not wait for the default fibonacci one;
 * - env: the limits the cases exercise (data, image) and the http fixture server's needs (it
 *   listens on 127.0.0.1, which the SSRF guard refuses unless allowlisted; short retry delays).
 * Every entry must be present in the workflows config (a stale entry fails the test).
 */
export const TEST_ONLY: Record<Pack, { top?: string[]; env?: string[] }> = {
  math: {},
  data: { top: ['retry'], env: ['STEPFLOW_DATA_MAX_RECORDS', 'STEPFLOW_DATA_REGEX_TIMEOUT_MS'] },
  http: { top: ['retry'], env: ['STEPFLOW_HTTP_ALLOW_HOSTS', 'STEPFLOW_HTTP_RETRY_BASE_DELAY_MS'] },
  postgres: {},
  image: { top: ['retry'], env: ['STEPFLOW_IMAGE_MAX_INPUT_BYTES', 'STEPFLOW_IMAGE_MAX_FILES'] },
  cache: { top: ['retry'] },
};

/**
 * A README config as the workflows folder would run it: the pack plugin's first argument, the
 * installed bin path (required), becomes the repository's. Nothing else changes.
 */
export function readmeToRepo(config: Json, pack: Pack): Json {
  const copy = structuredClone(config);
  if (!isObject(copy) || !isObject(copy.plugins)) throw new Error('no plugins');
  const plugin = copy.plugins[pack];
  if (!isObject(plugin) || !Array.isArray(plugin.args)) throw new Error(`no ${pack} plugin args`);
  if (plugin.command !== 'node' || plugin.args[0] !== installedBin(pack)) {
    throw new Error(
      `the ${pack} plugin must start \`node ${installedBin(pack)}\`, found ` +
        `\`${String(plugin.command)} ${JSON.stringify(plugin.args)}\``,
    );
  }
  plugin.args[0] = repoBin(pack);
  return copy;
}

/** The workflows config without its TEST_ONLY keys; throws on an entry that is not there. */
export function withoutTestOnly(config: Json, pack: Pack): Json {
  const copy = structuredClone(config);
  if (!isObject(copy) || !isObject(copy.plugins)) throw new Error('no plugins');
  const plugin = copy.plugins[pack];
  if (!isObject(plugin)) throw new Error(`no ${pack} plugin`);
  const { top = [], env = [] } = TEST_ONLY[pack];
  for (const key of top) {
    if (!(key in copy)) throw new Error(`stale TEST_ONLY entry: ${pack} has no top-level ${key}`);
    delete copy[key];
  }
  for (const key of env) {
    if (!isObject(plugin.env) || !(key in plugin.env)) {
      throw new Error(`stale TEST_ONLY entry: the ${pack} plugin has no env ${key}`);
    }
    delete plugin.env[key];
  }
  return copy;
}

export const readYaml = (path: string): Json => parseYaml(readFileSync(path, 'utf8')) as Json;
export const parseBlock = (text: string): Json => parseYaml(text) as Json;
