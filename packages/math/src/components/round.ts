import { defineComponent, z } from '@stepflow-packs/core';
import { finite } from '../finite.js';

export const round = defineComponent({
  name: 'round',
  description: 'Round to a number of decimal places (half away from zero).',
  input: z.strictObject({
    value: z.number().describe('The number to round'),
    decimals: z.number().int().min(0).max(15).default(0).describe('Decimal places to keep (0–15)'),
  }),
  output: z.object({ result: z.number().describe('The rounded number') }),
  execute({ value, decimals }) {
    const factor = 10 ** decimals;
    const scaled = Math.abs(value) * factor;
    // Correct for binary representation (1.005 * 100 = 100.49999…).
    const rounded = (Math.sign(value) * Math.round(scaled + Number.EPSILON * scaled)) / factor;
    return { result: finite(rounded, 'rounding') };
  },
});
