import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ComponentError, defineComponent, z } from '@stepflow-packs/core';
import { checkDepth } from '../limits.js';
import { jsonObject } from '../schemas.js';
import { settings } from '../settings.js';

/** Simulated work time of the documentation example: max(0.1 s, 1 s / priority). */
export function simulatedDelayMs(priority: number): number {
  return Math.max(100, 1000 / priority);
}

/**
 * The `distributed_processing` HTTP example from Stepflow's documentation, including its
 * simulated latency: the call waits max(100 ms, 1000 ms / priority) before answering, so
 * priority 1 takes about 1 s and priority 10 or more about 100 ms. The wait ends early (with
 * an error) when the request is cancelled.
 */
export const distributedProcessing = defineComponent({
  name: 'distributed_processing',
  description:
    'Wrap data with processing details after a simulated, priority-based delay of max(100 ms, 1000 ms / priority).',
  settings,
  input: z.strictObject({
    task_id: z.string().min(1).max(1024).describe('Caller-chosen task identifier, echoed back'),
    data: jsonObject('The task payload'),
    processing_mode: z
      .string()
      .min(1)
      .max(256)
      .default('standard')
      .describe('Free-form mode label, echoed back'),
    priority: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(1)
      .describe('Higher is faster: the simulated work takes max(100 ms, 1000 ms / priority)'),
  }),
  output: z.object({
    task_id: z.string(),
    result: z.object({
      original_data: z.record(z.string(), z.unknown()),
      processed_by: z.string(),
      task_id: z.string(),
      mode: z.string(),
      priority: z.number().int(),
      timestamp: z.number().describe('Unix time in seconds'),
    }),
    processing_time_ms: z.number().int(),
    server_id: z.string().describe('Identifier of this server process (same as health_check)'),
    session_id: z.string().describe('A fresh UUID per call'),
  }),
  async execute({ task_id, data, processing_mode, priority }, ctx) {
    const started = performance.now();
    checkDepth(data, ctx.config, 'data');
    const result = {
      original_data: data,
      processed_by: ctx.instanceId,
      task_id,
      mode: processing_mode,
      priority,
      timestamp: Date.now() / 1000,
    };
    try {
      await sleep(simulatedDelayMs(priority), undefined, { signal: ctx.signal });
    } catch {
      throw new ComponentError('The request was cancelled', { reason: 'cancelled' });
    }
    return {
      task_id,
      result,
      processing_time_ms: Math.round(performance.now() - started),
      server_id: ctx.instanceId,
      session_id: randomUUID(),
    };
  },
});
