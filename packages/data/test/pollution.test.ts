import { describe, expect, it } from 'vitest';
import { dataKit, json } from './helpers.js';

/**
 * Prototype pollution: records with __proto__, constructor and prototype keys go
 * through every data operation. Nothing may reach Object.prototype, and the keys either
 * round-trip as data or are rejected explicitly, never silently dropped.
 */

const HOSTILE =
  '{"id":1,"__proto__":{"polluted":"yes","isAdmin":true},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"}}';
const hostile = () => json<Record<string, unknown>>(HOSTILE);
const hostileList = () =>
  json<Record<string, unknown>[]>(`[${HOSTILE},${HOSTILE.replace('"id":1', '"id":2')}]`);

const KEYS = [
  '"__proto__":{"polluted":"yes","isAdmin":true}',
  '"constructor":{"prototype":{"polluted":"yes"}}',
  '"prototype":{"polluted":"yes"}',
];

const cases: [string, () => unknown, (text: string) => void][] = [
  ['process_data', () => ({ data: hostile(), processing_rules: { uppercase: true } }), roundTrips],
  [
    'robust_processing',
    () => ({ data: hostile() }),
    (text) => {
      // Non-scalar values are skipped and reported by name: rejected explicitly, not dropped.
      for (const key of ['__proto__', 'constructor', 'prototype'])
        expect(text).toContain(`{"field":"${key}"`);
    },
  ],
  ['batch_processing', () => ({ items: hostileList() }), roundTrips],
  ['distributed_processing', () => ({ task_id: 't', data: hostile(), priority: 100 }), roundTrips],
  [
    'filter_records',
    () => ({
      records: hostileList(),
      where: [
        { field: '__proto__.polluted', op: 'eq', value: 'yes' },
        { field: 'constructor.prototype.polluted', op: 'exists' },
      ],
    }),
    (text) => {
      roundTrips(text);
      expect(text).toContain('"records_out":2');
    },
  ],
  [
    'map_fields',
    () => ({
      records: hostileList(),
      copy: [{ from: '__proto__.polluted', to: 'prototype.copied' }],
      set: [
        { field: '__proto__.polluted', value: 'set' },
        { field: ['constructor', 'prototype', 'polluted'], value: 'set' },
      ],
    }),
    (text) => {
      expect(text).toContain('"__proto__":{"polluted":"set","isAdmin":true}');
      expect(text).toContain('"constructor":{"prototype":{"polluted":"set"}}');
      expect(text).toContain('"prototype":{"polluted":"yes","copied":"yes"}');
    },
  ],
  [
    'map_fields',
    () => ({
      records: hostileList(),
      rename: [
        { from: '__proto__', to: 'constructor' },
        { from: 'constructor', to: '__proto__' },
      ],
    }),
    (text) => {
      expect(text).toContain(
        '"constructor":{"polluted":"yes","isAdmin":true},"__proto__":{"prototype":{"polluted":"yes"}}',
      );
    },
  ],
  [
    'sort_records',
    () => ({
      records: hostileList(),
      by: [{ field: '__proto__.polluted' }, { field: 'id', order: 'desc' }],
    }),
    roundTrips,
  ],
  [
    'aggregate',
    () => ({
      records: hostileList(),
      group_by: ['__proto__.polluted', 'constructor'],
      metrics: [{ op: 'count' }, { op: 'max', field: 'prototype.polluted', as: '__proto__' }],
    }),
    (text) => {
      expect(text).toContain(
        '"__proto__.polluted":"yes","constructor":{"prototype":{"polluted":"yes"}},"count":2,"__proto__":"yes"',
      );
    },
  ],
  [
    'deduplicate',
    () => ({ records: hostileList(), keys: ['__proto__', 'prototype'] }),
    (text) => {
      roundTrips(text);
      expect(text).toContain('"duplicates_removed":1');
    },
  ],
  [
    'parse_csv',
    () => ({ csv: '__proto__,constructor,prototype\npolluted,yes,1\n' }),
    (text) => {
      expect(text).toContain('{"__proto__":"polluted","constructor":"yes","prototype":"1"}');
    },
  ],
  [
    'format_csv',
    () => ({ records: hostileList() }),
    (text) => {
      expect(text).toContain('id,__proto__,constructor,prototype');
    },
  ],
];

function roundTrips(text: string): void {
  for (const key of KEYS) expect(text).toContain(key);
}

describe('prototype pollution through every data operation', () => {
  const kit = dataKit();
  const snapshot = {
    object: Object.getOwnPropertyNames(Object.prototype).sort(),
    array: Object.getOwnPropertyNames(Array.prototype).sort(),
    objectProto: Object.getPrototypeOf({}),
  };

  it.each(cases)(
    '%s keeps hostile keys as data and pollutes nothing',
    async (component, input, check) => {
      const outcome = await kit.call(component, input());
      expect(outcome.ok).toBe(true);
      if (!outcome.ok) return;
      check(JSON.stringify(outcome.output));
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(snapshot.object);
      expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(snapshot.array);
      expect(Object.getPrototypeOf({})).toBe(snapshot.objectProto);
    },
  );

  it('reports errors on hostile fields without crashing, naming records[i].__proto__', async () => {
    const outcome = await kit.call('sort_records', {
      records: hostileList(),
      by: [{ field: '__proto__' }],
    });
    expect(outcome).toMatchObject({
      ok: true,
      output: {
        errors: [{ path: 'records[0].__proto__' }, { path: 'records[1].__proto__' }],
        stats: { records_in: 2, records_out: 0, records_errored: 2 },
      },
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
