import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerClient } from '../../src/client/index.js';
import { LAZY_FRAME_MIN_CHARS } from '../../src/lazy-json.js';
import { byId, execute, spawnRaw } from '../helpers/raw.js';
import { assertNoProtocolViolations, FIXTURE_BIN, start, type Mode } from '../helpers/workers.js';

assertNoProtocolViolations();

/** Enough items for a frame well over the deferral threshold. */
const COUNT = 40_000;
const items = Array.from({ length: COUNT }, (_, i) => ({ n: i % 100 }));
const expectedSum = items.reduce((a, b) => a + b.n, 0);

describe.each<[Mode]>([['stdio'], ['http-subprocess']])(
  'a lazyArray input field over %s (fixture pack, real subprocess)',
  (mode) => {
    let worker: WorkerClient;
    beforeAll(async () => {
      ({ worker } = await start(FIXTURE_BIN, mode, 'v0.11'));
    });
    afterAll(() => worker.close());

    it('reaches the component unparsed in a large request, and parsed in a small one', async () => {
      expect(JSON.stringify(items).length).toBeGreaterThan(LAZY_FRAME_MIN_CHARS);
      await expect(worker.execute('/sum_items', { tag: 'big', items })).resolves.toEqual({
        deferred: true,
        length: COUNT,
        sum: expectedSum,
        tag: 'big',
      });
      await expect(worker.execute('/sum_items', { items: items.slice(0, 10) })).resolves.toEqual({
        deferred: false,
        length: 10,
        sum: 45,
      });
    });

    it('is parsed in full for a component whose field of the same name is a plain array', async () => {
      await expect(worker.execute('/count_items', { items })).resolves.toEqual({
        is_array: true,
        length: COUNT,
      });
    });

    it('answers -32003 naming an invalid element found while reading, then keeps serving', async () => {
      const bad: unknown[] = [...items];
      bad[31_000] = { n: 'seven' };
      await expect(worker.execute('/sum_items', { items: bad })).rejects.toMatchObject({
        code: -32003,
        message: expect.stringMatching(/^input\.items\[31000\]: /),
      });
      await expect(worker.execute('/sum_items', { items })).resolves.toMatchObject({
        sum: expectedSum,
      });
    });
  },
);

describe('a syntax error inside a deferred array (raw stdio)', () => {
  it('is answered with -32700 for that request id, and the server keeps serving', async () => {
    const w = spawnRaw([]);
    try {
      const good = JSON.stringify(execute(1, '/sum_items', { items }));
      // Element 20,000 becomes `{"n":0 0}`: only the JSON.parse of its batch can notice.
      const marked = [...items] as unknown[];
      marked[20_000] = { n: 'MARK' };
      const broken = JSON.stringify(execute(1, '/sum_items', { items: marked })).replace(
        '{"n":"MARK"}',
        '{"n":0 0}',
      );
      expect(broken).toContain('{"n":0 0}');
      w.send(broken.replace('"id":1', '"id":"broken"'));
      const reply = JSON.parse(await w.waitFor(byId('broken'))) as {
        error: { code: number; message: string; data: { field: string } };
      };
      expect(reply.error.code).toBe(-32700);
      expect(reply.error.message).toMatch(
        /^Parse error: input\.items\[19456…20479\] is not valid JSON/,
      );
      expect(reply.error.data.field).toBe('input.items');
      w.send(good);
      const ok = JSON.parse(await w.waitFor(byId(1))) as { result: { output: unknown } };
      expect(ok.result.output).toEqual({ deferred: true, length: COUNT, sum: expectedSum });
    } finally {
      w.child.kill();
      await w.exit;
    }
  });
});
