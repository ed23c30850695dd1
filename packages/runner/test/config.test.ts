import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverConfig, resolveTestConfig } from '../src/config/discovery.js';
import { ConfigError, parseConfig } from '../src/config/load.js';
import { parseYaml } from '../src/json/yaml.js';
import { tempDir } from './helpers.js';

const MINIMAL =
  'plugins:\n  builtin: {type: builtin}\nroutes:\n  "/builtin/{component}": [{plugin: builtin}]\n';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function workspace() {
  const t = tempDir('config');
  cleanups.push(t.cleanup);
  return t;
}

describe('config discovery', () => {
  it('prefers --config, then the flow directory, then the working directory, then the default', () => {
    const w = workspace();
    mkdirSync(join(w.dir, 'flows'));
    w.write('flows/flow.yaml', 'output: 1\n');
    expect(discoverConfig({ flowFile: 'flows/flow.yaml', cwd: w.dir }).source).toBe(
      '(default config)',
    );
    w.write('stepflow_config.yaml', MINIMAL);
    expect(discoverConfig({ flowFile: 'flows/flow.yaml', cwd: w.dir }).file).toBe(
      join(w.dir, 'stepflow_config.yaml'),
    );
    w.write('flows/stepflow-config.yml', MINIMAL);
    expect(discoverConfig({ flowFile: 'flows/flow.yaml', cwd: w.dir }).file).toBe(
      join(w.dir, 'flows/stepflow-config.yml'),
    );
    w.write('other.yml', MINIMAL);
    expect(
      discoverConfig({ explicit: 'other.yml', flowFile: 'flows/flow.yaml', cwd: w.dir }).file,
    ).toBe(join(w.dir, 'other.yml'));
  });

  it('rejects two config files in one directory', () => {
    const w = workspace();
    w.write('stepflow-config.yml', MINIMAL);
    w.write('stepflow-config.yaml', MINIMAL);
    expect(() => discoverConfig({ cwd: w.dir })).toThrow(/more than one config file/);
  });

  it('resolves test configs: v0.11 configFile, inline config, stepflow-config.test.yml, then discovery', () => {
    const w = workspace();
    const flowFile = join(w.dir, 'flow.yaml');
    w.write('stepflow-config.yml', MINIMAL);
    w.write('custom.yml', MINIMAL);
    expect(resolveTestConfig({ flowFile, version: 'v0.11', test: undefined }).file).toBe(
      join(w.dir, 'stepflow-config.yml'),
    );
    w.write('stepflow-config.test.yml', MINIMAL);
    expect(resolveTestConfig({ flowFile, version: 'v0.11', test: undefined }).file).toBe(
      join(w.dir, 'stepflow-config.test.yml'),
    );
    const inline = resolveTestConfig({
      flowFile,
      version: 'v0.8',
      test: { config: parseYaml(MINIMAL) },
    });
    expect(inline).toMatchObject({ file: undefined, workingDirectory: w.dir });
    expect(
      resolveTestConfig({ flowFile, version: 'v0.11', test: { configFile: 'custom.yml' } }).file,
    ).toBe(join(w.dir, 'custom.yml'));
    expect(() =>
      resolveTestConfig({
        flowFile,
        version: 'v0.11',
        test: { configFile: 'custom.yml', config: parseYaml(MINIMAL) },
      }),
    ).toThrow(/mutually exclusive/);
    const warnings: string[] = [];
    expect(
      resolveTestConfig({
        flowFile,
        version: 'v0.8',
        test: { configFile: 'custom.yml' },
        warn: (m) => warnings.push(m),
      }).file,
    ).toBe(join(w.dir, 'stepflow-config.test.yml'));
    expect(warnings[0]).toMatch(/configFile is a v0\.11 key/);
  });
});

describe('config parsing (plugins, routes, state store)', () => {
  const parse = (text: string) =>
    parseConfig(parseYaml(text), { source: 'c.yml', file: 'c.yml', baseDir: '/base' });

  it('warns about unknown and snake_case keys instead of failing', () => {
    const config = parse(
      `${MINIMAL}state_store: {type: sqlite}\nstateStore: {type: sqlite, databaseUrl: "sqlite:x"}\n`,
    );
    expect(config.warnings).toEqual([
      'c.yml: unknown key "state_store" is ignored (did you mean "stateStore"?)',
      'c.yml: stateStore with a persistent store is accepted but ignored; the runner keeps everything in memory',
    ]);
  });

  it('names the key of every structural problem', () => {
    expect(() => parse('plugins: {}\n')).toThrow(
      new ConfigError('c.yml: routes: is required and must be a mapping'),
    );
    expect(() => parse('plugins: {}\nroutes:\n  "/x/{component}": [{plugin: nope}]\n')).toThrow(
      /routes\["\/x\/\{component\}"\]\[0\]\.plugin: no plugin named "nope"/,
    );
    expect(() => parse('plugins: {w: {type: stepflow}}\nroutes: {}\n')).toThrow(
      /plugins\.w: a stepflow plugin needs "command"/,
    );
    expect(() => parse('plugins: {w: {type: rust}}\nroutes: {}\n')).toThrow(
      /plugins\.w\.type: expected one of builtin, stepflow, mock, mcp/,
    );
  });

  it('reads retry settings and defaults to fibonacci 1 s…10 s with 3 transport retries', () => {
    expect(parse(MINIMAL).retry).toEqual({
      transportMaxRetries: 3,
      backoff: { type: 'fibonacci', minDelayMs: 1000, maxDelayMs: 10000 },
    });
    expect(
      parse(`${MINIMAL}retry: {transportMaxRetries: 0, backoff: {type: constant, delayMs: 5}}\n`)
        .retry,
    ).toEqual({ transportMaxRetries: 0, backoff: { type: 'constant', delayMs: 5 } });
  });

  it('reads mock behaviours keyed by YAML complex keys, also as later keys of a nested map', () => {
    const config = parse(
      'plugins:\n  m:\n    type: mock\n    components:\n      /c:\n        input_schema: {}\n        output_schema: {}\n        behaviors:\n          x: {outcome: success, result: 0}\n          { input: "a" }:\n            outcome: success\n            result: 1\n          [1, 2]: {error: boom}\nroutes: {}\n',
    );
    const mock = config.plugins.get('m');
    expect(
      mock?.type === 'mock' && mock.components.get('/c')?.behaviors.map((b) => b.input),
    ).toEqual(['x', { input: 'a' }, [1, 2]]);
  });
});
