import { describe, expect, it } from 'vitest';
import type { JsonRpcDialect as Dialect } from '../../src/protocol.js';
import { assertNoProtocolViolations, FIXTURE_BIN, start, type Mode } from '../helpers/workers.js';

assertNoProtocolViolations();

const cases: [Mode, Dialect, string[]][] = [
  ['stdio', 'v0.8', ['--transport', 'stdio']],
  ['stdio', 'v0.8', []], // auto: fd 0 is a socketpair from child_process
  ['http-subprocess', 'v0.11', ['--transport', 'http', '--port', '0']],
  ['http-subprocess', 'v0.11', []], // auto: stdin is /dev/null
  ['http-subprocess', 'v0.8', ['--http']],
];

describe.each(cases)(
  'the built fixture pack over %s speaking %s (args %j)',
  (mode, dialect, args) => {
    it('initializes, lists, executes and reports errors with their codes', async () => {
      const { worker } = await start(FIXTURE_BIN, mode, dialect, { args });
      try {
        const listed = await worker.list();
        expect(listed.map((c) => c.component)).toContain('/echo');
        expect(await worker.execute('/echo', { payload: { a: [1, 'é'] } })).toMatchObject({
          payload: { a: [1, 'é'] },
        });
        expect(await worker.execute('echo', { payload: 2 })).toMatchObject({ payload: 2 });
        await expect(worker.execute('/misbehave', { how: 'value_error' })).rejects.toMatchObject({
          code: -32101,
          message: 'bad value',
          data: { field: 'x' },
        });
        await expect(worker.execute('/echo', { payload: 1, delay_ms: -1 })).rejects.toMatchObject({
          code: -32003,
        });
        await expect(worker.execute('/nope', {})).rejects.toMatchObject({ code: -32001 });
        const info = await worker.info('/echo');
        expect(info).toMatchObject({ component: '/echo', input_schema: { type: 'object' } });
        const health = (await worker.execute('/health_check', null)) as Record<string, unknown>;
        expect(health).toMatchObject({ status: 'healthy', pack: 'fixture', version: '9.9.9' });
      } finally {
        await worker.close();
      }
    });

    it('answers 50 concurrent executes each with its own result', async () => {
      const { worker } = await start(FIXTURE_BIN, mode, dialect, { args });
      try {
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => worker.execute('/echo', { payload: i * 2 })),
        );
        expect(results.map((r) => (r as { payload: number }).payload)).toEqual(
          Array.from({ length: 50 }, (_, i) => i * 2),
        );
      } finally {
        await worker.close();
      }
    });
  },
);
