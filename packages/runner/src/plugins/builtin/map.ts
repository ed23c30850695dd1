import { success, toFlowResult } from '../../execute/result.js';
import { isFloatMember, type Json } from '../../json/value.js';
import { builtinError, optionalUint, type Builtin } from './types.js';

export const map: Builtin = {
  name: 'map',
  description: 'Run an inline flow once per item (bounded concurrency); results in item order',
  async execute(input, host) {
    const items = input.items;
    if (!Array.isArray(items)) throw builtinError('map', 'input.items: expected a list');
    if (input.workflow === undefined || input.workflow === null)
      throw builtinError(
        'map',
        'input.workflow: an inline flow is required (write it under $literal)',
      );
    try {
      host.checkFlow(input.workflow);
    } catch (err) {
      throw builtinError('map', `input.workflow: ${(err as Error).message}`);
    }
    const limit = Math.max(1, optionalUint('map', input, 'max_concurrency') ?? items.length);
    const results: Json[] = new Array<Json>(items.length);
    let successful = 0;
    let failedCount = 0;
    let skippedCount = 0;
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const index = next++;
        const { result } = await host.runFlow(
          input.workflow!,
          items[index]!,
          isFloatMember(items, index),
        );
        if (result.outcome === 'success') successful++;
        else if (result.outcome === 'failed') failedCount++;
        else skippedCount++;
        results[index] = toFlowResult(result);
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    const output: Record<string, Json> = { results, successful, failed: failedCount };
    if (host.version === 'v0.8') output.skipped = skippedCount;
    return success(output);
  },
};
