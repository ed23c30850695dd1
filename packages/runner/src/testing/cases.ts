import { entriesOf, isObject, typeName, type Json, type JsonObject } from '../json/value.js';

export interface TestCase {
  name: string;
  description?: string;
  input: Json;
  /** Expected FlowResult; a case without one is reported and counted as failed. */
  output?: Json;
}

export interface ServerSpec {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  workingDirectory?: string;
  portRange: [number, number];
  healthCheck?: { path: string; timeoutMs: number; retryAttempts: number; retryDelayMs: number };
  startupTimeoutMs: number;
  shutdownTimeoutMs: number;
}

export interface TestSection {
  servers: ServerSpec[];
  config?: Json;
  configFile?: string;
  cases: TestCase[];
}

const SERVER_SNAKE: Record<string, string> = {
  working_directory: 'workingDirectory',
  port_range: 'portRange',
  health_check: 'healthCheck',
  startup_timeout_ms: 'startupTimeoutMs',
  shutdown_timeout_ms: 'shutdownTimeoutMs',
};

/**
 * Read a flow's `test:` section (cases, servers, config file). `servers` (camelCase keys) is
 * accepted in both emulation modes (a runner extension for v0.11). Problems name the file and the
 * key.
 */
export function parseTestSection(
  raw: Json | undefined,
  file: string,
  warn: (message: string) => void,
): TestSection | undefined {
  if (raw === undefined || raw === null) return undefined;
  const fail = (key: string, message: string): never => {
    throw new Error(`${file}: test.${key}: ${message}`);
  };
  if (!isObject(raw)) fail('', `expected a mapping, got ${typeName(raw)}`);
  const test = raw as JsonObject;
  const section: TestSection = { servers: [], cases: [] };
  const config = test.config ?? test.stepflow_config;
  if (config !== undefined) section.config = config;
  if (test.configFile !== undefined) {
    if (typeof test.configFile !== 'string') fail('configFile', 'expected a path string');
    section.configFile = test.configFile as string;
  }
  if (test.config_file !== undefined)
    warn(`${file}: test.config_file is ignored; the key is "configFile"`);
  if (test.servers !== undefined && test.servers !== null) {
    if (!isObject(test.servers)) fail('servers', 'expected a mapping of name → server');
    for (const [name, spec] of entriesOf(test.servers as JsonObject))
      section.servers.push(parseServer(name, spec, file, warn));
  }
  const cases = test.cases ?? [];
  if (!Array.isArray(cases)) fail('cases', 'expected a list');
  const names = new Set<string>();
  (cases as Json[]).forEach((c, i) => {
    if (!isObject(c)) fail(`cases[${i}]`, 'expected a mapping');
    const item = c as JsonObject;
    if (typeof item.name !== 'string' || item.name === '')
      fail(`cases[${i}].name`, 'a non-empty name is required');
    const name = item.name as string;
    if (names.has(name)) fail(`cases[${i}].name`, `duplicate case name "${name}"`);
    names.add(name);
    if (!('input' in item)) fail(`cases[${i}] ("${name}").input`, 'is required');
    const testCase: TestCase = { name, input: item.input! };
    if (typeof item.description === 'string') testCase.description = item.description;
    if (item.output !== undefined && item.output !== null) {
      const output = item.output;
      if (
        !isObject(output) ||
        !['success', 'failed', 'skipped'].includes(output.outcome as string)
      ) {
        fail(
          `cases[${i}] ("${name}").output`,
          'expected a FlowResult with outcome success, failed or skipped',
        );
      }
      testCase.output = output;
    }
    section.cases.push(testCase);
  });
  return section;
}

function parseServer(
  name: string,
  raw: Json,
  file: string,
  warn: (message: string) => void,
): ServerSpec {
  const at = `${file}: test.servers.${name}`;
  if (!isObject(raw)) throw new Error(`${at}: expected a mapping`);
  for (const [snake, camel] of Object.entries(SERVER_SNAKE)) {
    if (snake in raw)
      warn(`${at}.${snake} is ignored by Stepflow (the key is "${camel}"); defaults apply`);
  }
  if (typeof raw.command !== 'string') throw new Error(`${at}.command: is required`);
  const args = raw.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string'))
    throw new Error(`${at}.args: expected a list of strings`);
  const env: Record<string, string> = {};
  if (isObject(raw.env))
    for (const [k, v] of entriesOf(raw.env)) env[k] = typeof v === 'string' ? v : JSON.stringify(v);
  let portRange: [number, number] = [18000, 18999];
  if (
    Array.isArray(raw.portRange) &&
    raw.portRange.length === 2 &&
    raw.portRange.every((p) => typeof p === 'number')
  ) {
    portRange = raw.portRange as [number, number];
  }
  const spec: ServerSpec = {
    name,
    command: raw.command,
    args: args as string[],
    env,
    portRange,
    startupTimeoutMs: typeof raw.startupTimeoutMs === 'number' ? raw.startupTimeoutMs : 10_000,
    shutdownTimeoutMs: typeof raw.shutdownTimeoutMs === 'number' ? raw.shutdownTimeoutMs : 5000,
  };
  if (typeof raw.workingDirectory === 'string') spec.workingDirectory = raw.workingDirectory;
  if (isObject(raw.healthCheck)) {
    const hc = raw.healthCheck;
    spec.healthCheck = {
      path: typeof hc.path === 'string' ? hc.path : '/health',
      timeoutMs: typeof hc.timeoutMs === 'number' ? hc.timeoutMs : 5000,
      retryAttempts: typeof hc.retryAttempts === 'number' ? hc.retryAttempts : 3,
      retryDelayMs: typeof hc.retryDelayMs === 'number' ? hc.retryDelayMs : 1000,
    };
  }
  return spec;
}
