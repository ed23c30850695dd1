import { readFile, stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { success } from '../../execute/result.js';
import { parseYaml } from '../../json/yaml.js';
import type { Json } from '../../json/value.js';
import { builtinError, requireString, type Builtin } from './types.js';

export const loadFile: Builtin = {
  name: 'load_file',
  description: 'Read a JSON, YAML or text file relative to the working directory',
  async execute(input, host) {
    const path = requireString('load_file', input, 'path');
    const format = input.format ?? inferFormat(path);
    if (format !== 'json' && format !== 'yaml' && format !== 'text')
      throw builtinError('load_file', 'input.format: expected json, yaml or text');
    const resolved = resolve(host.workingDirectory, path);
    let text: string;
    let size: number;
    try {
      size = (await stat(resolved)).size;
      text = await readFile(resolved, 'utf8');
    } catch (err) {
      throw builtinError(
        'load_file',
        `cannot read ${resolved}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    let data: Json;
    try {
      data =
        format === 'text'
          ? text
          : format === 'json'
            ? (JSON.parse(text) as Json)
            : parseYaml(text, resolved);
    } catch (err) {
      throw builtinError(
        'load_file',
        `cannot parse ${resolved} as ${format}: ${(err as Error).message}`,
      );
    }
    return success({ data, metadata: { resolved_path: resolved, size_bytes: size, format } });
  },
};

function inferFormat(path: string): string {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yml' || ext === '.yaml') return 'yaml';
  return 'text';
}
