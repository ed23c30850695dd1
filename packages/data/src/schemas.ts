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

/** `to_blob`: return the result records as a blob (for results over one message's size). */
export const toBlob = z
  .boolean()
  .default(false)
  .describe(
    'Store the result records in the blob store and return records_blob_id instead of records (for results larger than one Stepflow 0.13 message, 4 MiB)',
  );

/** The result records, absent with `to_blob`. */
export const recordsOut = (description: string) =>
  z
    .array(z.record(z.string(), z.unknown()))
    .optional()
    .describe(`${description} (absent with to_blob)`);

export const recordsBlobId = z
  .string()
  .optional()
  .describe('to_blob: id of the blob holding the result records (a JSON array)');

/** What a records-producing component says when its result is over the message limit. */
export const RECORDS_BLOB_ALTERNATIVE =
  'set to_blob: true to store the records in the blob store and return records_blob_id';
