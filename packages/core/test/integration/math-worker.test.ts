import { describe, expect, it } from 'vitest';
import type { JsonRpcDialect as Dialect } from '../../src/protocol.js';
import { assertNoProtocolViolations, MATH_BIN, start, type Mode } from '../helpers/workers.js';

assertNoProtocolViolations();

const cases: [Mode, Dialect, string[]][] = [
  ['stdio', 'v0.8', ['--transport', 'stdio']],
  ['stdio', 'v0.8', []], // auto: fd 0 is a socketpair from child_process
  ['http-subprocess', 'v0.11', ['--transport', 'http', '--port', '0']],
  ['http-subprocess', 'v0.11', []], // auto: stdin is /dev/null
  ['http-subprocess', 'v0.8', ['--http']],
];

describe.each(cases)(
  'built stepflow-pack-math over %s speaking %s (args %j)',
  (mode, dialect, args) => {
    it('initializes, lists, executes and reports errors with their codes', async () => {
      const { worker } = await start(MATH_BIN, mode, dialect, { args });
      try {
        const listed = await worker.list();
        expect(listed.map((c) => c.component)).toContain('/calculate');
        expect(await worker.execute('/calculate', { operation: 'add', operands: [2, 3] })).toEqual({
          result: 5,
          operation_performed: '2 + 3 = 5',
        });
        expect(await worker.execute('add', { a: 1.5, b: 2 })).toEqual({ sum: 3.5 });
        await expect(worker.execute('/divide', { a: 1, b: 0 })).rejects.toMatchObject({
          code: -32101,
        });
        await expect(
          worker.execute('/calculate', { operation: 'power', operands: [1, 2, 3] }),
        ).rejects.toMatchObject({
          code: -32101,
          message: 'power needs exactly 2 operands (base, exponent), got 3',
        });
        await expect(
          worker.execute('/calculate', { operation: 'modulo', operands: [1] }),
        ).rejects.toMatchObject({ code: -32003 });
        await expect(worker.execute('/nope', {})).rejects.toMatchObject({ code: -32001 });
        const info = await worker.info('/sqrt');
        expect(info).toMatchObject({ component: '/sqrt', input_schema: { type: 'object' } });
        const health = (await worker.execute('/health_check', null)) as Record<string, unknown>;
        expect(health).toMatchObject({ status: 'healthy', pack: 'math' });
      } finally {
        await worker.close();
      }
    });

    it('answers 50 concurrent executes each with its own result', async () => {
      const { worker } = await start(MATH_BIN, mode, dialect, { args });
      try {
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => worker.execute('/multiply', { a: i, b: 2 })),
        );
        expect(results).toEqual(Array.from({ length: 50 }, (_, i) => ({ product: i * 2 })));
      } finally {
        await worker.close();
      }
    });
  },
);
