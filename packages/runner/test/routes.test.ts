import { describe, expect, it } from 'vitest';
import { conditionOf, RouteTable, type RouteRule } from '../src/config/routes.js';

const rule = (plugin: string, extra: Partial<RouteRule> = {}): RouteRule => ({
  plugin,
  conditions: [],
  ...extra,
});

describe('routing with matchit 0.8 semantics', () => {
  it('sends "/" + the captured {component}', () => {
    const t = new RouteTable();
    t.add('/math/{component}', [rule('math')]);
    expect(t.resolve('/math/add', null)).toMatchObject({ plugin: 'math', component: '/add' });
    expect(() => t.resolve('/math/ops/add', null)).toThrow(/no route matches/);
  });

  it('captures the rest of the path with {*component}, without its leading slash', () => {
    const t = new RouteTable();
    t.add('/math/{*component}', [rule('math')]);
    expect(t.resolve('/math/ops/add', null).component).toBe('/ops/add');
  });

  it('prefers static segments over {name} over {*name}', () => {
    const t = new RouteTable();
    t.add('/{*component}', [rule('catchall')]);
    t.add('/math/{component}', [rule('param')]);
    t.add('/math/special', [rule('static', { component: '/special' })]);
    expect(t.resolve('/math/special', null).plugin).toBe('static');
    expect(t.resolve('/math/add', null).plugin).toBe('param');
    expect(t.resolve('/other/add', null)).toMatchObject({
      plugin: 'catchall',
      component: '/other/add',
    });
  });

  it('applies component templates', () => {
    const t = new RouteTable();
    t.add('/math/{component}', [rule('math', { component: '/v2/{component}' })]);
    expect(t.resolve('/math/add', null).component).toBe('/v2/add');
  });

  it('rejects ambiguous patterns at start-up', () => {
    const t = new RouteTable();
    t.add('/{a}', [rule('x')]);
    expect(() => t.add('/{b}', [rule('y')])).toThrow(/same paths/);
  });

  it('tries rules in order with conditions and allow/deny lists; a missing condition path is an error', () => {
    const t = new RouteTable();
    t.add('/math/{component}', [
      rule('precise', { conditions: [conditionOf('$.precision', 'high')] }),
      rule('fast', { conditions: [conditionOf('$.precision', 'low')], componentDeny: ['/div'] }),
      rule('fallback', {
        conditions: [conditionOf('$.precision', 'low')],
        componentAllow: ['/div'],
      }),
    ]);
    expect(t.resolve('/math/add', { precision: 'high' }).plugin).toBe('precise');
    expect(t.resolve('/math/add', { precision: 'low' }).plugin).toBe('fast');
    expect(t.resolve('/math/div', { precision: 'low' }).plugin).toBe('fallback');
    expect(() => t.resolve('/math/add', {})).toThrow(/condition path \$\.precision is not present/);
  });

  it('uses a single unconditional rule directly, without checking allow/deny lists', () => {
    const t = new RouteTable();
    t.add('/math/{component}', [rule('math', { componentAllow: ['/add'] })]);
    expect(t.resolve('/math/mul', null).plugin).toBe('math');
  });
});
