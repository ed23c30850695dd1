/**
 * Environment substitution with the semantics of the Rust `subst` crate used by Stepflow for
 * plugin `args` and `env`: `$NAME`, `${NAME}`, `${NAME:default}` (the
 * default may itself contain substitutions), `\` escapes `$ \ : { }`. `${NAME:-x}` is NOT the
 * shell form: when NAME is unset it yields `-x`. An unset variable without default is an error.
 */
export class SubstitutionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SubstitutionError';
  }
}

const NAME_CHAR = /[A-Za-z0-9_]/;
const ESCAPABLE = new Set(['$', '\\', ':', '{', '}']);

export function substitute(
  template: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const [text, end] = parse(template, 0, false, env, true);
  if (end !== template.length)
    throw new SubstitutionError(`unexpected "}" at offset ${end} in ${JSON.stringify(template)}`);
  return text;
}

function parse(
  s: string,
  start: number,
  inDefault: boolean,
  env: Readonly<Record<string, string | undefined>>,
  evaluate: boolean,
): [string, number] {
  let out = '';
  let i = start;
  while (i < s.length) {
    const ch = s[i]!;
    if (ch === '\\') {
      const next = s[i + 1];
      if (next === undefined || !ESCAPABLE.has(next)) {
        throw new SubstitutionError(
          `invalid escape sequence "\\${next ?? ''}" at offset ${i} in ${JSON.stringify(s)} (only \\$ \\\\ \\: \\{ \\} are allowed)`,
        );
      }
      out += next;
      i += 2;
    } else if (ch === '}' && inDefault) {
      return [out, i];
    } else if (ch === '$') {
      if (s[i + 1] === '{') {
        let j = i + 2;
        while (j < s.length && NAME_CHAR.test(s[j]!)) j++;
        const name = s.slice(i + 2, j);
        if (name === '')
          throw new SubstitutionError(
            `missing variable name at offset ${i} in ${JSON.stringify(s)}`,
          );
        let fallback: string | undefined;
        if (s[j] === ':') {
          // The default is only evaluated when the variable is unset.
          const [text, end] = parse(s, j + 1, true, env, evaluate && env[name] === undefined);
          if (s[end] !== '}')
            throw new SubstitutionError(`unclosed "\${" at offset ${i} in ${JSON.stringify(s)}`);
          fallback = text;
          j = end;
        } else if (s[j] !== '}') {
          throw new SubstitutionError(
            `expected "}" or ":" after \${${name} in ${JSON.stringify(s)}`,
          );
        }
        if (evaluate) out += lookup(name, fallback, env);
        i = j + 1;
      } else {
        let j = i + 1;
        while (j < s.length && NAME_CHAR.test(s[j]!)) j++;
        const name = s.slice(i + 1, j);
        if (name === '')
          throw new SubstitutionError(
            `missing variable name after "$" at offset ${i} in ${JSON.stringify(s)} (write \\$ for a literal dollar)`,
          );
        if (evaluate) out += lookup(name, undefined, env);
        i = j;
      }
    } else {
      out += ch;
      i++;
    }
  }
  if (inDefault) throw new SubstitutionError(`unclosed "\${" in ${JSON.stringify(s)}`);
  return [out, i];
}

function lookup(
  name: string,
  fallback: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const value = env[name];
  if (value !== undefined) return value;
  if (fallback !== undefined) return fallback;
  throw new SubstitutionError(
    `environment variable ${name} is not set (use \${${name}:default} to give a default)`,
  );
}
