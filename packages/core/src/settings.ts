import { z } from 'zod';

/**
 * Server-side pack configuration: roots, allowlists, limits. Filled from environment variables
 * and CLI flags only (never from component input), validated once at start-up.
 */
export interface SettingDefinition<S extends z.ZodType = z.ZodType> {
  /** Parses the raw value: a string from the environment or a flag, or undefined when unset. */
  schema: S;
  /** Environment variable that sets it, e.g. `STEPFLOW_HTTP_ALLOW_HOSTS`. */
  env?: string;
  /** CLI flag that sets it (without `--`); repeating the flag joins the values with commas. */
  flag?: string;
  description: string;
  /** Never echoed in errors or logs. */
  secret?: boolean;
}

export type SettingsDefinition = Record<string, SettingDefinition>;

export type SettingsOf<S extends SettingsDefinition> = {
  [K in keyof S]: z.output<S[K]['schema']>;
};

export function defineSettings<S extends SettingsDefinition>(settings: S): S {
  return settings;
}

const splitList = (value: unknown) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0)
    : value;

const BOOL_WORDS: Record<string, boolean> = {
  '1': true,
  true: true,
  yes: true,
  on: true,
  '0': false,
  false: false,
  no: false,
  off: false,
};

/** Schema builders that parse environment strings. */
export const fromEnv = {
  /**
   * Comma-separated list whose items each pass `item` (default: any string); unset = the
   * default (`[]` unless given). `min` requires that many items.
   */
  list: <T extends z.ZodType = z.ZodString>(
    item?: T,
    options: { default?: z.output<T>[]; min?: number } = {},
  ) =>
    z
      .preprocess(splitList, z.array((item ?? z.string()) as T).min(options.min ?? 0))
      .default((options.default ?? []) as never),
  /** Integer with bounds; unset = the default. */
  integer: (options: { default: number; min?: number; max?: number }) => {
    let schema = z.coerce.number().int();
    if (options.min !== undefined) schema = schema.min(options.min);
    if (options.max !== undefined) schema = schema.max(options.max);
    return schema.default(options.default);
  },
  /** `1/true/yes/on` or `0/false/no/off`; unset = the default. */
  boolean: (defaultValue: boolean) =>
    z
      .preprocess(
        (value) =>
          typeof value === 'string' ? (BOOL_WORDS[value.trim().toLowerCase()] ?? value) : value,
        z.boolean(),
      )
      .default(defaultValue),
  /** Free string; unset = undefined (or the default when given). */
  string: (defaultValue?: string) =>
    defaultValue === undefined
      ? z.string().min(1).optional()
      : z.string().min(1).default(defaultValue),
};

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'SettingsError';
  }
}

/** Resolve settings from raw sources; flags win over the environment. Throws SettingsError. */
export function resolveSettings<S extends SettingsDefinition>(
  definition: S,
  sources: {
    env?: Record<string, string | undefined>;
    flags?: Record<string, string | undefined>;
  } = {},
): SettingsOf<S> {
  const env = sources.env ?? {};
  const flags = sources.flags ?? {};
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, setting] of Object.entries(definition)) {
    const flagValue = setting.flag ? flags[setting.flag] : undefined;
    const envValue = setting.env ? env[setting.env] : undefined;
    const raw = flagValue ?? (envValue === '' ? undefined : envValue);
    const origin =
      flagValue !== undefined ? `--${setting.flag}` : setting.env && envValue ? setting.env : key;
    const parsed = setting.schema.safeParse(raw);
    if (parsed.success) {
      values[key] = parsed.data;
    } else {
      const issue = parsed.error.issues[0];
      const shown = setting.secret || raw === undefined ? '' : ` (got ${JSON.stringify(raw)})`;
      problems.push(`${origin}: ${issue?.message ?? 'invalid value'}${shown}`);
    }
  }
  if (problems.length > 0) throw new SettingsError(problems);
  return values as SettingsOf<S>;
}

/** Values a caller passes directly (tests, embedding): parsed through each schema. */
export function settingsFromValues<S extends SettingsDefinition>(
  definition: S,
  values: Partial<SettingsOf<S>> = {},
): SettingsOf<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, setting] of Object.entries(definition)) {
    const given = (values as Record<string, unknown>)[key];
    const parsed = setting.schema.safeParse(given);
    if (parsed.success) out[key] = parsed.data;
    else problems.push(`${key}: ${parsed.error.issues[0]?.message ?? 'invalid value'}`);
  }
  if (problems.length > 0) throw new SettingsError(problems);
  return out as SettingsOf<S>;
}
