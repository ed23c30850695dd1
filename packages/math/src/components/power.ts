import { defineComponent, z } from '@stepflow-packs/core';
import { finite } from '../finite.js';

export const power = defineComponent({
  name: 'power',
  description: 'Raise base to exponent.',
  input: z.strictObject({
    base: z.number().describe('The base'),
    exponent: z.number().describe('The exponent'),
  }),
  output: z.object({ result: z.number().describe('base ** exponent') }),
  execute({ base, exponent }) {
    return { result: finite(base ** exponent, 'exponentiation') };
  },
});
