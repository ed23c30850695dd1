import { describe, expect, it } from 'vitest';
import { simulatedDelayMs } from '../src/components/distributed-processing.js';
import { dataKit, failure } from './helpers.js';

describe('distributed_processing', () => {
  const kit = dataKit();

  it('documents its simulated latency: max(100 ms, 1000 ms / priority)', () => {
    expect([1, 2, 4, 10, 50].map(simulatedDelayMs)).toEqual([1000, 500, 250, 100, 100]);
  });

  it('wraps the data with processing details after about 100 ms at priority 10', async () => {
    const started = performance.now();
    const out = await kit.execute<Record<string, unknown>>('distributed_processing', {
      task_id: 'task-1',
      data: { message: 'hello' },
      processing_mode: 'distributed',
      priority: 10,
    });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(95);
    expect(elapsed).toBeLessThan(1000);
    expect(out).toMatchObject({
      task_id: 'task-1',
      result: {
        original_data: { message: 'hello' },
        task_id: 'task-1',
        mode: 'distributed',
        priority: 10,
      },
    });
    expect(out.server_id).toBe((out.result as { processed_by: string }).processed_by);
    expect(out.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.processing_time_ms as number).toBeGreaterThanOrEqual(95);
  });

  it('answers -32100 cancelled when the request is aborted during the simulated work', async () => {
    const controller = new AbortController();
    const pending = kit.call(
      'distributed_processing',
      { task_id: 't', data: {} },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    const outcome = await pending;
    expect(performance.now() - started).toBeLessThan(500);
    expect(outcome).toMatchObject({
      ok: false,
      error: { code: -32100, data: { reason: 'cancelled' } },
    });
  });

  it('answers -32003 naming input.priority when priority is 0', async () => {
    const error = await failure(kit, 'distributed_processing', {
      task_id: 't',
      data: {},
      priority: 0,
    });
    expect(error.code).toBe(-32003);
    expect(error.message).toMatch(/^input\.priority: /);
  });
});
