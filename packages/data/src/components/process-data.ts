import { defineComponent, z } from '@stepflow-packs/core';
import { checkDepth, OutputBudget } from '../limits.js';
import { copyRecord } from '../records.js';
import { jsonObject } from '../schemas.js';
import { settings } from '../settings.js';
import { titleCase } from '../text.js';

const processingRules = z
  .strictObject({
    uppercase: z
      .boolean()
      .optional()
      .describe('Upper-case string values (wins over the other rules)'),
    lowercase: z.boolean().optional().describe('Lower-case string values (wins over title_case)'),
    title_case: z
      .boolean()
      .optional()
      .describe(
        'Capitalise the first letter of each word and lower-case the rest; words containing @ or :// are kept',
      ),
    fields: z
      .array(z.string())
      .max(10_000)
      .optional()
      .describe('Only transform these top-level keys (default: every string value)'),
  })
  .describe('String transformations for the top-level string values of data');

type Rules = z.output<typeof processingRules>;

function transform(value: string, rules: Rules): string {
  if (rules.uppercase) return value.toUpperCase();
  if (rules.lowercase) return value.toLowerCase();
  if (rules.title_case) return titleCase(value);
  return value;
}

/** The `process_data` contract from Stepflow's custom-component documentation. */
export const processData = defineComponent({
  name: 'process_data',
  description:
    'Transform the top-level string values of an object (uppercase > lowercase > title_case, optionally only some fields) and describe what was done.',
  settings,
  input: z.strictObject({
    data: jsonObject('The object whose top-level string values are transformed'),
    processing_rules: processingRules.nullable().optional(),
    include_metadata: z
      .boolean()
      .default(true)
      .describe('Return metadata about the processing (else metadata is {})'),
  }),
  output: z.object({
    processed_data: z
      .record(z.string(), z.unknown())
      .describe('data with the rules applied (every key kept)'),
    metadata: z
      .object({
        processed_at: z.string().optional().describe('ISO 8601 time of processing'),
        original_keys: z.array(z.string()).optional(),
        processed_keys: z.array(z.string()).optional(),
        rules_applied: z
          .unknown()
          .optional()
          .describe('The processing_rules as given ({} when none)'),
        component_version: z
          .string()
          .optional()
          .describe('Version of this component contract ("1.0.0")'),
      })
      .describe('Present when include_metadata is true, else {}'),
    processing_time_ms: z.number().int().describe('Milliseconds spent'),
  }),
  execute({ data, processing_rules, include_metadata }, ctx) {
    const started = performance.now();
    checkDepth(data, ctx.config, 'data');
    const budget = new OutputBudget(ctx.config.maxOutputBytes);
    const rules: Rules = processing_rules ?? {};
    const only = rules.fields ? new Set(rules.fields) : undefined;
    const processed = copyRecord(data);
    for (const key of Object.keys(processed)) {
      const value = processed[key];
      if (typeof value === 'string' && (!only || only.has(key)))
        processed[key] = transform(value, rules);
    }
    budget.chargeValue(processed, 'processed_data');
    const metadata = include_metadata
      ? {
          processed_at: new Date().toISOString(),
          original_keys: Object.keys(data),
          processed_keys: Object.keys(processed),
          rules_applied: processing_rules ?? {},
          component_version: '1.0.0',
        }
      : {};
    return {
      processed_data: processed,
      metadata,
      processing_time_ms: Math.round(performance.now() - started),
    };
  },
});
