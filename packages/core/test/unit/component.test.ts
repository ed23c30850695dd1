import { describe, expect, it } from 'vitest';
import {
  defineComponent,
  definePack,
  defineSettings,
  fromEnv,
  PackError,
  resolveSettings,
  SettingsError,
  z,
} from '../../src/index.js';

const add = defineComponent({
  name: 'add',
  description: 'Add two numbers.',
  input: z.strictObject({ a: z.number().describe('First'), b: z.number().default(1) }),
  output: z.object({ sum: z.number() }),
  execute: ({ a, b }) => ({ sum: a + b }),
});

describe('defineComponent', () => {
  it('publishes the input schema as JSON Schema 2020-12 in input mode (defaults make fields optional)', () => {
    const schema = add.inputJsonSchema;
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.required).toEqual(['a']);
    expect(schema.additionalProperties).toBe(false);
    expect((schema.properties as Record<string, { description?: string }>).a!.description).toBe(
      'First',
    );
  });

  it('publishes the output schema in output mode', () => {
    expect(add.outputJsonSchema).toMatchObject({ type: 'object', required: ['sum'] });
  });

  it('computes each JSON Schema once', () => {
    expect(add.inputJsonSchema).toBe(add.inputJsonSchema);
    expect(add.outputJsonSchema).toBe(add.outputJsonSchema);
  });

  it('rejects names that are not snake_case', () => {
    expect(() =>
      defineComponent({ ...add, name: 'Add-Numbers' } as Parameters<typeof defineComponent>[0]),
    ).toThrow(/snake_case/);
  });
});

describe('definePack', () => {
  it('adds health_check to every pack', () => {
    const pack = definePack({ name: 'p', version: '1.0.0', components: [add] });
    expect([...pack.components.keys()]).toEqual(['add', 'health_check']);
  });

  it('refuses two components with the same name', () => {
    expect(() => definePack({ name: 'p', version: '1.0.0', components: [add, add] })).toThrow(
      /twice/,
    );
  });
});

describe('PackError', () => {
  it('accepts codes in -32199…-32110 only', () => {
    expect(new PackError(-32150, 'x').code).toBe(-32150);
    expect(() => new PackError(-32100, 'x')).toThrow(RangeError);
    expect(() => new PackError(-32300, 'x')).toThrow(RangeError);
  });
});

describe('pack settings', () => {
  const settings = defineSettings({
    hosts: { schema: fromEnv.list(), env: 'T_HOSTS', flag: 'host', description: 'hosts' },
    limit: {
      schema: fromEnv.integer({ default: 10, min: 1, max: 100 }),
      env: 'T_LIMIT',
      description: 'limit',
    },
    strict: { schema: fromEnv.boolean(false), env: 'T_STRICT', description: 'strict' },
    token: { schema: fromEnv.string(), env: 'T_TOKEN', description: 'token', secret: true },
  });

  it('fills defaults when nothing is set', () => {
    expect(resolveSettings(settings, {})).toEqual({
      hosts: [],
      limit: 10,
      strict: false,
      token: undefined,
    });
  });

  it('parses environment strings and lets flags win', () => {
    const values = resolveSettings(settings, {
      env: { T_HOSTS: 'a, b', T_LIMIT: '42', T_STRICT: 'yes' },
      flags: { host: 'c' },
    });
    expect(values).toEqual({ hosts: ['c'], limit: 42, strict: true, token: undefined });
  });

  it('names the variable and value of every invalid setting', () => {
    try {
      resolveSettings(settings, { env: { T_LIMIT: '1000', T_STRICT: 'maybe' } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SettingsError);
      const problems = (err as SettingsError).problems;
      expect(problems).toHaveLength(2);
      expect(problems[0]).toMatch(/^T_LIMIT: .*100.* \(got "1000"\)$/);
      expect(problems[1]).toMatch(/^T_STRICT: /);
    }
  });

  it('never echoes the value of a secret setting', () => {
    const secret = defineSettings({
      token: { schema: z.string().min(20), env: 'T_TOKEN', description: 't', secret: true },
    });
    expect(() => resolveSettings(secret, { env: { T_TOKEN: 'short-secret' } })).toThrow(
      /^(?!.*short-secret)/s,
    );
  });
});

describe('fromEnv.list', () => {
  it('validates each item and applies a default and a minimum', () => {
    const ports = fromEnv.list(z.coerce.number().int(), { default: [80], min: 1 });
    expect(ports.parse(undefined)).toEqual([80]);
    expect(ports.parse('1, 2,3')).toEqual([1, 2, 3]);
    expect(ports.safeParse('a').success).toBe(false);
    expect(ports.safeParse(' , ').success).toBe(false);
  });
});
