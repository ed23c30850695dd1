import { describe, expect, it } from 'vitest';
import { substitute, SubstitutionError } from '../src/config/env-subst.js';

const env = { PATH: '/usr/bin', HOME: '/home/u', EMPTY: '' };

describe('environment substitution with the subst crate rules', () => {
  it('substitutes $NAME and ${NAME}', () => {
    expect(substitute('$HOME/x:${PATH}', env)).toBe('/home/u/x:/usr/bin');
  });

  it('uses ${NAME:default} only when NAME is unset', () => {
    expect(substitute('${NODE_ENV:production}', env)).toBe('production');
    expect(substitute('${EMPTY:fallback}', env)).toBe('');
  });

  it('yields "-default" for the shell form ${NAME:-default} when NAME is unset', () => {
    expect(substitute('${LOG_LEVEL:-info}', env)).toBe('-info');
    expect(substitute('${HOME:-info}', env)).toBe('/home/u');
  });

  it('expands substitutions inside defaults, lazily', () => {
    expect(substitute('${MISSING:${HOME}/cache}', env)).toBe('/home/u/cache');
    expect(substitute('${HOME:${UNSET_TOO}}', env)).toBe('/home/u');
  });

  it('honours backslash escapes for $ \\ : { }', () => {
    expect(substitute('\\$.items[0] \\\\ \\{\\}', env)).toBe('$.items[0] \\ {}');
  });

  it('fails on an unset variable without default, naming it', () => {
    expect(() => substitute('${SECRET_TOKEN}', env)).toThrow(/SECRET_TOKEN is not set/);
    expect(() => substitute('$.foo', env)).toThrow(SubstitutionError);
  });
});
