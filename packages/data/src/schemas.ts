import { z } from '@stepflow-packs/core';
import { isObject, type Fields } from './records.js';
import { recordIssue } from './record-errors.js';

/**
 * A JSON object passed through untouched. (zod's record/object parsers rebuild objects and
 * silently drop a `__proto__` key; this schema keeps the parsed value as it arrived.)
 */
export const jsonObject = (description: string) =>
  z
    .custom<Fields>(isObject, { message: 'expected an object' })
    .meta({ type: 'object' })
    .describe(description);

/** Any JSON value, including null (but not absent). */
export const jsonValue = (description: string) =>
  z
    .custom<unknown>((value) => value !== undefined, { message: 'a value is required' })
    .describe(description);

export const records = z.array(jsonObject('A record')).describe('The records (JSON objects)');

export const fieldRef = z
  .union([z.string().min(1).max(1024), z.array(z.string().max(1024)).min(1).max(32)])
  .describe(
    'A field: "name", or a dot path into nested objects and arrays ("address.city", "tags.0"); use an array of segments (["a.b"]) for keys that contain dots',
  );

export const errors = z
  .array(recordIssue)
  .describe('Records left out of the result, each naming records[i].field');

export const stats = (extra: Record<string, z.ZodType> = {}) =>
  z
    .object({
      records_in: z.number().int().describe('Records received'),
      records_out: z.number().int().describe('Records in the result'),
      records_errored: z.number().int().describe('Records reported in `errors`'),
      ...extra,
    })
    .describe('Accounting: records_in = records_out + records_errored (+ any count named below)');
