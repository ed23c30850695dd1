import { canonicalJson } from '../json/canonical.js';
import { decodeComplexKey } from '../json/yaml.js';
import { entriesOf, isObject, typeName, type Json, type JsonObject } from '../json/value.js';
import { isTaskErrorName } from '../execute/codes.js';
import { conditionOf, type RouteCondition } from './routes.js';
import type { ConfigGeneration, MockComponentConfig, PluginConfig } from './types.js';

/** A config that cannot be used; the message names the file and the key. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function stringList(
  value: Json | undefined,
  key: string,
  source: string,
): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new ConfigError(`${source}: ${key}: expected a list of strings`);
  return value as string[];
}

export function stringMap(
  value: Json | undefined,
  key: string,
  source: string,
): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new ConfigError(`${source}: ${key}: expected a mapping of strings`);
  const out: Record<string, string> = {};
  for (const [name, member] of entriesOf(value)) {
    if (typeof member !== 'string')
      throw new ConfigError(
        `${source}: ${key}.${name}: expected a string, got ${typeName(member)}`,
      );
    out[name] = member;
  }
  return out;
}

export function uint(
  value: Json | undefined,
  key: string,
  source: string,
  fallback: number,
): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw new ConfigError(`${source}: ${key}: expected a non-negative integer`);
  return value;
}

/**
 * A `mock` plugin: canned results per input. In 0.13 error codes are `TaskErrorCode` names and
 * `outcome: skipped` no longer exists; before, codes are integers.
 */
export function parseMock(
  value: JsonObject,
  key: string,
  source: string,
  generation: ConfigGeneration,
): PluginConfig {
  const components = new Map<string, MockComponentConfig>();
  if (!isObject(value.components))
    throw new ConfigError(`${source}: ${key}.components: expected a mapping`);
  for (const [component, spec] of entriesOf(value.components)) {
    const at = `${key}.components["${component}"]`;
    if (!isObject(spec)) throw new ConfigError(`${source}: ${at}: expected a mapping`);
    if (spec.input_schema === undefined)
      throw new ConfigError(`${source}: ${at}.input_schema: is required`);
    if (spec.output_schema === undefined)
      throw new ConfigError(`${source}: ${at}.output_schema: is required`);
    const behaviors: MockComponentConfig['behaviors'] = [];
    if (spec.behaviors !== undefined && spec.behaviors !== null) {
      if (!isObject(spec.behaviors))
        throw new ConfigError(
          `${source}: ${at}.behaviors: expected a mapping from inputs to results`,
        );
      for (const [inputKey, result] of entriesOf(spec.behaviors)) {
        const input = decodeComplexKey(inputKey);
        if (isObject(result) && typeof result.error === 'string' && result.outcome === undefined) {
          behaviors.push({ input, behavior: { kind: 'error', message: result.error } });
        } else if (
          isObject(result) &&
          (generation === 'v0.13'
            ? ['success', 'failed']
            : ['success', 'failed', 'skipped']
          ).includes(result.outcome as string)
        ) {
          if (result.outcome === 'failed')
            checkMockCode(
              result.error,
              generation,
              `${source}: ${at}.behaviors[${canonicalJson(input)}].error.code`,
            );
          behaviors.push({ input, behavior: { kind: 'result', result } });
        } else {
          throw new ConfigError(
            `${source}: ${at}.behaviors[${canonicalJson(input)}]: expected a FlowResult (outcome: ${generation === 'v0.13' ? 'success|failed' : 'success|failed|skipped'}) or {error: "<text>"}`,
          );
        }
      }
    }
    components.set(component, {
      inputSchema: spec.input_schema,
      outputSchema: spec.output_schema,
      behaviors,
    });
  }
  return { type: 'mock', components };
}

/** `conditions` of a route rule: `[{path, value}]`, all must hold. */
export function parseConditions(
  value: Json | undefined,
  key: string,
  source: string,
): RouteCondition[] {
  const conditions: RouteCondition[] = [];
  if (value === undefined || value === null) return conditions;
  if (!Array.isArray(value)) throw new ConfigError(`${source}: ${key}.conditions: expected a list`);
  for (const [i, c] of value.entries()) {
    if (!isObject(c) || typeof c.path !== 'string' || !('value' in c)) {
      throw new ConfigError(
        `${source}: ${key}.conditions[${i}]: expected {path: "<JSONPath>", value: <json>}`,
      );
    }
    try {
      conditions.push(conditionOf(c.path, c.value!));
    } catch (err) {
      throw new ConfigError(`${source}: ${key}.conditions[${i}].path: ${(err as Error).message}`);
    }
  }
  return conditions;
}

function checkMockCode(error: Json | undefined, generation: ConfigGeneration, at: string): void {
  const code = isObject(error) ? error.code : undefined;
  if (generation === 'v0.13') {
    if (!isTaskErrorName(code))
      throw new ConfigError(
        `${at}: expected a TaskErrorCode name such as COMPONENT_FAILED, got ${JSON.stringify(code ?? null)}`,
      );
  } else if (typeof code !== 'number' || !Number.isInteger(code)) {
    throw new ConfigError(
      `${at}: expected an integer (error codes are names only in Stepflow 0.13), got ${JSON.stringify(code ?? null)}`,
    );
  }
}
