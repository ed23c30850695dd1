import type { ComponentContext, JsonValue } from '@stepflow-packs/core';
import type { Fields } from './records.js';

/** The result records inline, or (with `to_blob`) stored as one blob and named by its id. */
export async function deliverRecords(
  records: Fields[],
  toBlob: boolean,
  ctx: Pick<ComponentContext, 'putBlob'>,
): Promise<{ records: Fields[] } | { records_blob_id: string }> {
  if (!toBlob) return { records };
  return { records_blob_id: await ctx.putBlob(records as JsonValue, 'data') };
}
