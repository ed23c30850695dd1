import { z } from '@stepflow-packs/core';

export const operand = (what: string) => z.number().describe(what);

export const pair = z.strictObject({
  a: operand('First operand'),
  b: operand('Second operand'),
});

export const values = z.strictObject({
  values: z.array(z.number()).min(1).max(1_000_000).describe('Numbers to combine (at least one)'),
});
