import { defineComponent, z } from '@stepflow-packs/core';
import { checkDepth } from '../limits.js';
import { emptyRecord, isScalar, typeName } from '../records.js';
import { jsonObject } from '../schemas.js';
import { settings } from '../settings.js';
import { titleCase } from '../text.js';

type Outcome = {
  success: boolean;
  processed_data: Record<string, unknown> | null;
  error_message: string | null;
  error_code: 'EMPTY_INPUT' | 'INVALID_TYPE' | null;
  retries_attempted: number;
  skipped_fields: { field: string; reason: string }[];
};

/**
 * The `robust_processing` contract from Stepflow's documentation. Its failures are
 * deterministic (the same input fails the same way), so they are reported as data at once
 * instead of being retried; `retries_attempted` is therefore always 0.
 */
export const robustProcessing = defineComponent({
  name: 'robust_processing',
  description:
    'Trim and title-case string values and pass numbers and booleans through; empty data or (in strict mode) non-scalar values are reported as failures in the output.',
  settings,
  input: z.strictObject({
    data: jsonObject('The object to process'),
    strict_mode: z
      .boolean()
      .default(false)
      .describe('Fail on a non-scalar value instead of skipping it'),
    max_retries: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(3)
      .describe('Accepted for compatibility; failures are deterministic and never retried'),
  }),
  output: z.object({
    success: z.boolean(),
    processed_data: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe('The processed values (null on failure)'),
    error_message: z.string().nullable().describe('Why processing failed, naming the field'),
    error_code: z.enum(['EMPTY_INPUT', 'INVALID_TYPE']).nullable(),
    retries_attempted: z
      .number()
      .int()
      .describe('Always 0: deterministic failures are not retried'),
    skipped_fields: z
      .array(z.object({ field: z.string(), reason: z.string() }))
      .describe('Non-scalar values left out (non-strict mode)'),
  }),
  execute({ data, strict_mode }, ctx): Outcome {
    checkDepth(data, ctx.config, 'data');
    const failure = (code: Outcome['error_code'], message: string): Outcome => ({
      success: false,
      processed_data: null,
      error_message: message,
      error_code: code,
      retries_attempted: 0,
      skipped_fields: [],
    });
    const keys = Object.keys(data);
    if (keys.length === 0) return failure('EMPTY_INPUT', 'data: the input object is empty');
    const processed = emptyRecord();
    const skipped: Outcome['skipped_fields'] = [];
    for (const key of keys) {
      const value = data[key];
      if (!isScalar(value)) {
        const reason = `expected a string, number or boolean, got ${typeName(value)}`;
        if (strict_mode) return failure('INVALID_TYPE', `data.${key}: ${reason}`);
        ctx.log.debug('skipping a non-scalar value', { field: key });
        skipped.push({ field: key, reason });
        continue;
      }
      processed[key] = typeof value === 'string' ? titleCase(value.trim()) : value;
    }
    return {
      success: true,
      processed_data: processed,
      error_message: null,
      error_code: null,
      retries_attempted: 0,
      skipped_fields: skipped,
    };
  },
});
